"""End to end, with committing transactions as in production: Odoo provisions a
subscriber into the real FreeRADIUS after its commit, the subscriber logs in
through the NAS simulator and transfers data, the month closes and the invoice
bills the overage; then the subscriber is suspended, disconnected, and logs in
again into the walled garden."""

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from odoo import fields

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

GB = 10**9
COA_SECRET = harness.E2E_COA_SECRET


def test_subscriber_life_through_freeradius(radius_env, nas):
    env = radius_env
    company = env.ref("base.main_company")
    company.write(
        {
            "isp_radius_dsn": os.environ["ISP_RADIUS_DSN"],
            "isp_radius_suspend_policy": "walled_garden",
            "isp_radius_garden_mbps": 0.25,
        }
    )
    nas_vals = {
        "name": "E2E NAS",
        "ip_address": "127.0.0.1",
        "secret": COA_SECRET,
        "nas_type": "other",
        "coa_port": nas.coa_port,
        "company_id": company.id,
    }
    nas_record = env["isp.radius.nas"].search(
        [("ip_address", "=", "127.0.0.1"), ("company_id", "=", company.id)]
    )
    if nas_record:
        nas_record.write(nas_vals)
    else:
        nas_record = env["isp.radius.nas"].create(nas_vals)
    overage = env["product.product"].create(
        {
            "name": "E2E extra GB",
            "type": "service",
            "list_price": 100.0,
            "taxes_id": [(6, 0, [])],
        }
    )
    plan = env["product.product"].create(
        {
            "name": "E2E 5 GB",
            "type": "service",
            "list_price": 1500.0,
            "taxes_id": [(6, 0, [])],
            "isp_is_plan": True,
            "isp_download_mbps": 20,
            "isp_upload_mbps": 10,
            "isp_data_unlimited": False,
            "isp_data_allowance_gb": 5.0,
            "isp_usage_policy": "overage",
            "isp_overage_product_id": overage.id,
            "isp_overage_block_gb": 1.0,
        }
    )
    partner = env["res.partner"].create({"name": "E2E subscriber"})
    today = fields.Date.today()
    sub = env["isp.subscription"].create(
        {
            "partner_id": partner.id,
            "company_id": company.id,
            "date_start": today - timedelta(days=2),
            "tz": "UTC",
            "radius_username": f"e2e{uuid.uuid4().hex[:10]}",
            "line_ids": [(0, 0, {"product_id": plan.id})],
        }
    )
    sub.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(today=sub.date_start)
    env.cr.commit()  # the push to FreeRADIUS runs after this commit

    sub.invalidate_recordset()
    assert sub.radius_sync_state == "synced", sub.radius_sync_error
    session = nas.login(sub.radius_username, sub.radius_password)
    assert session.rate == "10M/20M"
    # 4 GB, then 3.25 GB more, in interim updates, then the subscriber logs off.
    nas.transfer(sub.radius_username, 2 * GB, 2 * GB)
    nas.transfer(sub.radius_username, 1 * GB, 2_250_000_000)
    nas.logout(sub.radius_username)

    env["isp.subscription"]._cron_radius_import()
    env.cr.commit()
    used = sum(
        env["isp.radius.usage"]
        .search([("subscription_id", "=", sub.id)])
        .mapped("total_gb")
    )
    assert round(used, 3) == 7.25

    # The month closes: the next invoice bills the plan in advance and the
    # overage in arrears: 1500 + 3 blocks (2.25 GB over 5) x 100 = 1800.
    env["isp.subscription"]._cron_bill_subscriptions(today=sub.next_invoice_date)
    env.cr.commit()
    invoice = sub.invoice_line_ids.move_id.sorted("id")[-1]
    assert invoice.amount_total == 1800.0
    assert sub.period_ids.sorted("date_start")[-1].move_id == invoice

    # Suspended: disconnected after the commit, then only the walled garden.
    session = nas.login(sub.radius_username, sub.radius_password)
    sub.action_suspend("E2E unpaid")
    env.cr.commit()
    assert harness.wait_for(lambda: any(r.kind == "disconnect" for r in nas.received))
    assert harness.wait_for(lambda: session.session_id not in nas.sessions)
    session = nas.login(sub.radius_username, sub.radius_password)
    assert session.rate == "0.25M/0.25M"
    nas.logout(sub.radius_username)
    sub.invalidate_recordset()
    assert "Disconnect-Request to E2E NAS" in " ".join(sub.message_ids.mapped("body"))

    # Leave the database as found: terminated (rows removed after the commit).
    sub.action_terminate(today, "E2E done", credit=False)
    env.cr.commit()
    company.isp_radius_dsn = False
    nas_record.unlink()
    env.cr.commit()
