# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The subscriber pays an invoice from the portal with M-PESA, in Chromium
through Odoo's tour runner; the simulator answers the prompt and calls back."""

from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import PHONE, IspMpesaCommon


@tagged("post_install", "-at_install")
class TestPortalPayment(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wanjiru",
            groups="base.group_portal",
            partner_id=cls.customer.id,
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    def setUp(self):
        super().setUp()
        self.sim.auto_deliver = True
        # During a browser test Odoo only serves requests carrying the test's
        # cookie; Safaricom's callbacks would not need it.
        self.sim.callback_cookies = {
            "test_request_key": self.canonical_tag + "_browser_js"
        }
        self.addCleanup(setattr, self.sim, "callback_cookies", None)

    def test_pay_an_invoice_with_mpesa(self):
        invoice = self._invoice(2999.0)
        self.sim.script(self.Outcome(delay=20.0))
        self.start_tour(
            invoice.get_portal_url(), "isp_mpesa_portal_pay", login="wanjiru"
        )
        self.env.invalidate_all()
        push = self.sim.pushes[-1]
        self.assertEqual((push["PhoneNumber"], push["Amount"]), (PHONE, 2999))
        self.assertEqual(invoice.amount_residual, 0.0)
        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.provider_id), ("done", self.provider))
        self.assertEqual(tx.payment_id.amount, 2999.0)

    def test_cancelled_on_the_phone(self):
        invoice = self._invoice(1500.0)
        self.sim.script(self.Outcome(result_code=1032, delay=20.0))
        self.start_tour(
            invoice.get_portal_url(), "isp_mpesa_portal_cancelled", login="wanjiru"
        )
        self.env.invalidate_all()
        self.assertEqual(invoice.transaction_ids.state, "cancel")
        self.assertEqual(invoice.amount_residual, 1500.0)

    def test_bad_phone_number_refused_in_the_form(self):
        invoice = self._invoice(500.0)
        self.start_tour(
            invoice.get_portal_url(), "isp_mpesa_portal_bad_phone", login="wanjiru"
        )
        self.assertFalse(self.sim.pushes)
        self.assertFalse(invoice.transaction_ids)

    def test_pay_now_from_the_subscription_with_mpesa(self):
        today = fields.Date.context_today(
            self.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        sub = self._active_subscription(self.plan_home, today - timedelta(days=10))
        invoice = self._bill(sub, today)
        self.assertEqual(invoice.amount_residual, 2999.0)
        self.sim.script(self.Outcome(delay=20.0))
        self.start_tour(
            "/my/subscriptions", "isp_mpesa_portal_subscription_pay", login="wanjiru"
        )
        self.env.invalidate_all()
        push = self.sim.pushes[-1]
        self.assertEqual(
            (push["PhoneNumber"], push["Amount"], push["AccountReference"]),
            (PHONE, 2999, sub.account_number),
        )
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(invoice.transaction_ids.state, "done")
