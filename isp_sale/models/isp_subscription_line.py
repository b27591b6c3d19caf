# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspSubscriptionLine(models.Model):
    _inherit = "isp.subscription.line"

    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Order line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="sales_team.group_sale_salesman",
    )
