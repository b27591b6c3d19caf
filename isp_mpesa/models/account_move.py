# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import AccessError

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

    def action_mpesa_request_payment(self):
        """Open the "Request M-PESA payment" dialog for this invoice."""
        self.ensure_one()
        check_staff(self.env)
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_mpesa.action_isp_mpesa_request"
        )
        action["context"] = {"default_invoice_ids": self.ids}
        return action
