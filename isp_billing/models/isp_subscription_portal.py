# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The subscription's values for the customer portal (computed here, rendered
by ``controllers/portal.py``)."""

from collections import defaultdict
from datetime import timedelta

from odoo import models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_portal_current_period(self):
        """The billed period containing today: ``(first day, last day)`` or None."""
        self.ensure_one()
        period = self._isp_billed_period()
        if not period:
            return None
        return period.date_start, period.date_end - timedelta(days=1)

    def _isp_portal_statement(self):
        """The subscription's invoices and credit notes and the payments made
        on them, in date order, with a running balance.

        Amounts are signed as the customer owes them: an invoice adds, a
        credit note and a payment subtract (a refund paid out adds). On the
        same day, documents come before payments.

        :return: ``([{date, label, kind, amount, balance, url}], balance)``,
            ``kind`` one of ``invoice``, ``credit``, ``payment``
        :rtype: tuple
        """
        self.ensure_one()
        moves = self.invoice_line_ids.move_id.filtered(
            lambda m: (
                m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
            )
        )
        rows = []
        for move in moves:
            rows.append(
                {
                    "date": move.invoice_date,
                    "order": (0, move.id),
                    "label": move.name,
                    "kind": "invoice" if move.move_type == "out_invoice" else "credit",
                    "amount": move.amount_total_in_currency_signed,
                    "url": move.get_portal_url(),
                }
            )
        payments = defaultdict(float)
        payment_info = {}
        for move in moves:
            sign = -1 if move.move_type == "out_invoice" else 1
            for item in (move.invoice_payments_widget or {}).get("content", []):
                if item["is_exchange"] or item["move_id"] in moves.ids:
                    continue
                payments[item["move_id"]] += sign * item["amount"]
                payment_info[item["move_id"]] = item
        # Payments without a journal entry of their own (Odoo 18: a journal
        # without outstanding accounts) are only matched to the invoices.
        for payment in moves.matched_payment_ids.filtered(
            lambda p: not p.move_id and p.state in ("in_process", "paid")
        ):
            rows.append(
                {
                    "date": payment.date,
                    "order": (1, payment.id),
                    "label": payment.name,
                    "kind": "payment",
                    "amount": -payment.amount_signed,
                    "url": False,
                }
            )
        for move_id, amount in payments.items():
            item = payment_info[move_id]
            rows.append(
                {
                    "date": item["date"],
                    "order": (1, move_id),
                    "label": item["ref"],
                    "kind": "payment",
                    "amount": amount,
                    "url": False,
                }
            )
        rows.sort(key=lambda row: (row["date"], row["order"]))
        currency = self.currency_id
        balance = 0.0
        for row in rows:
            balance = currency.round(balance + row["amount"])
            row["balance"] = balance
        # The closing balance is the customer's one balance (_isp_balance):
        # what the rows above do not show (a payment not allocated yet, a
        # credit note or invoice of another subscription) is one last row.
        total = self._isp_balance()
        other = currency.round(total - balance)
        if not currency.is_zero(other):
            rows.append(
                {
                    "date": self._today(),
                    "order": (2, 0),
                    "label": self.env._("Other items on your account"),
                    "kind": "payment" if other < 0 else "invoice",
                    "amount": other,
                    "balance": total,
                    "url": False,
                }
            )
        return rows, total
