# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoices that cannot be altered unseen (issue #15): the subscription
invoices' journal keeps Odoo's hash chain, the billing engine posts into it,
and Odoo's integrity check reports a posted invoice altered in SQL."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestInvoiceInalterability(IspBillingCommon):
    def _integrity(self):
        self.env.invalidate_all()
        results = self.company._check_hash_integrity()["results"]
        journal = self.company._isp_invoice_journal()
        return {
            r["journal_name"]: (r["status"], r["msg_cover"])
            for r in results
            if r["journal_name"].startswith(journal.name)
        }

    def test_engine_posts_hashed_invoices_and_sql_tampering_is_seen(self):
        journal = self.company._isp_invoice_journal()
        self.assertTrue(journal.restrict_mode_hash_table, "on for a new company")
        subs = self._active_subscription(
            self.plan_home, self.d("2026-11-01")
        ) | self._active_subscription(
            self.plan_business, self.d("2026-11-01"), partner=self.customer_2
        )
        invoices = self._bill(subs, self.d("2026-11-01"))
        self.assertEqual(len(invoices), 2)
        self.assertEqual(invoices.journal_id, journal)
        self.assertTrue(all(invoices.mapped("inalterable_hash")))
        [(status, _msg)] = self._integrity().values()
        self.assertEqual(status, "verified")

        # Staff cannot edit a posted, hashed invoice: a credit note instead.
        with self.assertRaises(UserError):
            invoices[0].button_draft()
        receivable = invoices[0].line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        with self.assertRaises(UserError):
            receivable.with_context(check_move_validity=False).debit = 1.0

        # 100 more on the invoice, balanced, behind Odoo's back.
        income = invoices[0].line_ids.filtered(lambda line: line.credit)[:1]
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move_line SET debit = debit + 100, balance = balance + 100"
            " WHERE id = %s",
            [receivable.id],
        )
        self.env.cr.execute(
            "UPDATE account_move_line SET credit = credit + 100,"
            " balance = balance - 100 WHERE id = %s",
            [income.id],
        )
        [(status, msg)] = self._integrity().values()
        self.assertEqual(status, "corrupted")
        self.assertIn(invoices[0].name, msg)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "account.action_report_account_hash_integrity", self.company.ids
            )[0]
            .decode()
        )
        self.assertIn("Corrupted data", html)

    def test_choosing_another_journal_secures_it_and_its_entries(self):
        """An ISP journal chosen later is secured at once, the invoices
        already posted in it hashed (as the migration does for existing
        databases)."""
        other = self.env["account.journal"].create(
            {
                "name": "ISP invoices 2",
                "code": "ISP2",
                "type": "sale",
                "company_id": self.company.id,
            }
        )
        self.assertFalse(other.restrict_mode_hash_table)
        invoice = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "journal_id": other.id,
                    "partner_id": self.customer.id,
                    "invoice_date": "2026-11-01",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Router",
                                "price_unit": 300.0,
                                "tax_ids": [Command.clear()],
                                "account_id": self.income_account.id,
                            }
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        self.assertFalse(invoice.inalterable_hash)
        self.company.isp_journal_id = other
        self.assertTrue(other.restrict_mode_hash_table)
        self.assertTrue(invoice.inalterable_hash)

    def test_integrity_check_in_the_isp_menu(self):
        menu = self.env.ref("isp_billing.isp_report_integrity_menu")
        self.assertEqual(
            menu.action, self.env.ref("account.action_check_hash_integrity")
        )
        self.assertEqual(
            menu.parent_id, self.env.ref("isp_billing.isp_billing_menu_reporting")
        )
