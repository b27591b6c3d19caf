# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The onboarding path in Chromium, as a salesman who also installs: lead
-> quotation -> confirmation -> installation task Activate -> subscription
active -> first, prorated invoice -> portal invitation."""

import calendar
from decimal import ROUND_HALF_UP, Decimal

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import IspSaleCommon


def prorate(price, days, period_days):
    """``price x days / period_days`` rounded once, half away from zero."""
    amount = Decimal(str(price)) * days / period_days
    return float(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@tagged("post_install", "-at_install")
class TestSaleTour(IspSaleCommon, HttpCase):
    def test_lead_to_live_subscriber_in_the_browser(self):
        self.pricelist.sequence = 1  # the new customer's pricelist
        # names no other product of the database has (demo data)
        self.plan_fibre.name = "Onboarding fibre 30 Mbps"
        self.router.name = "Onboarding router"
        self.install_fee.name = "Onboarding installation"
        new_test_user(
            self.env,
            login="onboarding_tour",
            groups="sales_team.group_sale_manager,isp_billing.group_isp_manager,"
            "project.group_project_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
            tz="Africa/Nairobi",
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Fibre for Kamau Home",
                "type": "opportunity",
                "contact_name": "Kamau Home",
                "email_from": "kamau.home@example.com",
                "mobile": "+254 722 000 111",
                "street": "Moi Avenue 12",
                "city": "Nairobi",
                "country_id": self.kenya.id,
                "company_id": self.company.id,
            }
        )
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{lead.id}",
            "isp_sale_onboarding",
            login="onboarding_tour",
        )
        order = lead.order_ids
        self.assertEqual(len(order), 1)
        self.assertEqual(order.pricelist_id, self.pricelist)
        customer = order.partner_id
        self.assertEqual(customer.street, "Moi Avenue 12")
        sub = self._subscriptions(order)
        self.assertEqual(len(sub), 1)
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.service_partner_id.street, "Moi Avenue 12")
        day = sub.date_start
        self.assertEqual(day, sub._today())
        # The periods start on the 1st of the next month (unless today is
        # the 1st): the first invoice covers today to then, against the
        # whole month.
        month_days = calendar.monthrange(day.year, day.month)[1]
        days = month_days - day.day + 1
        fibre = prorate(3000, days, month_days)
        router = prorate(250, days, month_days)
        excise = prorate(fibre * 0.15, 1, 1)
        vat = prorate((fibre + excise) * 0.16, 1, 1)
        untaxed = round(fibre + router + 5000.0, 2)
        invoice = sub.invoice_line_ids.move_id
        self.assertEqual(len(invoice), 1)
        self.assertMoveAmounts(
            invoice, untaxed, round(excise + vat, 2), round(untaxed + excise + vat, 2)
        )
        user = customer.user_ids
        self.assertTrue(user.has_group("base.group_portal"), "portal invitation")
