# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The paybill instructions the subscriber reads (portal, invoice PDF,
e-mails, SMS): the bridge from ``isp_billing``'s payment-instructions hook."""

from odoo import models

from .. import const


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_mpesa_paybill_provider(self):
        """The company's M-PESA provider that takes paybill payments (not
        disabled, a paybill shortcode set), or an empty recordset."""
        self.ensure_one()
        # Read as superuser: the subscriber (portal) may not read providers,
        # and the shortcode is public (printed on every invoice).
        return (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "=", "mpesa"),
                    ("state", "!=", "disabled"),
                    ("company_id", "=", self.company_id.id),
                    ("mpesa_shortcode_type", "=", "paybill"),
                    ("mpesa_shortcode", "!=", False),
                ],
                order="state, id",
                limit=1,
            )
        )

    def _isp_payment_instructions(self):
        """Override of `isp_billing`: on a subscription billed in Kenyan
        shillings, the paybill of the company's M-PESA provider with the
        subscription's account number (what a paybill payment is matched by)."""
        texts = super()._isp_payment_instructions()
        if self.currency_id.name != const.CURRENCY or not self.account_number:
            return texts
        provider = self._isp_mpesa_paybill_provider()
        if provider:
            texts.append(
                self.env._(
                    "M-PESA Paybill %(paybill)s, account %(account)s",
                    paybill=provider.mpesa_shortcode,
                    account=self.account_number,
                )
            )
        return texts
