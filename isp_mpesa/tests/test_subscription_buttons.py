# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspMpesaCommon


@tagged("post_install", "-at_install")
class TestMpesaSubscriptionButtons(IspMpesaCommon):
    def test_request_button_only_for_running_kes_subscriptions(self):
        """*Request M-PESA payment* shows where it can work: a running
        subscription billed in Kenyan shillings."""
        usd = self.env.ref("base.USD")
        usd.active = True
        pricelist = self.env["product.pricelist"].create(
            {"name": "USD", "currency_id": usd.id, "company_id": self.company.id}
        )
        kes_sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        usd_sub = self._create_subscription(
            self.plan_home,
            self.d("2026-11-01"),
            partner=self.customer_2,
            pricelist_id=pricelist.id,
        )
        self.assertEqual(usd_sub.currency_id, usd)
        self.assertFalse(kes_sub.mpesa_payable)  # a draft
        (kes_sub | usd_sub).action_activate()
        self.assertTrue(kes_sub.mpesa_payable)
        self.assertFalse(usd_sub.mpesa_payable)
        # The server refuses too: M-PESA takes Kenyan shillings only.
        with self.assertRaisesRegex(UserError, "cannot be paid with M-PESA"):
            usd_sub.action_mpesa_request_payment()

    def test_request_button_only_for_kes_invoices_to_pay(self):
        """On an invoice, *Request M-PESA payment* shows only for a posted
        customer invoice still to pay in Kenyan shillings; the server
        refuses the others with a clear message and sends nothing."""
        arch = etree.fromstring(
            self.env["account.move"].get_view(view_type="form")["arch"]
        )
        [button] = arch.xpath("//button[@name='action_mpesa_request_payment']")
        self.assertEqual(button.get("invisible"), "not mpesa_payable")
        kes = self._invoice(1500.0)
        self.assertTrue(kes.mpesa_payable)
        self.assertEqual(
            kes.action_mpesa_request_payment()["res_model"], "isp.mpesa.request"
        )
        usd = self.env.ref("base.USD")
        usd.active = True
        usd_invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "currency_id": usd.id,
                "invoice_date": self.d("2026-11-01"),
                "invoice_line_ids": [
                    Command.create({"name": "Service", "price_unit": 15.0})
                ],
            }
        )
        self.assertFalse(usd_invoice.mpesa_payable)  # a draft
        usd_invoice.action_post()
        self.assertEqual(usd_invoice.currency_id, usd)
        self.assertFalse(usd_invoice.mpesa_payable)
        refund = kes._reverse_moves(cancel=True)  # posted and reconciled
        self.assertEqual(kes.payment_state, "reversed")
        self.assertFalse(kes.mpesa_payable)
        self.assertFalse(refund.mpesa_payable)  # a credit note
        for move in (usd_invoice, kes, refund):
            with self.assertRaisesRegex(UserError, "cannot be paid with M-PESA"):
                move.action_mpesa_request_payment()
        self.assertFalse(self.sim.pushes)
        self.assertFalse((usd_invoice | kes).transaction_ids)


@tagged("post_install", "-at_install")
class TestMpesaCallbackToken(IspMpesaCommon):
    def test_token_never_spells_a_word_daraja_refuses(self):
        """Daraja refuses C2B URLs containing mpesa, sql, exe, cmd...; the
        token is part of the URL. About one random token in 200 would spell
        one: 5,000 new tokens, none does, and they are all different."""
        from odoo.addons.isp_mpesa.models.payment_provider import (  # noqa: PLC0415
            _new_token,
        )

        words = ("mpesa", "m-pesa", "safaricom", "exe", "exec", "cmd", "sql", "query")
        tokens = [_new_token() for __ in range(5000)]
        self.assertEqual(len(set(tokens)), 5000)
        spelled = [t for t in tokens if any(w in t.lower() for w in words)]
        self.assertEqual(spelled, [])
        self.assertTrue(all(len(t) == 43 for t in tokens))
