"""Fixtures of the top-level tests; tests/run sets the ISP_* variables."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def isp_test_db():
    """The database tests/run has just built (all add-ons, demo data)."""
    db = os.environ.get("ISP_TEST_DB")
    if not db and os.environ.get("ISP_PYTEST_PART") == "concurrent":
        pytest.fail(
            "this test needs the test database, which tests/run is still "
            "building while CONCURRENT_TESTS run: take its module out of "
            "CONCURRENT_TESTS in tests/run"
        )
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


@pytest.fixture()
def radius_env(odoo_registry):
    """A superuser environment on a real cursor (commits are real), for tests
    that need isp_radius and the FreeRADIUS tests/run started."""
    import odoo  # noqa: PLC0415

    if not os.environ.get("ISP_RADIUS_DSN"):
        pytest.fail("ISP_RADIUS_DSN is not set: run this test through tests/run")
    if "isp.radius.nas" not in odoo_registry:
        pytest.fail("isp_radius is not installed in the test database")
    cr = odoo_registry.cursor()
    yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
    cr.rollback()
    cr.close()


@pytest.fixture()
def nas():
    """The NAS simulator (CoA / Disconnect server, RADIUS client)."""
    import harness  # noqa: PLC0415
    import nas_simulator  # noqa: PLC0415

    simulator = nas_simulator.NasSimulator(coa_secret=harness.E2E_COA_SECRET)
    simulator.run_in_thread()
    yield simulator
    simulator.stop()


@pytest.fixture()
def env_factory(odoo_registry):
    """Superuser environments on real cursors (commits are real), one per
    call, as separate workers would have."""
    import odoo  # noqa: PLC0415

    cursors = []

    def make():
        cr = odoo_registry.cursor()
        cursors.append(cr)
        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})

    yield make
    for cr in cursors:
        cr.close()


@pytest.fixture(scope="module")
def odoo_http(isp_test_db, tmp_path_factory, request):
    """Base URL of an Odoo serving the test database over real HTTP (threaded,
    no cron worker), started for the test module and stopped after it; its
    log is ``<module>.log`` in the run's log directory."""
    import harness  # noqa: PLC0415

    name = request.module.__name__.rsplit(".", 1)[-1]
    log_dir = Path(os.environ.get("ISP_LOG_DIR") or tmp_path_factory.mktemp(name))
    try:
        with harness.odoo_http_server(isp_test_db, log_dir / f"{name}.log") as url:
            yield url
    except harness.HarnessError as error:
        pytest.fail(str(error))
