# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    """A service plan is a product: its price, taxes, income account and pricelist
    rules stay Odoo's; the plan adds the speeds, the data allowance and the billing
    period."""

    _inherit = "product.template"

    isp_is_plan = fields.Boolean(
        string="ISP plan",
        help="A service plan that subscriptions are billed for.",
    )
    isp_download_mbps = fields.Float(string="Download (Mbps)", digits=(12, 2))
    isp_upload_mbps = fields.Float(string="Upload (Mbps)", digits=(12, 2))
    isp_data_unlimited = fields.Boolean(string="Unlimited data", default=True)
    isp_data_allowance_gb = fields.Float(
        string="Data allowance (GB)",
        digits=(12, 3),
        help="Data included in one billing period (1 GB = 10^9 bytes).",
    )
    isp_period_interval = fields.Integer(string="Billing every", default=1)
    isp_period_unit = fields.Selection(
        [
            ("day", "Days"),
            ("week", "Weeks"),
            ("month", "Months"),
            ("year", "Years"),
        ],
        string="Billing period unit",
        default="month",
    )
    isp_setup_fee_product_id = fields.Many2one(
        "product.product",
        string="Setup fee",
        domain=[("isp_is_plan", "=", False), ("sale_ok", "=", True)],
        help="One-time product added to a new subscription's first invoice.",
    )
    isp_payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Payment terms",
        company_dependent=True,
        help="Payment terms of this plan's invoices, unless the customer has their "
        "own.",
    )
    isp_period_label = fields.Char(
        string="Billing period", compute="_compute_isp_period_label"
    )
    isp_subscription_count = fields.Integer(
        string="Subscriptions", compute="_compute_isp_subscription_count"
    )

    @api.depends("isp_period_interval", "isp_period_unit")
    def _compute_isp_period_label(self):
        _ = self.env._
        labels = {
            "day": (_("day"), _("days")),
            "week": (_("week"), _("weeks")),
            "month": (_("month"), _("months")),
            "year": (_("year"), _("years")),
        }
        for template in self:
            unit = template.isp_period_unit
            if not template.isp_is_plan or not unit:
                template.isp_period_label = False
                continue
            count = template.isp_period_interval
            template.isp_period_label = _(
                "%(count)s %(unit)s",
                count=count,
                unit=labels[unit][0 if count == 1 else 1],
            )

    def _compute_isp_subscription_count(self):
        counts = defaultdict(int)
        for product, count in self.env["isp.subscription.line"]._read_group(
            [
                ("product_id.product_tmpl_id", "in", self.ids),
                ("line_type", "=", "plan"),
                ("subscription_id.state", "in", ("active", "suspended")),
            ],
            ["product_id"],
            ["__count"],
        ):
            counts[product.product_tmpl_id] += count
        for template in self:
            template.isp_subscription_count = counts[template]

    @api.onchange("isp_is_plan")
    def _onchange_isp_is_plan(self):
        if self.isp_is_plan:
            self.type = "service"
            self.sale_ok = True

    @api.constrains(
        "isp_is_plan",
        "type",
        "list_price",
        "isp_period_interval",
        "isp_period_unit",
        "isp_data_unlimited",
        "isp_data_allowance_gb",
        "isp_download_mbps",
        "isp_upload_mbps",
    )
    def _check_isp_plan(self):
        for template in self.filtered("isp_is_plan"):
            if template.type != "service":
                raise ValidationError(
                    self.env._("Plan %(plan)s must be a service.", plan=template.name)
                )
            if template.list_price <= 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s has no price: set a sales price above zero.",
                        plan=template.name,
                    )
                )
            if template.isp_period_interval < 1 or not template.isp_period_unit:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s needs a billing period of at least one day, "
                        "week, month or year.",
                        plan=template.name,
                    )
                )
            if not template.isp_data_unlimited and template.isp_data_allowance_gb <= 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s has limited data: set a data allowance above "
                        "zero, or tick 'Unlimited data'.",
                        plan=template.name,
                    )
                )
            if template.isp_download_mbps < 0 or template.isp_upload_mbps < 0:
                raise ValidationError(
                    self.env._(
                        "Speeds of plan %(plan)s cannot be negative.",
                        plan=template.name,
                    )
                )

    def action_view_isp_subscriptions(self):
        self.ensure_one()
        self.env["isp.subscription"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_subscription_action"
        )
        action["domain"] = [("plan_id.product_tmpl_id", "=", self.id)]
        return action
