"""The stored MRR ledger with real, committing transactions: two workers log
events for different subscriptions of the same company and month at the same
time (both transactions open together, then both commit). Neither update may
be lost: the ledger equals the event log replayed, for both subscriptions."""

import threading
import uuid
from datetime import date

import pytest

PRICE = 1500.0
START = date(2026, 11, 3)


@pytest.fixture()
def drafts(env_factory):
    """A company of its own, a plan and two draft subscriptions, committed."""
    env = env_factory()
    tag = uuid.uuid4().hex[:6]
    company = env["res.company"].create({"name": f"MRR ledger race {tag}"})
    env = env(context={"allowed_company_ids": [company.id], "lang": "en_US"})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    plan = (
        env["product.product"]
        .with_company(company)
        .create(
            {
                "name": f"Ledger race plan {tag}",
                "type": "service",
                "list_price": PRICE,
                "taxes_id": [(6, 0, [])],
                "isp_is_plan": True,
                "company_id": company.id,
            }
        )
    )
    partners = env["res.partner"].create(
        [{"name": f"Ledger race subscriber {tag} {i}"} for i in range(2)]
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
    env.cr.commit()
    yield company.id, subs.ids
    # leave nothing to bill behind for the other tests
    env.cr.rollback()
    env["isp.subscription"].browse(subs.ids).write(
        {"billing_exception": True, "billing_exception_reason": "test data"}
    )
    env.cr.commit()


def activate(env_factory, company_id, sub_id, barriers, results, name):
    env = env_factory()
    env = env(context={"allowed_company_ids": [company_id], "lang": "en_US"})
    try:
        barriers[0].wait(timeout=60)
        env["isp.subscription"].browse(sub_id).action_activate()
        env.flush_all()
        # both transactions have logged their event and refreshed the ledger,
        # neither has committed
        barriers[1].wait(timeout=60)
        env.cr.commit()
        results[name] = "ok"
    except Exception as error:  # noqa: BLE001 - reported by the test
        env.cr.rollback()
        results[name] = repr(error)


def test_two_events_at_once_keep_both_in_the_ledger(env_factory, drafts):
    company_id, sub_ids = drafts
    barriers = (threading.Barrier(2), threading.Barrier(2))
    results = {}
    workers = [
        threading.Thread(
            target=activate,
            args=(env_factory, company_id, sub_id, barriers, results, name),
        )
        for name, sub_id in zip("ab", sub_ids, strict=True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert results == {"a": "ok", "b": "ok"}

    env = env_factory()
    env = env(context={"allowed_company_ids": [company_id], "lang": "en_US"})
    stored, replayed = env["isp.mrr.ledger"]._compare_with_log(sub_ids)
    assert (stored, replayed) == (set(), set())
    # each subscription's new MRR is in the ledger, in its event's month
    events = env["isp.subscription.event"].search([("subscription_id", "in", sub_ids)])
    assert events.mapped("mrr_movement") == ["new", "new"]
    day = events[0].event_date
    env.cr.execute(
        """SELECT subscription_id, new_mrr, mrr_end FROM isp_mrr_ledger
            WHERE subscription_id = ANY(%s) AND month = %s""",
        [sub_ids, day.replace(day=1)],
    )
    assert sorted(env.cr.fetchall()) == [(sub_id, PRICE, PRICE) for sub_id in sub_ids]
    # and the month's MRR of the company, as the dashboard reads it
    by_month = env["isp.report.mrr"]._compute_mrr_by_month(day, day, [company_id])
    assert [values["new"] for values in by_month.values()] == [2 * PRICE]
    assert [values["mrr_end"] for values in by_month.values()] == [2 * PRICE]
