# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The aged balance as PDF (QWeb): per currency, one line per customer with
its buckets, and the totals."""

from odoo import api, fields, models
from odoo.exceptions import AccessError

from .isp_report_aging import AGING_BUCKETS


class ReportIspAgedBalance(models.AbstractModel):
    _name = "report.isp_billing.report_isp_aged_balance"
    _description = "ISP aged receivable balance (PDF)"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env["isp.report.aging.line"].has_access("read"):
            raise AccessError(
                self.env._("Only accounting users may print the aged balance.")
            )
        date_at = fields.Date.to_date((data or {}).get("date_at")) or (
            self.env["isp.report.aging"]._aging_date()
        )
        rows = self.env["isp.report.aging"]._prepare_aging(
            date_at, groupby=("currency_id", "partner_id")
        )
        Line = self.env["isp.report.aging.line"]
        labels = dict(Line._fields["bucket"]._description_selection(self.env))
        by_currency = {}
        for row in rows:
            by_currency.setdefault(row["currency_id"], []).append(row)
        sections = []
        for currency_id, lines in by_currency.items():
            partners = self.env["res.partner"].browse([r["partner_id"] for r in lines])
            names = {p.id: p.display_name for p in partners}
            lines.sort(key=lambda r: names[r["partner_id"]].lower())
            keys = ["amount_residual"] + [
                f"amount_{k}" for k, _lo, _hi in AGING_BUCKETS
            ]
            sections.append(
                {
                    "currency": self.env["res.currency"].browse(currency_id),
                    "lines": [
                        dict(r, partner_name=names[r["partner_id"]]) for r in lines
                    ],
                    "totals": {k: sum(r[k] for r in lines) for k in keys},
                }
            )
        return {
            "doc_ids": docids,
            "doc_model": "isp.report.aging.wizard",
            "docs": self.env["isp.report.aging.wizard"].browse(docids),
            "date_at": date_at,
            "company": self.env.company,
            "buckets": [(f"amount_{k}", labels[k]) for k, _lo, _hi in AGING_BUCKETS],
            "sections": sections,
        }
