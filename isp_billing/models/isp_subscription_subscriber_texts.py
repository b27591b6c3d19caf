# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the subscriber reads about paying: prices as they pay them (taxes
included), the next bill, and how to pay outside the portal (a hook that
payment add-ons such as ``isp_mpesa`` extend)."""

from odoo import models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_recurring_total_incl(self):
        """One full period of the recurring lines (plan and add-ons) as the
        customer pays it: their taxes included, computed by Odoo's taxes
        (:meth:`_get_lines_total`) as on an invoice line. Writes nothing.

        :rtype: float
        """
        self.ensure_one()
        return self._get_lines_total(
            [
                line._prepare_invoice_line(line.price_unit, line.name)
                for line in self._recurring_lines()
            ]
        )[1]

    def _isp_next_bill(self):
        """The next invoice of the subscription as the billing run would make
        it today: its date (the first day of the next period) and its total
        with taxes (the period's recurring lines, prorated if partial, the
        one-time lines not invoiced yet and the usage recorded so far of the
        period that ends then). Writes nothing.

        :return: ``(date, total with taxes)``, or ``None`` when nothing is
            billed any more (not running, or ending before the next period)
        :rtype: tuple | None
        """
        self.ensure_one()
        period = self._isp_next_bill_period()
        if not period:
            return None
        return period[0], self._get_lines_total(self._prepare_period_lines(*period))[1]

    def _isp_next_bill_period(self):
        """The period the next bill is for, ``(start, end)``: the next period
        to bill of a running (active or suspended) subscription, or ``None``
        (not running, or ending before the next period). The portal's list
        shows its first day as the next bill's date, the page the bill
        itself (:meth:`_isp_next_bill`). Writes nothing.

        :rtype: tuple | None
        """
        self.ensure_one()
        if self.state not in ("active", "suspended"):
            return None
        return self._next_period()

    def _isp_payment_instructions(self):
        """Extension point: how the subscriber pays this subscription outside
        the portal, one short sentence per way of paying, in the language of
        the context, e.g. ``isp_mpesa``'s "M-PESA Paybill 123456, account
        ACC000001". Shown on the portal page, the invoice PDF, the invoice and
        reminder e-mails and the SMS. Override it and extend ``super()``'s
        list. Writes nothing.

        :rtype: list[str]
        """
        self.ensure_one()
        return []
