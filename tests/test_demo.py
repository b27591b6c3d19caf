"""The quick-start database: demo data shows a living ISP, and invoices render to
real PDFs with wkhtmltopdf (Odoo only renders HTML inside its own test runner)."""

import pytest

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


def test_demo_sales_path(odoo_registry):
    """isp_sale's demo: leads covered, not covered and of an unknown address;
    the covered quotation confirms into a draft subscription, the one in
    Nakuru is refused (rolled back: the demo stays as built)."""
    if "isp.coverage.area" not in odoo_registry:
        return
    from odoo.exceptions import UserError  # noqa: PLC0415

    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        coverage = {
            xmlid: (lead.isp_coverage_state, lead.isp_coverage_area_id.name or None)
            for xmlid in (
                "crm_lead_mwangi_demo",
                "crm_lead_odhiambo_demo",
                "crm_lead_chebet_demo",
                "crm_lead_rift_valley_demo",
                "crm_lead_halima_demo",
            )
            for lead in [env.ref(f"isp_sale.{xmlid}")]
        }
        assert coverage == {
            "crm_lead_mwangi_demo": ("covered", "Nairobi fibre"),
            "crm_lead_odhiambo_demo": ("covered", "Mombasa fixed wireless"),
            "crm_lead_chebet_demo": ("not_covered", None),
            "crm_lead_rift_valley_demo": ("not_covered", None),
            "crm_lead_halima_demo": ("unknown", None),
        }
        refused = env.ref("isp_sale.sale_order_rift_valley_demo")
        assert refused.state == "draft"
        with pytest.raises(UserError, match="outside the coverage areas"):
            refused.action_confirm()
        order = env.ref("isp_sale.sale_order_mwangi_demo")
        assert order.state == "draft"
        assert order.opportunity_id == env.ref("isp_sale.crm_lead_mwangi_demo")
        order.action_confirm()
        sub = env["isp.subscription"].search([("sale_order_id", "=", order.id)])
        assert sub.state == "draft"
        assert sub.plan_id == env.ref("isp_billing.product_plan_home_10_demo")
        assert sorted(sub.line_ids.mapped("line_type")) == ["addon", "once", "plan"]
        cr.rollback()
