# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""*ISP → Reporting → Money by channel*: one row per posted customer payment
with the channel it came through (README, *Collections and aging
definitions*). Add-ons with their own channels (``isp_mpesa``) extend
``PAYMENT_CHANNELS`` with ``selection_add`` and ``_channel_sql``."""

from odoo import fields, models, tools

PAYMENT_CHANNELS = [
    ("card", "Card / saved token"),
    ("bank", "Bank"),
    ("manual", "Manual (cash, other)"),
]


class IspReportCollectionsPayment(models.Model):
    _name = "isp.report.collections.payment"
    _description = "ISP money by channel"
    _auto = False
    _rec_name = "payment_id"
    _order = "date desc, id desc"
    _depends = {
        "account.payment": [
            "company_id",
            "partner_id",
            "currency_id",
            "journal_id",
            "date",
            "amount",
            "payment_type",
            "partner_type",
            "state",
            "payment_transaction_id",
        ],
        "account.journal": ["type"],
        "payment.transaction": ["provider_id"],
        "res.partner": ["commercial_partner_id"],
    }

    payment_id = fields.Many2one("account.payment", string="Payment", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True)
    date = fields.Date(readonly=True)
    amount = fields.Monetary(readonly=True)
    channel = fields.Selection(PAYMENT_CHANNELS, readonly=True)

    def _channel_sql(self):
        """The SQL expression of a payment's channel, from ``payment``
        (account_payment), ``tx`` (its payment_transaction, if any),
        ``provider`` (the transaction's payment_provider) and ``journal``
        (account_journal)."""
        return """
            CASE WHEN tx.id IS NOT NULL THEN 'card'
                 WHEN journal.type = 'bank' THEN 'bank'
                 ELSE 'manual' END
        """

    def _query(self):
        return f"""
            SELECT payment.id, payment.id AS payment_id, payment.company_id,
                   partner.commercial_partner_id AS partner_id,
                   payment.currency_id, payment.journal_id, payment.date,
                   payment.amount, {self._channel_sql()} AS channel
              FROM account_payment payment
              JOIN account_journal journal ON journal.id = payment.journal_id
              LEFT JOIN res_partner partner ON partner.id = payment.partner_id
              LEFT JOIN payment_transaction tx
                     ON tx.id = payment.payment_transaction_id
              LEFT JOIN payment_provider provider ON provider.id = tx.provider_id
             WHERE payment.payment_type = 'inbound'
               AND payment.partner_type = 'customer'
               AND payment.state IN ('in_process', 'paid')
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"CREATE VIEW {self._table} AS ({self._query()})")
