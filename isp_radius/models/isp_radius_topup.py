# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspRadiusTopup(models.Model):
    """Extra data bought for one billing period of a subscription: it adds to
    the plan's allowance of that period only (overage, alerts and fair use
    count against the sum) and was invoiced when it was bought."""

    _name = "isp.radius.topup"
    _description = "Data top-up"
    _order = "id desc"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, readonly=True
    )
    period_start = fields.Date(
        string="Period start",
        required=True,
        readonly=True,
        help="First day of the billing period the data is for.",
    )
    product_id = fields.Many2one("product.product", required=True, readonly=True)
    gb = fields.Float(string="Data (GB)", digits=(12, 3), required=True, readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
