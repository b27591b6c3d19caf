# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The M-PESA instructions the subscriber reads (portal, invoice PDF,
e-mails, SMS): the bridge from ``isp_billing``'s payment-instructions hook,
for a paybill (with the account number) or a till (Buy Goods, no account
number)."""

from odoo import models

from .. import const


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_mpesa_paybill_provider(self):
        """The company's M-PESA provider subscribers pay from their phone:
        not disabled, a paybill with its shortcode or a till with its till
        number; an enabled one before one in test mode; or an empty
        recordset."""
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
                    "|",
                    "&",
                    ("mpesa_shortcode_type", "=", "paybill"),
                    ("mpesa_shortcode", "!=", False),
                    "&",
                    ("mpesa_shortcode_type", "=", "till"),
                    ("mpesa_till_number", "!=", False),
                ],
                order="state, id",
                limit=1,
            )
        )

    def _isp_payment_instructions(self):
        """Override of `isp_billing`: on a subscription billed in Kenyan
        shillings, how to pay the company's M-PESA provider from the phone.
        A paybill: its number and the subscription's account number (what a
        paybill payment is matched by). A till (Buy Goods): its till number
        only, as a Buy Goods payment carries no account number (it is not
        matched to the subscriber by itself: isp_mpesa/README.md)."""
        texts = super()._isp_payment_instructions()
        if self.currency_id.name != const.CURRENCY or not self.account_number:
            return texts
        provider = self._isp_mpesa_paybill_provider()
        if provider.mpesa_shortcode_type == "till":
            texts.append(
                self.env._(
                    "M-PESA Buy Goods, till %(till)s",
                    till=provider.mpesa_till_number,
                )
            )
        elif provider:
            texts.append(
                self.env._(
                    "M-PESA Paybill %(paybill)s, account %(account)s",
                    paybill=provider.mpesa_shortcode,
                    account=self.account_number,
                )
            )
        return texts
