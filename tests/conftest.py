"""Fixtures of the top-level tests; tests/run sets the ISP_* variables."""

import os

import pytest


@pytest.fixture(scope="session")
def isp_test_db():
    """The database tests/run has just built (all add-ons, demo data)."""
    db = os.environ.get("ISP_TEST_DB")
    if not db:
        pytest.fail(
            "ISP_TEST_DB is not set: run these tests through tests/run, which "
            "builds the database they use"
        )
    return db


@pytest.fixture(scope="session")
def odoo_registry(isp_test_db):
    """Odoo as a library on the test database: real cursors that commit, as the
    cron workers and HTTP workers of a deployment have."""
    import odoo  # noqa: PLC0415 - only once tests/run made sure Odoo is there
    from odoo.modules.registry import Registry  # noqa: PLC0415

    import harness  # noqa: PLC0415

    odoo.tools.config.parse_config(
        [
            "--addons-path",
            harness.addons_path(),
            "--data-dir",
            harness.data_dir(),
            "--database",
            isp_test_db,
            "--log-level",
            "warn",
        ]
    )
    return Registry(isp_test_db)
