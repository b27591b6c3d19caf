# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_risk_grace_days = fields.Integer(
        string="Payment risk: grace days",
        default=0,
        help="An invoice counts as paid late when it is paid more than this "
        "many days after its due date.",
    )
    isp_risk_min_invoices = fields.Integer(
        string="Payment risk: minimum invoices",
        default=500,
        help="Settled invoices the history needs before the payment risk is scored.",
    )
    isp_risk_min_months = fields.Integer(
        string="Payment risk: minimum months",
        default=6,
        help="Months of invoices the history needs before the payment risk is scored.",
    )

    @api.constrains(
        "isp_risk_grace_days", "isp_risk_min_invoices", "isp_risk_min_months"
    )
    def _check_isp_risk_settings(self):
        for company in self:
            if company.isp_risk_grace_days < 0:
                raise ValidationError(self.env._("Grace days cannot be negative."))
            if company.isp_risk_min_invoices < 1:
                raise ValidationError(
                    self.env._("The payment risk needs at least one invoice.")
                )
            if company.isp_risk_min_months < 4:
                raise ValidationError(
                    self.env._(
                        "The payment risk needs at least 4 months of history: "
                        "the last 3 are kept to evaluate it."
                    )
                )
