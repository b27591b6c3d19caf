# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const

# Who may ask a customer to pay with M-PESA from the backend (ISP / User
# implies it).
STAFF_GROUP = "account.group_account_invoice"


def check_staff(env, group=STAFF_GROUP):
    """Before any sudo(): the caller is staff who may ask customers to pay."""
    if not env.su and not env.user.has_group(group):
        raise AccessError(
            env._("Only invoicing staff can request M-PESA payments from customers.")
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    mpesa_payable = fields.Boolean(
        string="Payable with M-PESA",
        compute="_compute_mpesa_payable",
        help="A posted customer invoice still to pay, in Kenyan shillings, the "
        "only currency M-PESA takes.",
    )

    @api.depends("state", "move_type", "payment_state", "currency_id")
    def _compute_mpesa_payable(self):
        for move in self:
            move.mpesa_payable = (
                move.state == "posted"
                and move.move_type == "out_invoice"
                and move.payment_state in ("not_paid", "partial")
                and move.currency_id.name == const.CURRENCY
            )

    def action_mpesa_request_payment(self):
        """Open the "Request M-PESA payment" dialog for this invoice."""
        self.ensure_one()
        check_staff(self.env)
        self.check_access("read")
        if not self.mpesa_payable:
            raise UserError(
                self.env._(
                    "%(invoice)s cannot be paid with M-PESA: only posted invoices "
                    "in %(currency)s with an amount to pay can.",
                    invoice=self.display_name,
                    currency=const.CURRENCY,
                )
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_mpesa.action_isp_mpesa_request"
        )
        action["context"] = {"default_invoice_ids": self.ids}
        return action
