# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The subscriber pays an invoice from the portal with M-PESA, in Chromium
through Odoo's tour runner; the simulator answers the prompt and calls back."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import PHONE, IspMpesaCommon


@tagged("post_install", "-at_install")
class TestPortalPayment(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_portal_user("wanjiru")

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

    def test_pay_now_pays_the_whole_balance_with_mpesa(self):
        """By hand: invoices 4,000.67 (due first) + 8,001.34 = 12,002.01, a
        credit note of 1,029.37 and a payment of 500.00 not allocated:
        12,002.01 - 1,029.37 - 500.00 = 10,472.64 on the page, the
        statement, and in one transaction and one STK push (10,473: M-PESA
        moves whole shillings)."""
        today = fields.Date.context_today(
            self.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        sub = self._active_subscription(self.plan_home, today - timedelta(days=10))
        old = self._sub_document(sub, "out_invoice", today - timedelta(days=9), 4000.67)
        new = self._sub_document(sub, "out_invoice", today, 8001.34)
        credit = self._sub_document(sub, "out_refund", today, 1029.37)
        unallocated = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 500.0,
                "currency_id": self.kes.id,
                "company_id": self.company.id,
                "journal_id": self.provider.journal_id.id,
            }
        )
        unallocated.action_post()
        self.assertEqual(sub._isp_balance(), 10472.64)
        self.sim.script(self.Outcome(delay=20.0))
        pushes = len(self.sim.pushes)
        self.start_tour(
            "/my/subscriptions", "isp_mpesa_portal_subscription_pay", login="wanjiru"
        )
        self.env.invalidate_all()
        self.assertEqual(len(self.sim.pushes), pushes + 1, "one STK push")
        push = self.sim.pushes[-1]
        self.assertEqual(
            (push["PhoneNumber"], push["Amount"], push["AccountReference"]),
            (PHONE, 10473, sub.account_number),
        )
        tx = self.env["payment.transaction"].search(
            [("isp_subscription_id", "=", sub.id)]
        )
        self.assertEqual(len(tx), 1, "one transaction")
        # M-PESA took 10,473: the transaction records what was paid
        self.assertEqual((tx.state, tx.amount), ("done", 10473.0))
        self.assertEqual(tx.invoice_ids, old | new)
        self.assertEqual(
            (old.payment_state, new.payment_state),
            ("paid", "paid"),
            "the payment, the credit note and the payment on account settle both",
        )
        self.assertEqual(credit.amount_residual, 0.0)
        # 10,472.64 - 10,473.00 = -0.36: a credit, so no Pay now (the tour)
        self.assertEqual(sub._isp_balance(), -0.36)

    def _sub_document(self, sub, move_type, day, amount):
        """A posted KES invoice or credit note of one untaxed line of ``sub``."""
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "currency_id": self.kes.id,
                "invoice_date": day,
                "invoice_date_due": day,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "10 Mbps Home",
                            "price_unit": amount,
                            "tax_ids": [(5, 0, 0)],
                            "isp_subscription_id": sub.id,
                        },
                    )
                ],
            }
        )
        move.action_post()
        return move
