# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .isp_payment_risk_mixin import STAFF


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "isp.payment.risk.mixin"]

    isp_risk_amount = fields.Monetary(
        string="Amount at risk",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        groups=STAFF,
        help="Risk of late payment times the amount due, when last scored.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        self._isp_risk_check_write(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._isp_risk_check_write([vals])
        return super().write(vals)
