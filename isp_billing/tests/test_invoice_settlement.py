# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The settlement date stored on the invoices (``account.move.isp_date_paid``,
README, *Collections and aging definitions*), which the *Invoices paid*
report reads: kept by Odoo's reconciliations as they happen, and written by
the 18.0.1.8.0 migration for the invoices that existed before it."""

import importlib.util

from odoo.tests import tagged
from odoo.tools import file_path
from odoo.tools.sql import column_exists

from .common import IspCollectionsCommon


def run_pre_migration(env, version):
    path = file_path(f"isp_billing/migrations/{version}/pre-migrate.py")
    spec = importlib.util.spec_from_file_location("isp_billing_pre_migrate", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.migrate(env.cr, version)


@tagged("post_install", "-at_install")
class TestInvoiceSettlement(IspCollectionsCommon):
    """Customer B's invoice I7 of 1,000.00 dated 01/05/2026, due 15/05,
    beside the April book of the collections report."""

    def setUp(self):
        super().setUp()
        self.i7 = self._book_document(self.customer_2, "2026-05-01", "2026-05-15", 1000)

    def _row(self, invoice):
        """The invoice's row of *Invoices paid*."""
        self.env.flush_all()
        self.env.invalidate_all()
        return self.env["isp.report.collections.invoice"].search(
            [("move_id", "=", invoice.id)]
        )

    def _receivable(self, move):
        """The receivable line of ``move`` (an invoice's, a credit note's or
        a payment's)."""
        return move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def test_partial_then_full_payment(self):
        """400.00 on 05/05: not paid, no date. The other 600.00 on 20/05:
        paid on 20/05, 19 days after its date, after its due date."""
        self._book_pay(self.i7, "2026-05-05", amount=400)
        self.assertEqual(self.i7.payment_state, "partial")
        self.assertFalse(self.i7.isp_date_paid)
        self.assertEqual(self._row(self.i7).days_to_pay_bucket, "unpaid")
        self._book_pay(self.i7, "2026-05-20", amount=600)
        self.assertIn(self.i7.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-20"))
        row = self._row(self.i7)
        self.assertEqual(
            (row.date_paid, row.days_to_pay, row.days_to_pay_bucket, row.paid_on_time),
            (self.d("2026-05-20"), 19, "16_30", False),
        )

    def test_unreconcile(self):
        """Paid in two parts, 05/05 and 10/05: paid on 10/05. The 10/05
        payment unmatched: not paid again. Matched again: 10/05. The 05/05
        payment unmatched then: not paid."""
        first = self._book_pay(self.i7, "2026-05-05", amount=400)
        second = self._book_pay(self.i7, "2026-05-10", amount=600)
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-10"))
        second_line = self._receivable(second.move_id)
        second_line.remove_move_reconcile()
        self.assertEqual(self.i7.payment_state, "partial")
        self.assertFalse(self.i7.isp_date_paid)
        self.assertEqual(self._row(self.i7).days_to_pay_bucket, "unpaid")
        (second_line + self._receivable(self.i7)).reconcile()
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-10"))
        self._receivable(first.move_id).remove_move_reconcile()
        self.assertFalse(self.i7.isp_date_paid)

    def test_credit_note(self):
        """600.00 paid on 05/05, then a credit note of 400.00 dated 12/05
        matched with the rest: settled on 12/05 (the later match, paid by
        its due date). Another invoice wholly cancelled by a credit note is
        *reversed*: no date, and not in the report."""
        self._book_pay(self.i7, "2026-05-05", amount=600)
        refund = self._book_document(
            self.customer_2, "2026-05-12", "2026-05-12", 400, "out_refund"
        )
        (self._receivable(refund) + self._receivable(self.i7)).reconcile()
        self.assertIn(self.i7.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-12"))
        self.assertEqual(
            (self._row(self.i7).days_to_pay, self._row(self.i7).paid_on_time),
            (11, True),
        )
        # the credit note itself has no settlement date (it is not a debit)
        self.assertFalse(refund.isp_date_paid)

        i8 = self._book_document(self.customer_2, "2026-05-02", "2026-05-16", 300)
        i8._reverse_moves([{"date": "2026-05-03"}], cancel=True)
        self.assertEqual(i8.payment_state, "reversed")
        self.assertFalse(i8.isp_date_paid)
        self.assertFalse(self._row(i8))

    def test_payment_date_edited(self):
        """Paid on 05/05; the payment reset to draft (its match undone),
        dated 08/05, posted and matched again: settled on 08/05. (Odoo
        refuses a new date on a posted entry: this is how a payment's date
        is edited.)"""
        payment = self._book_pay(self.i7, "2026-05-05")
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-05"))
        payment.action_draft()
        self.assertFalse(self.i7.isp_date_paid)
        payment.date = "2026-05-08"
        payment.action_post()
        (self._receivable(payment.move_id) + self._receivable(self.i7)).reconcile()
        self.assertEqual(self.i7.isp_date_paid, self.d("2026-05-08"))
        self.assertEqual(self._row(self.i7).days_to_pay, 7)

    def test_migration_fills_the_same_dates(self):
        """The migration's SQL gives every move the date the ORM computes:
        the April book (paid in full, by card, unpaid, a credit note), I7
        partly paid, I8 paid then matched with a credit note too."""
        self._book_pay(self.i7, "2026-05-05", amount=400)
        i8 = self._book_document(self.customer_2, "2026-05-02", "2026-05-16", 300)
        self._book_pay(i8, "2026-05-06", amount=100)
        refund = self._book_document(
            self.customer_2, "2026-05-09", "2026-05-09", 200, "out_refund"
        )
        (self._receivable(refund) + self._receivable(i8)).reconcile()
        Move = self.env["account.move"]
        self.env.flush_all()
        moves = Move.search([("company_id", "=", self.company.id)])
        expected = {
            self.i1: self.d("2026-04-03"),
            self.i2: self.d("2026-04-15"),
            self.i3: False,
            self.i4: self.d("2026-04-12"),
            self.i5: self.d("2026-04-02"),
            self.i6: self.d("2026-04-18"),
            self.i7: False,
            i8: self.d("2026-05-09"),
        }
        for invoice, day in expected.items():
            self.assertEqual(invoice.isp_date_paid, day, invoice.name)
        computed = {move.id: move.isp_date_paid for move in moves}
        self.assertEqual(sum(1 for day in computed.values() if day), 6)

        # as before the field: no column, then the migration
        self.env.cr.execute(
            "ALTER TABLE account_move DROP COLUMN isp_date_paid CASCADE"
        )
        self.assertFalse(column_exists(self.env.cr, "account_move", "isp_date_paid"))
        run_pre_migration(self.env, "18.0.1.8.0")
        self.env.invalidate_all()
        self.assertEqual({move.id: move.isp_date_paid for move in moves}, computed)
        # every move of the database, the demo's and other tests' too
        self.env.cr.execute("SELECT id, isp_date_paid FROM account_move")
        stored = dict(self.env.cr.fetchall())
        everything = Move.browse(stored)
        self.env.add_to_compute(Move._fields["isp_date_paid"], everything)
        self.assertEqual(
            {move.id: move.isp_date_paid or None for move in everything}, stored
        )
