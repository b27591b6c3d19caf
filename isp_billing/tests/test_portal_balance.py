# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One balance everywhere (issue #14): the customer's receivable net of credit
notes and unallocated payments, the same on the subscription page (HTTP), the
statement's closing balance and the amount of the *Pay now* transaction."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestPortalBalance(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_portal_user("wanjiru")
        cls.today = fields.Date.context_today(
            cls.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        cls.sub = cls._create_subscription(
            cls.plan_home, cls.today - timedelta(days=10)
        )

    def _document(self, move_type, day, amount):
        return self._isp_document(
            move_type, day, amount, self.sub, invoice_date_due=day
        )

    def _payment_on_account(self, amount):
        journal = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "bank")], limit=1
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": amount,
                "currency_id": self.kes.id,
                "company_id": self.company.id,
                "journal_id": journal.id,
            }
        )
        payment.action_post()
        self.assertTrue(payment.move_id, "a payment with its journal entry")
        return payment

    def test_one_balance_page_statement_pay_now(self):
        """By hand: invoices 4,000.67 + 8,001.34 = 12,002.01; minus a credit
        note of 1,029.37 = 10,972.64; minus 500.00 paid on account (not
        allocated) = 10,472.64."""
        old = self._document("out_invoice", self.today - timedelta(days=9), 4000.67)
        new = self._document("out_invoice", self.today, 8001.34)
        self._document("out_refund", self.today, 1029.37)
        self._payment_on_account(500.0)
        expected = 10472.64
        self.assertEqual(self.sub._isp_balance(), expected)
        self.assertEqual(self.sub.isp_amount_due, expected)
        rows, closing = self.sub._isp_portal_statement()
        self.assertEqual(closing, expected)
        self.assertEqual(rows[-1]["balance"], expected)

        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertIn("10,472.64", page.split("o_isp_amount_due")[1][:120])
        self.assertIn("10,472.64", page.split('class="o_isp_balance"')[1][:120])
        self.assertIn(f"/my/subscriptions/{self.sub.id}/pay", page)

        pay_page = self.url_open(f"/my/subscriptions/{self.sub.id}/pay")
        self.assertEqual(pay_page.status_code, 200)
        self.assertIn(
            "10,472.64", pay_page.text.split('id="o_payment_summary_amount"')[1][:200]
        )

        provider = self._demo_provider()
        method = self.env.ref("payment_demo.payment_method_demo")
        response = self.url_open(
            f"/my/subscriptions/{self.sub.id}/pay/transaction",
            data=json.dumps(
                {
                    "params": {
                        "provider_id": provider.id,
                        "payment_method_id": method.id,
                        "token_id": None,
                        "amount": 1.0,  # what the browser says is ignored
                        "flow": "direct",
                        "tokenization_requested": False,
                        "landing_route": self.sub.access_url,
                        "is_validation": False,
                        "access_token": self.sub._portal_ensure_token(),
                    }
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertNotIn("error", response.json(), response.text)
        tx = self.env["payment.transaction"].search(
            [("isp_subscription_id", "=", self.sub.id)]
        )
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.amount, expected)
        self.assertEqual(tx.invoice_ids, old | new)

        # Paid: the payment, the credit note and the payment on account
        # settle both invoices, the oldest first.
        tx._set_done()
        tx._post_process()
        self.assertEqual((old.payment_state, new.payment_state), ("paid", "paid"))
        self.assertEqual(self.sub._isp_balance(), 0.0)
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertNotIn("o_isp_pay_now", page, "nothing to pay: no Pay now")

    def test_a_credit_offers_no_pay_now(self):
        self._document("out_invoice", self.today, 1000.0)
        self._payment_on_account(1200.0)
        self.assertEqual(self.sub._isp_balance(), -200.0)
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{self.sub.id}").text
        self.assertNotIn("o_isp_pay_now", page)
        response = self.url_open(f"/my/subscriptions/{self.sub.id}/pay")
        self.assertNotIn("/pay", response.url)


@tagged("post_install", "-at_install")
class TestBalancesTogether(IspBillingCommon):
    """``isp.subscription._isp_balances``: the balances of several
    subscriptions computed with one search (the sending job's e-mails), each
    what the balance rule gives for it alone: its commercial partner and all
    its descendants (a contact, a subsidiary company), its company's
    currency, credit notes netted."""

    def test_each_customer_s_own_items(self):
        day = self.d("2026-11-01")
        contact = self.env["res.partner"].create(
            {"name": "Wanjiru's accountant", "parent_id": self.customer.id}
        )
        branch = self.env["res.partner"].create(
            {"name": "Kamau Shop", "is_company": True, "parent_id": self.customer.id}
        )
        self.assertEqual(branch.commercial_partner_id, branch)
        sub_a = self._create_subscription(self.plan_home, day)
        sub_branch = self._create_subscription(self.plan_home, day, partner=branch)
        sub_b = self._create_subscription(self.plan_home, day, partner=self.customer_2)
        self._isp_document("out_invoice", day, 1000.10, sub_a)
        self._isp_document("out_invoice", day, 200.20, sub_a, partner_id=contact.id)
        self._isp_document("out_invoice", day, 30.30, sub_branch, partner_id=branch.id)
        self._isp_document(
            "out_invoice", day, 4000.67, sub_b, partner_id=self.customer_2.id
        )
        self._isp_document(
            "out_refund", day, 1029.37, sub_b, partner_id=self.customer_2.id
        )
        subs = sub_a | sub_branch | sub_b
        # By hand: the customer's tree 1,000.10 + 200.20 + 30.30 = 1,230.60;
        # the branch alone 30.30; Otieno 4,000.67 - 1,029.37 = 2,971.30.
        expected = {sub_a.id: 1230.60, sub_branch.id: 30.30, sub_b.id: 2971.30}
        self.assertEqual(subs._isp_balances(), expected)
        self.assertEqual({sub.id: sub._isp_balance() for sub in subs}, expected)
        invoices = subs.invoice_line_ids.move_id
        self.assertEqual(
            invoices._isp_balances(),
            {move.id: expected[move.isp_subscription_ids.id] for move in invoices},
        )
