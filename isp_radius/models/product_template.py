# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    isp_usage_policy = fields.Selection(
        [
            ("none", "Nothing"),
            ("overage", "Bill the overage"),
            ("fup", "Fair use: slow down"),
        ],
        string="Over the allowance",
        default="none",
        required=True,
        help="What happens when a subscriber uses more than the data allowance: "
        "bill the extra data in arrears, or drop to the fair-use speed until the "
        "next period.",
    )
    isp_overage_product_id = fields.Many2one(
        "product.product",
        string="Overage product",
        help="Its sales price is the price of one block.",
    )
    isp_overage_block_gb = fields.Float(
        string="Overage block (GB)",
        default=1.0,
        digits=(12, 3),
        help="Extra data is billed in whole blocks of this size, rounded up.",
    )
    isp_topup_product_id = fields.Many2one(
        "product.product",
        string="Data top-up product",
        help="Offered on the portal near the cap: its sales price (with its "
        "taxes) buys the top-up size of extra data for the current period, "
        "invoiced at once.",
    )
    isp_topup_gb = fields.Float(
        string="Top-up size (GB)",
        default=1.0,
        digits=(12, 3),
        help="Extra data one top-up adds to the current period's allowance.",
    )
    isp_fup_download_mbps = fields.Float(string="Fair-use download (Mbps)")
    isp_fup_upload_mbps = fields.Float(string="Fair-use upload (Mbps)")

    @api.constrains(
        "isp_usage_policy",
        "isp_overage_product_id",
        "isp_overage_block_gb",
        "isp_fup_download_mbps",
        "isp_data_unlimited",
        "isp_topup_product_id",
        "isp_topup_gb",
    )
    def _check_isp_usage_policy(self):
        for plan in self.filtered("isp_is_plan"):
            if plan.isp_topup_product_id and (
                plan.isp_data_unlimited or plan.isp_topup_gb <= 0
            ):
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s offers a data top-up: it needs a data "
                        "allowance and a top-up size above zero.",
                        plan=plan.name,
                    )
                )
            if plan.isp_usage_policy != "none" and plan.isp_data_unlimited:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s has unlimited data: it has no allowance to "
                        "go over.",
                        plan=plan.name,
                    )
                )
            if plan.isp_usage_policy == "overage" and (
                not plan.isp_overage_product_id or plan.isp_overage_block_gb <= 0
            ):
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s bills the overage: set the overage product "
                        "and a block size above zero.",
                        plan=plan.name,
                    )
                )
            if plan.isp_usage_policy == "fup" and plan.isp_fup_download_mbps <= 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s slows down over its allowance: set the "
                        "fair-use speed.",
                        plan=plan.name,
                    )
                )
