# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoices that cannot be altered unseen: the subscription invoices' journal
keeps Odoo's inalterability hash chain (*Secure Posted Entries with Hash*)."""

from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _isp_invoice_journal(self):
        """The sales journal of subscription invoices (as the billing engine
        picks it): *ISP invoices journal*, else the company's first sales
        journal."""
        self.ensure_one()
        Journal = self.env["account.journal"]
        return self.isp_journal_id or Journal.search(
            [*Journal._check_company_domain(self), ("type", "=", "sale")], limit=1
        )

    def _isp_secure_invoice_journal(self):
        """Turn Odoo's hash chain on for these companies' subscription
        invoices' journal: every invoice posted there is hashed with the one
        before it, so a posted invoice altered afterwards (even in SQL) shows
        in Odoo's integrity check. Once entries are hashed, Odoo does not let
        it be turned off again. Entries already posted there are hashed at
        once, gaps in their numbering allowed (Odoo refuses to post the next
        invoice of a chain whose unhashed entries have a gap)."""
        for company in self:
            journal = company._isp_invoice_journal().sudo()
            if not journal or journal.restrict_mode_hash_table:
                continue
            journal.restrict_mode_hash_table = True
            posted = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("journal_id", "=", journal.id),
                        ("state", "=", "posted"),
                        ("inalterable_hash", "=", False),
                    ]
                )
            )
            if posted:
                posted._hash_moves(
                    force_hash=True, raise_if_gap=False, raise_if_no_document=False
                )
        return True

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies.filtered("isp_journal_id")._isp_secure_invoice_journal()
        return companies

    def write(self, vals):
        res = super().write(vals)
        if vals.get("isp_journal_id"):
            self._isp_secure_invoice_journal()
        return res
