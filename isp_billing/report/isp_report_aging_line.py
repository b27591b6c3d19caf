# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""*ISP → Reporting → Receivables aging*: the aged balance as of a date, one
row per open invoice instalment (net of the customer's credits) and one per
customer left in credit, for pivot, list and spreadsheet export."""

from odoo import api, fields, models

from .isp_report_aging import AGING_BUCKETS

BUCKET_LABELS = {
    "current": "Current",
    "1_30": "1-30 days",
    "31_60": "31-60 days",
    "61_90": "61-90 days",
    "over_90": "Over 90 days",
}


class IspReportAgingLine(models.Model):
    _name = "isp.report.aging.line"
    _description = "ISP receivables aging"
    _auto = False
    _rec_name = "partner_id"
    _order = "partner_id, currency_id, date_due, id"
    # what the query reads: flushed before the rows are read
    _depends = {
        "account.move.line": [
            "move_id",
            "company_id",
            "partner_id",
            "account_id",
            "currency_id",
            "date",
            "date_maturity",
            "amount_currency",
            "amount_residual_currency",
            "parent_state",
            "reconciled",
        ],
        "account.partial.reconcile": [
            "debit_move_id",
            "credit_move_id",
            "debit_amount_currency",
            "credit_amount_currency",
            "max_date",
        ],
        "account.account": ["account_type"],
        "res.partner": ["commercial_partner_id"],
    }

    date_at = fields.Date(string="As of", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        readonly=True,
        help="Empty: the customer's credit left after its open items are paid.",
    )
    move_line_id = fields.Many2one(
        "account.move.line", string="Journal item", readonly=True
    )
    date_due = fields.Date(string="Due date", readonly=True)
    days_overdue = fields.Integer(
        string="Days past due", readonly=True, aggregator=False
    )
    bucket = fields.Selection(
        [(key, BUCKET_LABELS[key]) for key, _lo, _hi in AGING_BUCKETS],
        readonly=True,
    )
    amount_residual = fields.Monetary(string="Total", readonly=True)
    amount_current = fields.Monetary(string="Current", readonly=True)
    amount_1_30 = fields.Monetary(string="1-30", readonly=True)
    amount_31_60 = fields.Monetary(string="31-60", readonly=True)
    amount_61_90 = fields.Monetary(string="61-90", readonly=True)
    amount_over_90 = fields.Monetary(string="Over 90", readonly=True)

    @property
    def _table_query(self):
        """The aging as of ``isp_aging_date`` (context, default today) in the
        user's allowed companies."""
        Aging = self.env["isp.report.aging"]
        return Aging._aging_sql(Aging._aging_date(), self.env.companies.ids)

    @api.model
    def _isp_action(self, date_at):
        """The window action of the aging as of ``date_at``."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_report_aging_line_action"
        )
        action["context"] = {"isp_aging_date": fields.Date.to_string(date_at)}
        action["display_name"] = self.env._(
            "Receivables aging as of %(date)s",
            date=fields.Date.to_string(date_at),
        )
        return action
