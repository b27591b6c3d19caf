# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class IspSubscription(models.Model):
    """The subscription's current risk: that of an invoice it would get
    today (see ``riskcore.features.next_invoice``)."""

    _name = "isp.subscription"
    _inherit = ["isp.subscription", "isp.payment.risk.mixin"]

    @api.model_create_multi
    def create(self, vals_list):
        self._isp_risk_check_write(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._isp_risk_check_write([vals])
        return super().write(vals)
