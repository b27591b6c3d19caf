# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""*ISP → Reporting → Invoices paid*: one row per posted customer invoice
with the day it was settled, its days to pay and whether it was paid by its
due date (README, *Collections and aging definitions*)."""

from odoo import fields, models, tools

DAYS_TO_PAY_BUCKETS = [
    ("0_7", "0-7 days"),
    ("8_15", "8-15 days"),
    ("16_30", "16-30 days"),
    ("31_60", "31-60 days"),
    ("over_60", "Over 60 days"),
    ("unpaid", "Not paid"),
]


class IspReportCollectionsInvoice(models.Model):
    _name = "isp.report.collections.invoice"
    _description = "ISP invoices paid"
    _auto = False
    _rec_name = "move_id"
    _order = "invoice_date desc, id desc"
    _depends = {
        "account.move": [
            "company_id",
            "commercial_partner_id",
            "currency_id",
            "invoice_date",
            "invoice_date_due",
            "amount_total",
            "move_type",
            "state",
            "payment_state",
            "isp_date_paid",
        ],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    invoice_date = fields.Date(string="Invoice date", readonly=True)
    date_due = fields.Date(string="Due date", readonly=True)
    date_paid = fields.Date(
        string="Paid on",
        readonly=True,
        help="The accounting date of the last payment or credit note that "
        "settled it (the later of the two matched entries' dates).",
    )
    amount_total = fields.Monetary(string="Total", readonly=True)
    days_to_pay = fields.Integer(string="Days to pay", readonly=True, aggregator="avg")
    days_to_pay_bucket = fields.Selection(
        DAYS_TO_PAY_BUCKETS, string="Days to pay (range)", readonly=True
    )
    paid_on_time = fields.Boolean(string="Paid by due date", readonly=True)
    nb_invoices = fields.Integer(string="Invoices", readonly=True)
    nb_paid_on_time = fields.Integer(string="Paid by due date (count)", readonly=True)

    def _date_paid_join(self):
        """The SQL join that gives each invoice ``move`` the day it was
        settled, ``paid.date_paid`` (NULL while it is not), computed from the
        reconciliations: the latest ``max_date`` of the reconciliations of
        its receivable lines, once it is paid or in payment. The view reads
        the same date stored on the invoice (``account.move.isp_date_paid``,
        kept by the ORM); this join is read by ``isp_payment_risk``, whose
        histories may be written in SQL."""
        return """LEFT JOIN LATERAL (
                    SELECT MAX(apr.max_date) AS date_paid
                      FROM account_move_line line
                      JOIN account_partial_reconcile apr
                        ON apr.debit_move_id = line.id
                     WHERE line.move_id = move.id
                       -- its receivable (the lines a payment is matched with)
                       AND line.display_type = 'payment_term'
                       AND move.payment_state IN ('paid', 'in_payment')
              ) paid ON TRUE"""

    def _query(self):
        """The SQL of the view (also read by the collections service)."""
        return """
            SELECT move.id, move.id AS move_id, move.company_id,
                   move.commercial_partner_id AS partner_id, move.currency_id,
                   move.invoice_date, move.invoice_date_due AS date_due,
                   move.isp_date_paid AS date_paid, move.amount_total,
                   move.isp_date_paid - move.invoice_date AS days_to_pay,
                   CASE WHEN move.isp_date_paid IS NULL THEN 'unpaid'
                        WHEN move.isp_date_paid - move.invoice_date <= 7 THEN '0_7'
                        WHEN move.isp_date_paid - move.invoice_date <= 15 THEN '8_15'
                        WHEN move.isp_date_paid - move.invoice_date <= 30 THEN '16_30'
                        WHEN move.isp_date_paid - move.invoice_date <= 60
                          THEN '31_60'
                        ELSE 'over_60' END AS days_to_pay_bucket,
                   COALESCE(move.isp_date_paid <= move.invoice_date_due, FALSE)
                     AS paid_on_time,
                   1 AS nb_invoices,
                   CASE WHEN move.isp_date_paid <= move.invoice_date_due
                        THEN 1 ELSE 0
                   END AS nb_paid_on_time
              FROM account_move move
             WHERE move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.payment_state != 'reversed'
               AND move.amount_total != 0
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"CREATE VIEW {self._table} AS ({self._query()})")
