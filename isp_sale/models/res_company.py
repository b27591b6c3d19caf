# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_sale_anchor = fields.Selection(
        [
            ("activation", "Activation day"),
            ("month_start", "First of the next month"),
        ],
        string="Billing anchor of sold subscriptions",
        default="month_start",
        required=True,
        help="Where the periods of a subscription sold through Sales start. "
        "First of the next month: the first invoice is prorated from the "
        "activation day to the 1st (plans billed by months or years; plans "
        "billed by days or weeks start on the activation day).",
    )
    isp_sale_welcome = fields.Boolean(
        string="Welcome new subscribers",
        default=True,
        help="When a subscription sold through Sales is activated, invite the "
        "customer to the portal and send the welcome e-mail and SMS with the "
        "PPPoE login.",
    )
