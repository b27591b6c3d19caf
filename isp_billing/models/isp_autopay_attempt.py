# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class IspAutopayAttempt(models.Model):
    """One charge of a saved payment method for one invoice. The unique
    (invoice, attempt) key and the transaction's unique reference make an
    invoice charged at most once per attempt; a new attempt is only scheduled
    after the previous one failed."""

    _name = "isp.autopay.attempt"
    _description = "Auto-pay attempt"
    _order = "scheduled_date desc, id desc"

    invoice_id = fields.Many2one(
        "account.move", required=True, readonly=True, ondelete="cascade", index=True
    )
    subscription_id = fields.Many2one(
        "isp.subscription", readonly=True, index=True, ondelete="set null"
    )
    company_id = fields.Many2one(related="invoice_id.company_id", store=True)
    attempt = fields.Integer(required=True, readonly=True, default=0)
    scheduled_date = fields.Date(string="Scheduled date", required=True, readonly=True)
    token_id = fields.Many2one("payment.token", readonly=True)
    transaction_id = fields.Many2one("payment.transaction", readonly=True)
    amount = fields.Monetary(related="transaction_id.amount")
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("processing", "Processing"),
            ("done", "Paid"),
            ("failed", "Failed"),
            ("cancelled", "Not needed"),
        ],
        default="scheduled",
        required=True,
        readonly=True,
        index=True,
    )
    note = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "invoice_attempt_unique",
            "unique(invoice_id, attempt)",
            "An invoice is charged once per auto-pay attempt.",
        )
    ]

    @api.model
    def _schedule_first(self, invoices):
        """Invoices just posted: charge those of auto-pay subscriptions now."""
        # Most subscriptions do not pay by themselves: a batch of invoices none
        # of whose subscriptions does is done without looking at each invoice.
        if not invoices.sudo().line_ids.isp_subscription_id.filtered("autopay"):
            return
        vals_list = []
        for invoice in invoices:
            if invoice.move_type != "out_invoice" or invoice.state != "posted":
                continue
            subs = invoice.isp_subscription_ids.filtered(
                lambda s: s.autopay and s.autopay_token_id.active
            )
            if not subs:
                continue
            vals_list.append(
                {
                    "invoice_id": invoice.id,
                    "subscription_id": subs[0].id,
                    "token_id": subs[0].autopay_token_id.id,
                    "attempt": 0,
                    "scheduled_date": invoice.invoice_date
                    or fields.Date.context_today(self),
                }
            )
        if vals_list:
            self.sudo().create(vals_list)
            self.env.ref("isp_billing.ir_cron_isp_autopay")._trigger()

    def _retry_days(self):
        text = self.invoice_id.company_id.isp_autopay_retry_days or ""
        days = []
        for part in text.replace(";", ",").split(","):
            if part.strip().isdigit():
                days.append(int(part.strip()))
        return days

    @api.model
    def _cron_autopay(self, today=None, limit=100):
        """Charge the due attempts; settle those whose payment was pending."""
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        today = today or fields.Date.context_today(self)
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT id FROM isp_autopay_attempt
             WHERE (state = 'scheduled' AND scheduled_date <= %s)
                OR state = 'processing'
             ORDER BY scheduled_date, id
             LIMIT %s
             FOR NO KEY UPDATE SKIP LOCKED
            """,
            [today, limit],
        )
        attempts = self.sudo().browse(r[0] for r in self.env.cr.fetchall())
        for attempt in attempts:
            if attempt.state == "scheduled":
                attempt._charge(today, in_cron)
            else:
                attempt._settle(today)
            if in_cron:
                self.env.cr.commit()
        self.env["ir.cron"]._notify_progress(done=len(attempts), remaining=0)
        return len(attempts)

    def _charge(self, today, in_cron):
        self.ensure_one()
        invoice = self.invoice_id
        self.env.cr.execute(
            "SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", [invoice.id]
        )
        if invoice.payment_state not in ("not_paid", "partial"):
            self.write({"state": "cancelled", "note": self.env._("Already paid.")})
            return
        token = self.token_id
        if not token.active or not self.subscription_id.autopay:
            self.write(
                {
                    "state": "cancelled",
                    "note": self.env._("Auto-pay was turned off or the card removed."),
                }
            )
            return
        Tx = self.env["payment.transaction"].sudo()
        tx = Tx.create(
            {
                "provider_id": token.provider_id.id,
                "payment_method_id": token.payment_method_id.id,
                "token_id": token.id,
                "reference": Tx._compute_reference(
                    token.provider_id.code, prefix=f"{invoice.name}-AP{self.attempt}"
                ),
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": token.partner_id.id,
                "operation": "offline",
                "invoice_ids": [(6, 0, invoice.ids)],
            }
        )
        self.write({"transaction_id": tx.id, "state": "processing"})
        if in_cron:
            # Recorded before the charge: a crash after it cannot charge twice.
            self.env.cr.commit()
        try:
            tx._send_payment_request()
        except Exception as error:  # noqa: BLE001 - the provider's own error
            _logger.info("Auto-pay of %s failed: %s", invoice.name, error)
            tx._set_error(str(error))
        self._settle(today)

    def _settle(self, today):
        self.ensure_one()
        if self.state != "processing":
            return
        tx = self.transaction_id
        if tx.state == "done":
            if not tx.is_post_processed:
                tx._post_process()
            self.write({"state": "done", "note": False})
            _logger.info("Auto-pay of %s paid (%s)", self.invoice_id.name, tx.reference)
        elif tx.state in ("error", "cancel"):
            self.write(
                {"state": "failed", "note": tx.state_message or self.env._("Declined")}
            )
            self._schedule_retry()
        # pending / authorized: looked at again on the next run

    def _schedule_retry(self):
        self.ensure_one()
        days = self._retry_days()
        if self.attempt >= len(days):
            self.subscription_id.message_post(
                body=self.env._(
                    "Auto-pay of %(invoice)s failed %(n)s times; reminders take over.",
                    invoice=self.invoice_id.name,
                    n=self.attempt + 1,
                ),
                subtype_xmlid="mail.mt_note",
            )
            return
        first = self.search(
            [("invoice_id", "=", self.invoice_id.id), ("attempt", "=", 0)]
        )
        self.create(
            {
                "invoice_id": self.invoice_id.id,
                "subscription_id": self.subscription_id.id,
                "token_id": self.token_id.id,
                "attempt": self.attempt + 1,
                "scheduled_date": first.scheduled_date
                + timedelta(days=days[self.attempt]),
            }
        )
