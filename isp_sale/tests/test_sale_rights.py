# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a salesman without ISP rights sees of a customer's internet service,
over JSON-RPC as the web client calls it: the summary fields of the customer
and the lead, nothing of the subscriptions themselves."""

from odoo import Command
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspSaleCommon


@tagged("post_install", "-at_install")
class TestSaleRights(IspSaleCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("salerights")
        companies = {
            "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
        }
        cls.salesman = new_test_user(
            cls.env,
            login="salerights_salesman",
            groups="sales_team.group_sale_salesman_all_leads",
            **companies,
        )
        cls.order = cls._order([cls.plan_fibre, cls.router, cls.install_fee])
        cls.order.action_confirm()
        cls.sub = cls.env["isp.subscription"].search(
            [("sale_order_id", "=", cls.order.id)]
        )
        cls.sub.action_activate()
        cls.invoice = cls.sub.invoice_line_ids.move_id
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.invoice.ids
        ).create({"amount": 1000.0})._create_payments()
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Fibre for Wanjiru",
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "type": "opportunity",
            }
        )

    def _call(self, model, method, args, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {
                    "context": {"allowed_company_ids": self.company.ids},
                    **kwargs,
                },
            },
        )

    SUMMARY = [
        "isp_sale_subscription_count",
        "isp_sale_balance",
        "isp_sale_amount_overdue",
        "isp_sale_payment_count",
        "isp_sale_summary",
    ]

    def test_salesman_reads_the_summary_of_customer_and_lead(self):
        self.authenticate("salerights_salesman", "salerights_salesman")
        balance = self.invoice.amount_total - 1000.0
        (partner,) = self._call(
            "res.partner", "read", [self.customer.ids, self.SUMMARY]
        )
        self.assertEqual(partner["isp_sale_subscription_count"], 1)
        self.assertAlmostEqual(partner["isp_sale_balance"], balance, places=2)
        self.assertEqual(partner["isp_sale_amount_overdue"], 0.0)
        self.assertEqual(partner["isp_sale_payment_count"], 1)
        summary = partner["isp_sale_summary"]
        self.assertIn(self.sub.account_number, summary)
        self.assertIn(self.plan_fibre.name, summary)
        self.assertIn("Active", summary)
        self.assertIn("1,000.00", summary)
        (lead,) = self._call(
            "crm.lead",
            "read",
            [self.lead.ids, ["isp_sale_subscription_count", "isp_sale_balance"]],
        )
        self.assertEqual(lead["isp_sale_subscription_count"], 1)
        self.assertAlmostEqual(lead["isp_sale_balance"], balance, places=2)
        action = self._call("crm.lead", "action_isp_sale_summary", [self.lead.ids])
        self.assertEqual(
            (action["res_model"], action["res_id"], action["target"]),
            ("res.partner", self.customer.id, "new"),
        )

    @mute_logger("odoo.http", "odoo.models")
    def test_salesman_cannot_read_or_write_the_subscriptions(self):
        self.authenticate("salerights_salesman", "salerights_salesman")
        refused = "odoo.exceptions.AccessError"
        state = self.sub.state
        for model, method, args in (
            ("isp.subscription", "search_read", [[], ["state"]]),
            ("isp.subscription", "read", [self.sub.ids, ["state"]]),
            ("isp.subscription", "write", [self.sub.ids, {"note": "hacked"}]),
            ("isp.subscription", "action_activate", [self.sub.ids]),
            ("isp.subscription", "action_suspend", [self.sub.ids, "x"]),
            ("res.partner", "read", [self.customer.ids, ["isp_balance"]]),
            ("sale.order", "read", [self.order.ids, ["isp_subscription_ids"]]),
            ("sale.order", "action_view_isp_subscriptions", [self.order.ids]),
        ):
            with self.subTest(model=model, method=method):
                with self.assertRaisesRegex(JsonRpcException, refused):
                    self._call(model, method, args)
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.state, state)
        self.assertFalse(self.sub.note)

    def test_salesman_confirms_and_the_subscription_is_made(self):
        """Confirmation makes the subscription as the superuser: the
        salesman sees its account number on the order, not the record."""
        order = self._order([self.plan_home])
        order.user_id = self.salesman
        self.authenticate("salerights_salesman", "salerights_salesman")
        self._call("sale.order", "action_confirm", [order.ids])
        sub = self._subscriptions(order)
        self.assertEqual(len(sub), 1)
        (values,) = self._call(
            "sale.order",
            "read",
            [order.ids, ["isp_subscription_count", "isp_subscription_summary"]],
        )
        self.assertEqual(values["isp_subscription_count"], 1)
        self.assertEqual(
            values["isp_subscription_summary"], f"{sub.account_number} (Draft)"
        )

    @mute_logger("odoo.http", "odoo.models")
    def test_portal_user_and_plain_employee_see_no_summary(self):
        employee = new_test_user(
            self.env,
            login="salerights_employee",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.assertTrue(employee)
        for login in ("salerights_portal", "salerights_employee"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                with self.assertRaisesRegex(
                    JsonRpcException, "odoo.exceptions.AccessError"
                ):
                    self._call("res.partner", "read", [self.customer.ids, self.SUMMARY])
                with self.assertRaisesRegex(
                    JsonRpcException, "odoo.exceptions.AccessError"
                ):
                    self._call(
                        "res.partner", "action_isp_sale_summary", [self.customer.ids]
                    )
