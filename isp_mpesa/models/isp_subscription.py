# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from .account_move import check_staff


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    mpesa_payable = fields.Boolean(
        string="Payable with M-PESA",
        compute="_compute_mpesa_payable",
        help="Running and billed in Kenyan shillings, the only currency M-PESA takes.",
    )

    mpesa_receipt = fields.Char(
        string="M-PESA receipt",
        compute="_compute_mpesa_receipt",
        search="_search_mpesa_receipt",
        help="Search only: the subscriptions whose invoices an M-PESA receipt paid.",
    )

    def _compute_mpesa_receipt(self):
        self.mpesa_receipt = False

    def _search_mpesa_receipt(self, operator, value):
        """Subscriptions with an invoice paid by the matching receipts: the
        invoices of their payment transaction, and those their payment was
        reconciled with (a balance payment pays several)."""
        if operator not in ("=", "ilike", "=ilike") or not isinstance(value, str):
            raise UserError(self.env._("Unsupported search."))
        receipts = self.env["isp.mpesa.payment"].search([("name", operator, value)])
        invoices = (
            receipts.transaction_id.invoice_ids
            | receipts.payment_id.reconciled_invoice_ids
        )
        return [("id", "in", invoices.isp_subscription_ids.ids)]

    @api.depends("state", "currency_id")
    def _compute_mpesa_payable(self):
        for sub in self:
            sub.mpesa_payable = (
                sub.state in ("active", "suspended")
                and sub.currency_id.name == const.CURRENCY
            )

    def action_mpesa_request_payment(self):
        """Ask the subscriber to pay what is open on this subscription."""
        self.ensure_one()
        check_staff(self.env, "isp_billing.group_isp_user")  # the ISP's staff
        self.check_access("read")
        if not self.mpesa_payable:
            raise UserError(
                self.env._(
                    "%(sub)s cannot be paid with M-PESA: only running "
                    "subscriptions billed in %(currency)s can.",
                    sub=self.display_name,
                    currency=const.CURRENCY,
                )
            )
        invoices = self._isp_open_invoices()
        if not invoices:
            raise UserError(self.env._("%s owes nothing.", self.display_name))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_mpesa.action_isp_mpesa_request"
        )
        action["context"] = {"default_invoice_ids": invoices.ids}
        return action
