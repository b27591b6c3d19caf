"""Collections end to end, with real commits, the real FreeRADIUS and the NAS
simulator: the dunning ladder suspends an unpaid subscriber, FreeRADIUS
refuses them and the NAS gets the Disconnect; the invoice is paid, the
subscription comes back by itself and the subscriber logs in at full speed."""

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from odoo import fields

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import nas_simulator  # noqa: E402

COA_SECRET = harness.E2E_COA_SECRET


def test_ladder_suspends_through_radius_and_payment_reconnects(radius_env, nas):
    env = radius_env
    tag = uuid.uuid4().hex[:6]
    # A company of its own: its ladder must not touch the demo data.
    company = env["res.company"].create({"name": f"Collections ISP {tag}"})
    env = env(context={"allowed_company_ids": [company.id], "lang": "en_US"})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    company.write(
        {
            "isp_radius_dsn": os.environ["ISP_RADIUS_DSN"],
            "isp_radius_suspend_policy": "reject",
        }
    )
    nas_record = env["isp.radius.nas"].create(
        {
            "name": f"Collections NAS {tag}",
            "ip_address": "127.0.0.1",
            "secret": COA_SECRET,
            "nas_type": "other",
            "coa_port": nas.coa_port,
            "company_id": company.id,
        }
    )
    plan = (
        env["product.product"]
        .with_company(company)
        .create(
            {
                "name": f"Collections 20 Mbps {tag}",
                "type": "service",
                "list_price": 2500.0,
                "taxes_id": [(6, 0, [])],
                "isp_is_plan": True,
                "isp_download_mbps": 20,
                "isp_upload_mbps": 10,
                "company_id": company.id,
            }
        )
    )
    partner = env["res.partner"].create(
        {"name": f"Collections subscriber {tag}", "mobile": "+254722000123"}
    )
    today = fields.Date.today()
    sub = env["isp.subscription"].create(
        {
            "partner_id": partner.id,
            "company_id": company.id,
            "date_start": today,
            "billing_anchor_date": today,
            "tz": "UTC",
            "radius_username": f"col{uuid.uuid4().hex[:10]}",
            "line_ids": [(0, 0, {"product_id": plan.id})],
        }
    )
    sub.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(today=today)
    env.cr.commit()  # provisioned into FreeRADIUS after this commit
    invoice = sub.invoice_line_ids.move_id
    assert invoice.amount_total == 2500.0
    due = invoice.invoice_date_due
    sub.invalidate_recordset()
    assert sub.radius_sync_state == "synced", sub.radius_sync_error

    try:
        session = nas.login(sub.radius_username, sub.radius_password)
        assert session.rate == "10M/20M"

        # A week after the due date: the ladder suspends (steps -3, 0, +3 passed).
        env["isp.dunning.step"]._cron_dunning(today=due + timedelta(days=7))
        env.cr.commit()
        sub.invalidate_recordset()
        assert sub.state == "suspended"
        assert sub.suspension_kind == "nonpayment"
        assert harness.wait_for(
            lambda: any(r.kind == "disconnect" for r in nas.received)
        )
        assert harness.wait_for(lambda: session.session_id not in nas.sessions)
        with pytest.raises(nas_simulator.LoginRejected):
            nas.login(sub.radius_username, sub.radius_password)
        sms = env["sms.sms"].search([("partner_id", "=", partner.id)])
        assert len(sms) == 1 and "suspended" in sms.body

        # Paid: reconnected by itself, the NAS drops the session so the next
        # login gets the full plan again.
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 2500.0})._create_payments()
        env.cr.commit()
        sub.invalidate_recordset()
        assert sub.state == "active"
        assert sub.state_reason == "Overdue invoices paid"
        sub.invalidate_recordset()
        assert sub.radius_sync_state == "synced", sub.radius_sync_error
        session = nas.login(sub.radius_username, sub.radius_password)
        assert session.rate == "10M/20M"
    finally:
        # Leave nothing behind: terminated (rows removed after the commit).
        sub.action_terminate(today, "E2E done", credit=False)
        env["isp.dunning.step"].search([("company_id", "=", company.id)]).active = False
        env.cr.commit()
        company.isp_radius_dsn = False
        nas_record.unlink()
        env.cr.commit()
