# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    isp_billed_by_subscription = fields.Boolean(
        string="Billed by its ISP subscription",
        readonly=True,
        copy=False,
        help="This line went onto an ISP subscription when the order was "
        "confirmed: the subscription's invoices bill it, the order does not.",
    )

    # The order never invoices what its subscriptions bill: nothing to
    # invoice, so Sales' "Create invoice" cannot bill a plan a second time.
    @api.depends("isp_billed_by_subscription")
    def _compute_qty_to_invoice(self):
        res = super()._compute_qty_to_invoice()
        self.filtered("isp_billed_by_subscription").qty_to_invoice = 0.0
        return res

    @api.depends("isp_billed_by_subscription")
    def _compute_amount_to_invoice(self):
        res = super()._compute_amount_to_invoice()
        self.filtered("isp_billed_by_subscription").amount_to_invoice = 0.0
        return res

    @api.depends("isp_billed_by_subscription")
    def _compute_untaxed_amount_to_invoice(self):
        res = super()._compute_untaxed_amount_to_invoice()
        self.filtered("isp_billed_by_subscription").untaxed_amount_to_invoice = 0.0
        return res

    def _isp_subscription_line_type(self):
        """The subscription line type of this order line's product: the plan,
        a recurring add-on (products ticked *ISP recurring add-on*) or a
        one-time line (every other product)."""
        self.ensure_one()
        product = self.product_id
        if product.isp_is_plan:
            return "plan"
        return "addon" if product.isp_recurring_addon else "once"

    def _prepare_isp_subscription_line(self):
        """The ``isp.subscription.line`` values of this order line: its
        product, description, quantity and unit price after the line's
        discount, as quoted. Writes nothing.

        :rtype: dict
        """
        self.ensure_one()
        return {
            "product_id": self.product_id.id,
            "line_type": self._isp_subscription_line_type(),
            "name": self.name,
            "quantity": self.product_uom_qty,
            "price_unit": self.price_unit * (1.0 - (self.discount or 0.0) / 100.0),
            "sale_line_id": self.id,
        }
