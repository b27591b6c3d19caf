"""The analytics benchmark's generator and figures, at a tiny size, so that
they cannot rot unseen: ``tests/bench/analytics_data.py`` writes 50
subscribers with 3 months of history into a company of its own on the test
database (in one transaction, rolled back at the end); the book keeps its
invariants (balanced moves, residuals matching the reconciliations, the MRR
identity), Odoo recomputes the same stored values, and every figure of
``tests/bench/analytics_figures.py`` (the product's computation, as an ISP
manager) equals its hand-written SQL aggregate."""

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))

import analytics_data  # noqa: E402
import analytics_figures  # noqa: E402

N = 50
MONTHS = 3


@pytest.fixture(scope="module")
def book(odoo_registry):
    """The tiny book, written in one transaction that is rolled back."""
    import odoo  # noqa: PLC0415

    cr = odoo_registry.cursor()
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
    today = date.today()
    cfg = analytics_data.setup_book(env, today, name="Analytics bench (test)")
    manager = env["res.users"].create(
        {
            "name": "Analytics bench manager (test)",
            "login": "analytics.manager.test",
            "company_id": cfg["company_id"],
            "company_ids": [(6, 0, [cfg["company_id"]])],
            "groups_id": [(4, env.ref("isp_billing.group_isp_manager").id)],
        }
    )
    env.flush_all()
    counts = analytics_data.generate(
        cr, cfg, N, MONTHS, today, chunk=20, commit=None, say=lambda message: None
    )
    env.invalidate_all()
    manager_env = env(
        user=manager.id,
        context={"allowed_company_ids": [cfg["company_id"]], "lang": "en_US"},
    )
    ctx = analytics_figures.Context(
        env=manager_env, cr=cr, company_id=cfg["company_id"], today=today
    )
    yield cfg, counts, ctx
    cr.rollback()
    cr.close()


def test_generator_writes_every_kind_of_row(book):
    cfg, counts, ctx = book
    # chunks of 20: three transactions' worth, returning customers included
    assert counts["subscriptions"] >= N
    for key in ("events", "invoices", "credit_notes", "payments", "partials"):
        assert counts[key] > 0, key
    states = dict(
        ctx.rows(
            "SELECT state, count(*) FROM isp_subscription WHERE company_id = %(c)s"
            " GROUP BY 1"
        )
    )
    assert set(states) == {"draft", "active", "suspended", "terminated"}, states
    kinds = {
        kind
        for (kind,) in ctx.rows(
            "SELECT DISTINCT payment_state FROM account_move"
            " WHERE company_id = %(c)s AND move_type = 'out_invoice'"
        )
    }
    assert {"paid", "partial", "not_paid"} <= kinds, kinds


def test_generator_keeps_the_invariants(book):
    cfg, counts, ctx = book
    broken = analytics_data.check_invariants(ctx.cr, cfg, MONTHS, ctx.today)
    assert broken == dict.fromkeys(analytics_data.INVARIANTS, 0)


def test_odoo_computes_the_same_stored_values(book):
    """The stored values the generator wrote (residuals, payment states,
    totals, the subscriptions' MRR...) are those Odoo computes."""
    cfg, counts, ctx = book
    mismatches = analytics_data.odoo_recompute_mismatches(ctx.env(su=True), cfg)
    assert mismatches == dict.fromkeys(mismatches, 0)


@pytest.mark.parametrize(
    "figure",
    [*analytics_figures.FIGURES, analytics_figures.WHOLE_DASHBOARD],
    ids=lambda figure: figure.name,
)
def test_figure_equals_its_sql(book, figure):
    cfg, counts, ctx = book
    product, sql, equal = analytics_figures.compare(figure, ctx)
    assert equal, analytics_figures.differences(product, sql)
    assert product, "an empty figure proves nothing"
