# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class IspDunningStep(models.Model):
    _inherit = "isp.dunning.step"

    isp_risk_threshold = fields.Float(
        string="Only above risk",
        default=0.0,
        help="Run this step only for invoices whose risk of late payment is at "
        "least this (0: every invoice). Such a step only sends messages: the "
        "risk never suspends, throttles, terminates or charges anyone.",
    )

    @api.constrains("isp_risk_threshold", "action", "fee_product_id")
    def _check_isp_risk_threshold(self):
        for step in self:
            if not 0.0 <= step.isp_risk_threshold <= 1.0:
                raise ValidationError(
                    self.env._("The risk threshold is between 0 % and 100 %.")
                )
            if step.isp_risk_threshold and (
                step.action != "none" or step.fee_product_id
            ):
                raise ValidationError(
                    self.env._(
                        "A step limited by the payment risk can only send "
                        "messages: the risk never suspends, throttles, "
                        "terminates or charges anyone (step %(step)s).",
                        step=step.name,
                    )
                )
