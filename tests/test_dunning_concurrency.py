"""The dunning ladder with real, committing transactions: two workers run it
at the same time over the same overdue invoices, as two Odoo cron workers
would. Every step must run once per invoice: one log row per (invoice, step),
one SMS, one suspension."""

import threading
import uuid
from datetime import date, timedelta

import pytest

PRICE = 1500.0
START = date(2026, 11, 1)
N_SUBS = 30


@pytest.fixture()
def overdue(env_factory):
    """A company of its own (its own default ladder), N_SUBS subscriptions with
    one posted invoice each, due on START, committed."""
    env = env_factory()
    tag = uuid.uuid4().hex[:6]
    company = env["res.company"].create({"name": f"Dunning race {tag}"})
    env = env(context={"allowed_company_ids": [company.id], "lang": "en_US"})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    assert env["isp.dunning.step"].search_count([("company_id", "=", company.id)]) == 5
    plan = (
        env["product.product"]
        .with_company(company)
        .create(
            {
                "name": f"Race plan {tag}",
                "type": "service",
                "list_price": PRICE,
                "taxes_id": [(6, 0, [])],
                "isp_is_plan": True,
                "company_id": company.id,
            }
        )
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Race subscriber {tag} {i}",
                "mobile": f"+2547{i:08d}",
                "email": f"race{i}@example.com",
            }
            for i in range(N_SUBS)
        ]
    )
    subs = env["isp.subscription"].create(
        [
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "date_start": START,
                "billing_anchor_date": START,
                "tz": "UTC",
                "line_ids": [(0, 0, {"product_id": plan.id})],
            }
            for partner in partners
        ]
    )
    subs.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(today=START)
    env.cr.commit()
    due = (
        env["account.move"]
        .search(
            [
                ("isp_subscription_ids", "in", subs.ids),
                ("move_type", "=", "out_invoice"),
            ]
        )
        .mapped("invoice_date_due")
    )
    assert len(set(due)) == 1
    # the ladder runs a week after the due date: steps -3, 0, +3, +7 are due
    yield company.id, subs.ids, partners.ids, due[0] + timedelta(days=7)
    # Leave nothing due behind for the other tests (a fresh transaction: the
    # workers changed these rows).
    env.cr.rollback()
    subs = env["isp.subscription"].browse(subs.ids)
    subs.write({"billing_exception": True, "billing_exception_reason": "test data"})
    env["isp.dunning.step"].search([("company_id", "=", company.id)]).active = False
    env.cr.commit()


def run_worker(env_factory, company_id, day, barrier, results, name):
    env = env_factory()
    env = env(context={"allowed_company_ids": [company_id], "lang": "en_US"})
    barrier.wait()
    try:
        env["isp.dunning.step"]._cron_dunning(today=day, batch_size=7)
        env.cr.commit()
        results[name] = "ok"
    except Exception as error:  # noqa: BLE001 - reported by the test
        env.cr.rollback()
        results[name] = repr(error)


def test_two_workers_run_each_step_once(env_factory, overdue):
    company_id, sub_ids, partner_ids, day = overdue
    barrier = threading.Barrier(2)
    results = {}
    workers = [
        threading.Thread(
            target=run_worker,
            args=(env_factory, company_id, day, barrier, results, n),
        )
        for n in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert results == {"a": "ok", "b": "ok"}

    env = env_factory()
    env = env(context={"allowed_company_ids": [company_id], "lang": "en_US"})
    # A worker that met the other's invoices stops; the next run finishes.
    env["isp.dunning.step"]._cron_dunning(today=day)
    env.cr.commit()

    invoices = env["account.move"].search(
        [("isp_subscription_ids", "in", sub_ids), ("move_type", "=", "out_invoice")]
    )
    assert len(invoices) == N_SUBS
    assert set(invoices.mapped("amount_total")) == {PRICE}
    env.cr.execute(
        """SELECT invoice_id, count(*), count(DISTINCT step_id)
             FROM isp_dunning_log WHERE invoice_id = ANY(%s) GROUP BY invoice_id""",
        [invoices.ids],
    )
    # due -3, due, +3, +7: four steps per invoice, each once
    assert {row[0]: (row[1], row[2]) for row in env.cr.fetchall()} == {
        inv: (4, 4) for inv in invoices.ids
    }
    sms = env["sms.sms"].search([("partner_id", "in", partner_ids)])
    assert len(sms) == N_SUBS, "one SMS per invoice: only the latest step speaks"
    assert len(set(sms.mapped("partner_id").ids)) == N_SUBS
    subs = env["isp.subscription"].browse(sub_ids)
    assert set(subs.mapped("state")) == {"suspended"}
    env.cr.execute(
        """SELECT subscription_id, count(*) FROM isp_subscription_event
            WHERE subscription_id = ANY(%s) AND event_type = 'suspension'
            GROUP BY subscription_id""",
        [sub_ids],
    )
    assert dict(env.cr.fetchall()) == {sub_id: 1 for sub_id in sub_ids}
