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
        invoices = self._isp_open_invoices()
        if not invoices:
            raise UserError(self.env._("%s owes nothing.", self.display_name))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_mpesa.action_isp_mpesa_request"
        )
        action["context"] = {"default_invoice_ids": invoices.ids}
        return action
