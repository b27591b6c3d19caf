# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The portal's statement and current period, computed on the subscription
(``isp_subscription_portal.py``), with figures worked out by hand.

The documents are made directly (not by the billing engine), so that these
figures depend on the statement's rules only."""

from freezegun import freeze_time

from odoo.tests import tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestPortalStatement(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = cls._create_subscription(cls.plan_home, cls.d("2026-11-01"))

    def _document(self, move_type, day, amount, post=True):
        """A posted invoice or credit note of one untaxed line of ``self.sub``
        (a draft one without ``post``)."""
        return self._isp_document(move_type, self.d(day), amount, self.sub, post=post)

    def _pay(self, invoice, day, amount):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": amount, "payment_date": self.d(day)})._create_payments()

    def test_statement_invoice_partial_payment_credit_note(self):
        """By hand: 2,999.00 invoiced on Nov 1, 1,000.00 paid on Nov 5 (2,999.00
        − 1,000.00 = 1,999.00), a credit note of 999.67 on Nov 21 (1,999.00 −
        999.67 = 999.33), 2,999.00 invoiced on Dec 1 (3,998.33) and 2,000.00
        paid the same day (1,998.33): on one day, documents before payments."""
        november = self._document("out_invoice", "2026-11-01", 2999.0)
        self._pay(november, "2026-11-05", 1000.0)
        credit = self._document("out_refund", "2026-11-21", 999.67)
        december = self._document("out_invoice", "2026-12-01", 2999.0)
        self._pay(december, "2026-12-01", 2000.0)
        # not posted (a posted one cannot go back to draft: the invoices'
        # journal is hashed, issue #15)
        self._document("out_invoice", "2026-12-01", 1.0, post=False)

        rows, balance = self.sub._isp_portal_statement()

        self.assertEqual(
            [(row["date"], row["kind"], row["amount"], row["balance"]) for row in rows],
            [
                (self.d("2026-11-01"), "invoice", 2999.0, 2999.0),
                (self.d("2026-11-05"), "payment", -1000.0, 1999.0),
                (self.d("2026-11-21"), "credit", -999.67, 999.33),
                (self.d("2026-12-01"), "invoice", 2999.0, 3998.33),
                (self.d("2026-12-01"), "payment", -2000.0, 1998.33),
            ],
        )
        self.assertEqual(balance, 1998.33)
        self.assertEqual(
            balance,
            november.amount_residual + december.amount_residual - 999.67,
            "the balance is what the customer still owes",
        )
        self.assertEqual(
            [row["label"] for row in rows if row["kind"] != "payment"],
            [november.name, credit.name, december.name],
        )
        self.assertTrue(all(row["label"] for row in rows))
        self.assertEqual(
            [row["url"] for row in rows],
            [
                november.get_portal_url(),
                False,
                credit.get_portal_url(),
                december.get_portal_url(),
                False,
            ],
        )

    def test_statement_empty(self):
        self.assertEqual(self.sub._isp_portal_statement(), ([], 0.0))

    def test_current_period(self):
        """The billed period containing today, as (first day, last day)."""
        november = self._document("out_invoice", "2026-11-01", 2999.0)
        # Only the billing engine writes billed periods (as superuser).
        self.env["isp.subscription.period"].sudo().create(
            {
                "subscription_id": self.sub.id,
                "company_id": self.company.id,
                "date_start": self.d("2026-11-01"),
                "date_end": self.d("2026-12-01"),
                "move_id": november.id,
            }
        )
        for now, expected in (
            ("2026-10-31 12:00:00", None),
            ("2026-11-01 12:00:00", (self.d("2026-11-01"), self.d("2026-11-30"))),
            ("2026-11-30 20:59:00", (self.d("2026-11-01"), self.d("2026-11-30"))),
            # 21:00 UTC is midnight in Nairobi: December is not billed
            ("2026-11-30 21:00:00", None),
        ):
            with self.subTest(now=now), freeze_time(now):
                self.assertEqual(self.sub._isp_portal_current_period(), expected)
