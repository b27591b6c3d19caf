# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    isp_subscription_id = fields.Many2one(
        "isp.subscription",
        string="Subscription",
        index="btree_not_null",
        ondelete="restrict",
        copy=False,
    )
    isp_subscription_line_id = fields.Many2one(
        "isp.subscription.line",
        string="Subscription line",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )
    isp_period_start = fields.Date(string="Service from", copy=False)
    isp_period_end = fields.Date(
        string="Service until (excluded)",
        copy=False,
        help="First day after the service period.",
    )
