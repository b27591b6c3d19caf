# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Lead to live subscriber: the order's confirmation makes the draft
subscriptions once, the installation task (or Activate) starts them on that
day with a prorated first invoice and the welcome. Figures by hand: the
fibre plan is 3,000.00 a month with 15 % excise then 16 % VAT on price plus
excise; the router 250.00 a month on the ISP's pricelist (300.00 list
price), untaxed; the installation 5,000.00 once, untaxed."""

import psycopg2
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspSaleCommon


@tagged("post_install", "-at_install")
class TestSaleOnboarding(IspSaleCommon):
    def _confirmed(self, products=None, day="2026-11-03 09:00:00", **vals):
        with freeze_time(day):
            order = self._order(
                products or [self.plan_fibre, self.router, self.install_fee], **vals
            )
            order.action_confirm()
        return order

    def _line_summary(self, sub):
        return [
            (line.product_id, line.line_type, line.quantity, line.price_unit)
            for line in sub.line_ids
        ]

    # ------------------------------------------------------------------
    # Confirmation
    # ------------------------------------------------------------------

    def test_confirmation_makes_one_draft_subscription_as_quoted(self):
        """Customer, service address, pricelist, plan, add-on at the
        pricelist's price and the one-time fee, linked to the order; the
        order itself has nothing left to invoice."""
        order = self._confirmed()
        sub = self._subscriptions(order)
        self.assertEqual(len(sub), 1)
        self.assertEqual(sub.state, "draft")
        self.assertEqual(sub.partner_id, self.customer)
        self.assertEqual(sub.service_partner_id, order.partner_shipping_id)
        self.assertEqual(sub.pricelist_id, self.pricelist)
        self.assertEqual(sub.currency_id, self.kes)
        self.assertEqual(sub.company_id, self.company)
        plan_line = order.order_line.filtered(
            lambda line: line.product_id == self.plan_fibre
        )
        self.assertEqual(sub.sale_line_id, plan_line)
        self.assertEqual(
            self._line_summary(sub),
            [
                (self.plan_fibre, "plan", 1.0, 3000.0),
                (self.router, "addon", 1.0, 250.0),
                (self.install_fee, "once", 1.0, 5000.0),
            ],
        )
        self.assertEqual(order.isp_subscription_count, 1)
        self.assertIn(sub.account_number, order.isp_subscription_summary)
        self.assertTrue(all(order.order_line.mapped("isp_billed_by_subscription")))
        self.assertEqual(order.invoice_status, "no")
        self.assertFalse(order._get_invoiceable_lines())
        task = order.tasks_ids
        self.assertEqual(len(task), 1, "the installation fee makes one task")
        self.assertEqual(task.sale_line_id.product_id, self.install_fee)
        self.assertEqual(task.isp_subscription_summary, f"{sub.account_number} (Draft)")

    def test_order_without_plan_makes_no_subscription(self):
        order = self._confirmed([self.install_fee])
        self.assertFalse(self._subscriptions(order))
        self.assertFalse(order.order_line.isp_billed_by_subscription)
        self.assertEqual(order.invoice_status, "to invoice")

    def test_two_plans_make_two_subscriptions_each_with_its_lines(self):
        """Each plan takes the lines after it up to the next plan; the lines
        before the first plan go with the first. The discount is in the
        subscription's price."""
        order = self._confirmed(
            [
                self.router,
                self.plan_fibre,
                self.install_fee,
                (self.plan_home, {"discount": 10.0}),
                self.static_ip,
            ]
        )
        first, second = self._subscriptions(order)
        self.assertEqual(
            self._line_summary(first),
            [
                (self.plan_fibre, "plan", 1.0, 3000.0),
                (self.router, "addon", 1.0, 250.0),
                (self.install_fee, "once", 1.0, 5000.0),
            ],
        )
        # 2,999.00 less 10 % = 2,699.10
        self.assertEqual(
            self._line_summary(second),
            [
                (self.plan_home, "plan", 1.0, 2699.10),
                (self.static_ip, "addon", 1.0, 500.0),
            ],
        )

    def test_confirming_again_makes_no_second_subscription(self):
        order = self._confirmed()
        sub = self._subscriptions(order)
        with self.assertRaisesRegex(UserError, "not in a state requiring confirmation"):
            order.action_confirm()
        self.assertFalse(order._isp_create_subscriptions())
        self.assertEqual(self._subscriptions(order), sub)

    def test_the_database_refuses_a_second_subscription_of_a_plan_line(self):
        order = self._confirmed()
        sub = self._subscriptions(order)
        unique = psycopg2.errors.UniqueViolation
        with mute_logger("odoo.sql_db"), self.assertRaises(unique):
            self.env["isp.subscription"].create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "sale_line_id": sub.sale_line_id.id,
                    "line_ids": [Command.create({"product_id": self.plan_fibre.id})],
                }
            )
            self.env.flush_all()

    def test_cancelling_the_order_deletes_its_drafts_once_and_for_all(self):
        order = self._confirmed()
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertFalse(self._subscriptions(order))
        self.assertFalse(any(order.order_line.mapped("isp_billed_by_subscription")))
        order.action_draft()
        order.action_confirm()
        self.assertEqual(len(self._subscriptions(order)), 1)

    def test_cancelling_a_started_order_is_refused(self):
        order = self._confirmed()
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            sub.action_activate()
        with self.assertRaisesRegex(UserError, "already started"):
            order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(order.state, "sale")
        self.assertEqual(sub.state, "active")

    # ------------------------------------------------------------------
    # Installation and activation
    # ------------------------------------------------------------------

    def test_installation_done_activates_bills_prorated_and_welcomes(self):
        """Task done on Nov 10: active from Nov 10 through isp_billing's
        activation path, periods from Dec 1, first invoice for Nov 10 to 30
        (21 of 30 days): fibre 3,000 x 21/30 = 2,100.00 (excise 315.00, VAT
        (2,100 + 315) x 16 % = 386.40), router 250 x 21/30 = 175.00,
        installation 5,000.00: untaxed 7,275.00, taxes 701.40, total
        7,976.40. Then the portal invitation, the welcome e-mail and SMS.
        The RADIUS provisioning of a sold subscription, after the commit, is
        tested end to end in tests/test_sale_radius_e2e.py."""
        order = self._confirmed()
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            order.tasks_ids.write({"state": "1_done"})
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.date_start, self.d("2026-11-10"))
        self.assertEqual(sub.billing_anchor_date, self.d("2026-12-01"))
        self.assertEqual(sub.next_invoice_date, self.d("2026-12-01"))
        invoice = sub.invoice_line_ids.move_id
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.invoice_date, self.d("2026-11-10"))
        lines = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(
            sorted((line.product_id.name, line.price_subtotal) for line in lines),
            sorted(
                [
                    (self.plan_fibre.name, 2100.00),
                    (self.router.name, 175.00),
                    (self.install_fee.name, 5000.00),
                ]
            ),
        )
        self.assertMoveAmounts(invoice, 7275.00, 701.40, 7976.40)

        # Odoo's portal invitation: the customer has a portal login
        user = self.customer.user_ids
        self.assertEqual(len(user), 1)
        self.assertTrue(user.has_group("base.group_portal"))
        self.assertIn(
            "Portal invitation sent to wanjiru@example.com",
            "".join(sub.message_ids.mapped("body")),
        )
        # the welcome e-mail and SMS, with the PPPoE login under isp_radius
        mail = self.env["mail.mail"].search(
            [("model", "=", "isp.subscription"), ("res_id", "=", sub.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("your internet service is on", mail.subject)
        self.assertIn(sub.account_number, mail.body_html)
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, "+254712345678")
        self.assertEqual(sms.isp_company_id, self.company)
        self.assertIn(sub.account_number, sms.body)
        self.assertIn(sub.access_url, sms.body)
        if "radius_username" in sub._fields:
            self.assertIn(sub.radius_username, mail.body_html)
            self.assertIn(sub.sudo().radius_password, mail.body_html)
            self.assertIn(
                f"PPPoE login {sub.radius_username}, password "
                f"{sub.sudo().radius_password}.",
                sms.body,
            )
        # a second task done changes nothing
        with freeze_time("2026-11-12 09:00:00"):
            order.tasks_ids.write({"state": "01_in_progress"})
            order.tasks_ids.write({"state": "1_done"})
        self.assertEqual(sub.date_start, self.d("2026-11-10"))
        self.assertEqual(len(sub.invoice_line_ids.move_id), 1)

    def test_isp_staff_activate_starts_the_subscription_that_day(self):
        """Activate on Nov 17: 14 of 30 days. Fibre 3,000 x 14/30 = 1,400.00
        (excise 210.00, VAT 1,610 x 16 % = 257.60), router 250 x 14/30 =
        116.67, installation 5,000.00: untaxed 6,516.67, taxes 467.60, total
        6,984.27."""
        order = self._confirmed()
        sub = self._subscriptions(order)
        self._create_role_users("onboarding")
        with freeze_time("2026-11-17 09:00:00"):
            sub.with_user(self.isp_user).action_activate()
        self.assertEqual(sub.date_start, self.d("2026-11-17"))
        self.assertMoveAmounts(sub.invoice_line_ids.move_id, 6516.67, 467.60, 6984.27)

    def test_technician_activates_from_the_task_without_isp_rights(self):
        order = self._confirmed()
        sub = self._subscriptions(order)
        technician = new_test_user(
            self.env,
            login="onboarding_technician",
            groups="base.group_user,project.group_project_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        task = order.tasks_ids.with_user(technician)
        self.assertEqual(task.isp_subscription_summary, f"{sub.account_number} (Draft)")
        with self.assertRaises(AccessError):
            sub.with_user(technician).read(["state"])
        with freeze_time("2026-11-10 09:00:00"):
            task.action_isp_sale_activate()
        self.assertEqual(task.state, "1_done")
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.date_start, self.d("2026-11-10"))
        self.assertIn(
            "installation task",
            "".join(sub.message_ids.mapped("body")),
        )
        task.invalidate_recordset()
        self.assertEqual(
            task.isp_subscription_summary, f"{sub.account_number} (Active)"
        )
        with self.assertRaisesRegex(UserError, "no ISP subscription waiting"):
            task.action_isp_sale_activate()

    def test_activate_on_a_task_without_subscription_is_refused(self):
        task = self.env["project.task"].create(
            {"name": "Site survey", "project_id": self.installations.id}
        )
        with self.assertRaisesRegex(UserError, "no ISP subscription waiting"):
            task.action_isp_sale_activate()
        self.assertNotEqual(task.state, "1_done")

    def test_anchor_on_the_activation_day(self):
        """*Activation day*: a full first period from Nov 10, fibre 3,000.00
        (excise 450.00, VAT 3,450 x 16 % = 552.00), router 250.00,
        installation 5,000.00: untaxed 8,250.00, taxes 1,002.00, total
        9,252.00."""
        self.company.isp_sale_anchor = "activation"
        order = self._confirmed()
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            order.tasks_ids.write({"state": "1_done"})
        self.assertEqual(sub.billing_anchor_date, self.d("2026-11-10"))
        self.assertEqual(sub.next_invoice_date, self.d("2026-12-10"))
        self.assertMoveAmounts(sub.invoice_line_ids.move_id, 8250.00, 1002.00, 9252.00)

    def test_weekly_plan_and_activation_on_the_first_start_that_day(self):
        order = self._confirmed([self.plan_weekly])
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            sub.action_activate()
        self.assertEqual(sub.billing_anchor_date, self.d("2026-11-10"))
        order = self._confirmed([self.plan_fibre])
        sub = self._subscriptions(order)
        with freeze_time("2026-12-01 09:00:00"):
            sub.action_activate()
        self.assertEqual(sub.billing_anchor_date, self.d("2026-12-01"))
        # a full month: 3,000.00 + 450.00 excise + 552.00 VAT
        self.assertMoveAmounts(sub.invoice_line_ids.move_id, 3000.00, 1002.00, 4002.00)

    def test_no_welcome_when_turned_off_and_notes_for_what_cannot_reach(self):
        self.company.isp_sale_welcome = False
        order = self._confirmed()
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            sub.action_activate()
        self.assertFalse(self.customer.user_ids)
        self.assertFalse(
            self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        )
        self.company.isp_sale_welcome = True
        # customer_2: an e-mail address, no mobile number
        order = self._confirmed([self.plan_home], partner=self.customer_2)
        sub = self._subscriptions(order)
        with freeze_time("2026-11-10 09:00:00"):
            sub.action_activate()
        self.assertTrue(self.customer_2.user_ids)
        self.assertFalse(
            self.env["sms.sms"].search([("partner_id", "=", self.customer_2.id)])
        )
        self.assertIn("No welcome SMS", "".join(sub.message_ids.mapped("body")))
