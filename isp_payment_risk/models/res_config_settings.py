# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_risk_grace_days = fields.Integer(
        related="company_id.isp_risk_grace_days", readonly=False
    )
    isp_risk_min_invoices = fields.Integer(
        related="company_id.isp_risk_min_invoices", readonly=False
    )
    isp_risk_min_months = fields.Integer(
        related="company_id.isp_risk_min_months", readonly=False
    )
