"""The quick-start database: demo data shows a living ISP, and invoices render to
real PDFs with wkhtmltopdf (Odoo only renders HTML inside its own test runner)."""

import odoo


def test_demo_subscriptions_in_every_state(odoo_registry):
    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        subs = env["isp.subscription"].search([])
        states = set(subs.mapped("state"))
        assert states == {"draft", "active", "suspended", "terminated"}
        plans = subs.mapped("plan_id")
        assert len(plans) >= 3
        billed = subs.filtered(lambda s: s.state in ("active", "suspended"))
        # Every running subscription has been billed up to today by the demo run.
        assert all(sub.period_ids for sub in billed)
        assert all(len(sub.account_number) == 9 for sub in subs)
        if "isp.radius.nas" in odoo_registry:
            # isp_radius installed after the demo: its hook gave credentials.
            assert all(sub.radius_username for sub in subs)
            assert all(len(sub.radius_password) == 12 for sub in subs)


def test_invoice_pdf_rendered_by_wkhtmltopdf(odoo_registry):
    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        move = env["account.move"].search(
            [("isp_subscription_ids", "!=", False), ("state", "=", "posted")],
            limit=1,
        )
        assert move, "the demo data has no subscription invoice"
        pdf, kind = env["ir.actions.report"]._render_qweb_pdf(
            "account.account_invoices", move.ids
        )
        assert kind == "pdf"
        assert pdf.startswith(b"%PDF")
        html, __ = env["ir.actions.report"]._render_qweb_html(
            "account.account_invoices", move.ids
        )
        assert move.isp_account_numbers.encode() in html
        cr.rollback()
