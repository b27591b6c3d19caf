"""Exactly-once billing with real, committing database transactions.

Two workers run the billing job at the same time on the same subscriptions, each
in its own PostgreSQL transaction, as two Odoo cron workers would. Every period
must be billed exactly once.
"""

import threading
from datetime import date

import pytest

PRICE = 1234.0
START = date(2025, 1, 1)  # before the demo data: only our subscriptions are due
N_SUBS = 40


@pytest.fixture()
def subscriptions(env_factory):
    """N_SUBS active subscriptions, committed, due on START."""
    env = env_factory()
    company = env.ref("base.main_company")
    plan = env["product.product"].create(
        {
            "name": "Concurrency plan",
            "type": "service",
            "list_price": PRICE,
            "taxes_id": [(6, 0, [])],
            "isp_is_plan": True,
        }
    )
    partners = env["res.partner"].create(
        [{"name": f"Concurrent subscriber {i}"} for i in range(N_SUBS)]
    )
    subs = env["isp.subscription"].create(
        [
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "date_start": START,
                "tz": "UTC",
                "line_ids": [(0, 0, {"product_id": plan.id})],
            }
            for partner in partners
        ]
    )
    subs.action_activate()
    env.cr.commit()
    yield subs.ids
    # Leave nothing due behind for the other tests.
    subs = env["isp.subscription"].browse(subs.ids)
    subs.write({"billing_exception": True, "billing_exception_reason": "test data"})
    env.cr.commit()


def run_worker(env_factory, barrier, results, name):
    env = env_factory()
    barrier.wait()
    try:
        env["isp.subscription"]._cron_bill_subscriptions(batch_size=5, today=START)
        env.cr.commit()
        results[name] = "ok"
    except Exception as error:  # noqa: BLE001 - reported by the test
        env.cr.rollback()
        results[name] = repr(error)


def test_two_workers_bill_each_period_exactly_once(env_factory, subscriptions):
    barrier = threading.Barrier(2)
    results = {}
    workers = [
        threading.Thread(target=run_worker, args=(env_factory, barrier, results, n))
        for n in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert results == {"a": "ok", "b": "ok"}

    env = env_factory()
    # A worker that met the other's rows stops early and leaves them to the next
    # run: the cron runner calls again. Run once more to finish, as it would.
    env["isp.subscription"]._cron_bill_subscriptions(batch_size=5, today=START)
    env.cr.commit()

    env.cr.execute(
        """SELECT subscription_id, count(*) FROM isp_subscription_period
           WHERE subscription_id = ANY(%s) GROUP BY subscription_id""",
        [subscriptions],
    )
    periods = dict(env.cr.fetchall())
    assert periods == {sub_id: 1 for sub_id in subscriptions}
    env.cr.execute(
        """SELECT l.isp_subscription_id, count(DISTINCT l.move_id), sum(m.amount_total)
           FROM account_move_line l JOIN account_move m ON m.id = l.move_id
           WHERE l.isp_subscription_id = ANY(%s) AND l.display_type = 'product'
           GROUP BY l.isp_subscription_id""",
        [subscriptions],
    )
    invoices = {row[0]: (row[1], float(row[2])) for row in env.cr.fetchall()}
    # One posted invoice of 1234.00 per subscription, no more.
    assert invoices == {sub_id: (1, PRICE) for sub_id in subscriptions}
    env.cr.execute(
        "SELECT count(*) FROM account_move WHERE state = 'posted' AND id IN "
        "(SELECT move_id FROM isp_subscription_period WHERE subscription_id = ANY(%s))",
        [subscriptions],
    )
    assert env.cr.fetchone()[0] == N_SUBS
