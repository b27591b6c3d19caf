# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class IspSubscriptionLine(models.Model):
    _name = "isp.subscription.line"
    _description = "ISP Subscription Line"
    _order = "subscription_id, sequence, id"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    sequence = fields.Integer(default=10)
    line_type = fields.Selection(
        [
            ("plan", "Plan"),
            ("addon", "Recurring add-on"),
            ("once", "One-time"),
        ],
        string="Type",
        required=True,
        compute="_compute_line_type",
        store=True,
        readonly=False,
        precompute=True,
        help="Plan and recurring add-ons are billed every period, in advance; "
        "one-time lines on the next invoice only.",
    )
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain=[("sale_ok", "=", True)],
    )
    name = fields.Text(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_unit = fields.Float(
        string="Unit price",
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        help="Price of one full period (one-time lines: of the line). Comes from the "
        "pricelist when the product is chosen.",
    )
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_price_subtotal", store=True
    )
    move_line_ids = fields.One2many(
        "account.move.line", "isp_subscription_line_id", string="Invoice lines"
    )
    invoiced = fields.Boolean(
        compute="_compute_invoiced",
        store=True,
        help="One-time line already on a posted or draft invoice.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.subscription_id._log_mrr_change()
        return lines

    def write(self, vals):
        subs = self.subscription_id
        result = super().write(vals)
        (subs | self.subscription_id)._log_mrr_change()
        return result

    def unlink(self):
        subs = self.subscription_id
        result = super().unlink()
        subs.exists()._log_mrr_change()
        return result

    @api.depends("product_id")
    def _compute_line_type(self):
        for line in self:
            if line.product_id.isp_is_plan:
                line.line_type = "plan"
            elif not line.line_type or line.line_type == "plan":
                line.line_type = "addon"

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                line.name = line.product_id.get_product_multiline_description_sale()

    @api.depends("product_id", "quantity")
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line._get_catalog_price(line.product_id)

    def _get_catalog_price(self, product):
        """The unit price of ``product`` on this line: the subscription's
        pricelist at its start date, else the product's sales price in the
        subscription's currency. Writes nothing."""
        self.ensure_one()
        if not product:
            return 0.0
        sub = self.subscription_id
        date = sub.date_start or fields.Date.context_today(self)
        if sub.pricelist_id:
            return sub.pricelist_id._get_product_price(
                product, self.quantity or 1.0, currency=sub.currency_id, date=date
            )
        return product.currency_id._convert(
            product.lst_price,
            sub.currency_id or product.currency_id,
            sub.company_id or self.env.company,
            date,
        )

    def _prepare_invoice_line(self, price_unit, name, start=None, end=None, **vals):
        """Return the ``account.move.line`` values that bill this line.

        :param float price_unit: the (prorated, rounded) unit price
        :param str name: the line's label
        :param date start: first day of the service period the line covers
        :param date end: first day after it
        :return: invoice line values (``vals`` override them)
        :rtype: dict
        """
        self.ensure_one()
        return {
            "product_id": self.product_id.id,
            "name": name,
            "quantity": self.quantity,
            "price_unit": price_unit,
            "isp_subscription_id": self.subscription_id.id,
            # Only one-time lines need the link (it marks them invoiced);
            # recurring lines would recompute that flag for nothing.
            "isp_subscription_line_id": self.id if self.line_type == "once" else False,
            "isp_period_start": start,
            "isp_period_end": end,
            **vals,
        }

    @api.depends("quantity", "price_unit")
    def _compute_price_subtotal(self):
        for line in self:
            line.price_subtotal = line.currency_id.round(
                line.quantity * line.price_unit
            )

    @api.depends("move_line_ids.parent_state")
    def _compute_invoiced(self):
        for line in self:
            line.invoiced = any(
                state != "cancel" for state in line.move_line_ids.mapped("parent_state")
            )

    @api.constrains("product_id", "line_type", "quantity", "price_unit")
    def _check_line(self):
        for line in self:
            sub = line.subscription_id
            if line.quantity <= 0:
                raise ValidationError(
                    self.env._(
                        "%(sub)s: the quantity of %(product)s must be above zero.",
                        sub=sub.display_name,
                        product=line.product_id.display_name,
                    )
                )
            if line.line_type == "plan" and not line.product_id.isp_is_plan:
                raise ValidationError(
                    self.env._(
                        "%(product)s is not a plan.",
                        product=line.product_id.display_name,
                    )
                )
            if line.line_type != "plan" and line.product_id.isp_is_plan:
                raise ValidationError(
                    self.env._(
                        "%(product)s is a plan: use it as the plan line.",
                        product=line.product_id.display_name,
                    )
                )
            if line.line_type != "once" and line.price_unit < 0:
                raise ValidationError(
                    self.env._(
                        "%(sub)s: recurring line %(product)s cannot have a negative "
                        "price.",
                        sub=sub.display_name,
                        product=line.product_id.display_name,
                    )
                )
            recurring = sub.line_ids.filtered(lambda other: other.line_type != "once")
            if len(recurring.filtered(lambda other: other.line_type == "plan")) > 1:
                raise ValidationError(
                    self.env._("%(sub)s can only have one plan.", sub=sub.display_name)
                )
            duplicates = recurring.filtered(
                lambda other, line=line: other.product_id == line.product_id
            )
            if line.line_type != "once" and len(duplicates) > 1:
                raise ValidationError(
                    self.env._(
                        "%(sub)s already has a line for %(product)s: change its "
                        "quantity instead of adding it twice.",
                        sub=sub.display_name,
                        product=line.product_id.display_name,
                    )
                )
