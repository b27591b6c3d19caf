# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def action_mpesa_request_payment(self):
        """Open the "Request M-PESA payment" dialog for this invoice."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_mpesa.action_isp_mpesa_request"
        )
        action["context"] = {"default_invoice_ids": self.ids}
        return action
