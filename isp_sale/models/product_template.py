# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    isp_recurring_addon = fields.Boolean(
        string="ISP recurring add-on",
        help="Sold with a plan, this product is billed with the subscription "
        "every period (router rental, static IP). Unticked, a product sold with "
        "a plan is a one-time line of the subscription's first invoice "
        "(installation).",
    )
