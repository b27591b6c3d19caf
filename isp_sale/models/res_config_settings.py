# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_sale_anchor = fields.Selection(
        related="company_id.isp_sale_anchor", readonly=False
    )
    isp_sale_welcome = fields.Boolean(
        related="company_id.isp_sale_welcome", readonly=False
    )
