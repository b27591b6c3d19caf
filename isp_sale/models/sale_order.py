# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .crm_lead import COVERAGE_STATES

# Who may sell outside the coverage areas (the override of an order).
COVERAGE_OVERRIDE_GROUP = "sales_team.group_sale_manager"
COVERAGE_OVERRIDE_FIELDS = ("isp_coverage_override", "isp_coverage_override_reason")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    isp_subscription_ids = fields.One2many(
        "isp.subscription",
        "sale_order_id",
        string="ISP subscriptions",
        groups="isp_billing.group_isp_user",
    )
    isp_subscription_count = fields.Integer(
        string="Subscriptions", compute="_compute_isp_subscription_count"
    )
    isp_subscription_summary = fields.Char(
        string="ISP accounts",
        compute="_compute_isp_subscription_count",
        help="Account numbers and states of the subscriptions this order made.",
    )

    isp_coverage_state = fields.Selection(
        COVERAGE_STATES,
        string="Coverage",
        compute="_compute_isp_coverage",
        help="Whether the ISP's coverage areas of the order's company cover "
        "its delivery address (the service address).",
    )
    isp_coverage_area_id = fields.Many2one(
        "isp.coverage.area",
        string="Coverage area",
        compute="_compute_isp_coverage",
    )
    isp_coverage_override = fields.Boolean(
        string="Sell outside coverage",
        copy=False,
        tracking=True,
        help="Set by a Sales administrator: this order may be confirmed "
        "although its service address is not covered or unknown. Cleared "
        "when the delivery address changes.",
    )
    isp_coverage_override_reason = fields.Text(
        string="Reason for selling outside coverage",
        copy=False,
        tracking=True,
    )
    isp_coverage_override_user_id = fields.Many2one(
        "res.users",
        string="Coverage override by",
        copy=False,
        readonly=True,
    )

    @api.depends(
        "company_id",
        "partner_shipping_id.country_id",
        "partner_shipping_id.state_id",
        "partner_shipping_id.city",
        "partner_shipping_id.zip",
    )
    def _compute_isp_coverage(self):
        Area = self.env["isp.coverage.area"]
        for order in self:
            address = order.partner_shipping_id
            order.isp_coverage_state, order.isp_coverage_area_id = Area._isp_coverage(
                {
                    "country_id": address.country_id,
                    "state_id": address.state_id,
                    "city": address.city,
                    "zip": address.zip,
                },
                order.company_id,
            )

    @api.constrains("isp_coverage_override", "isp_coverage_override_reason")
    def _check_isp_coverage_override_reason(self):
        for order in self:
            if (
                order.isp_coverage_override
                and not (order.isp_coverage_override_reason or "").strip()
            ):
                raise ValidationError(
                    self.env._(
                        "%(order)s: give the reason for selling outside coverage.",
                        order=order.name,
                    )
                )

    def _isp_check_coverage_override_rights(self):
        if self.env.su or self.env.user.has_group(COVERAGE_OVERRIDE_GROUP):
            return
        raise AccessError(
            self.env._(
                "Only a Sales administrator may allow selling outside coverage "
                "(%(user)s).",
                user=self.env.user.name,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        # after the defaults: a context default is a value too
        overridden = orders.filtered("isp_coverage_override")
        if overridden:
            overridden._isp_check_coverage_override_rights()
            overridden.isp_coverage_override_user_id = self.env.user
        return orders

    def write(self, vals):
        override = any(name in vals for name in COVERAGE_OVERRIDE_FIELDS)
        if override:
            self._isp_check_coverage_override_rights()
            vals = {**vals, "isp_coverage_override_user_id": self.env.uid}
        addresses = {order: order.partner_shipping_id for order in self}
        res = super().write(vals)
        if not override:
            moved = self.filtered(
                lambda order: (
                    order.isp_coverage_override
                    and order.partner_shipping_id != addresses[order]
                )
            )
            if moved:
                # the override was given for the former address
                super(SaleOrder, moved).write(
                    {
                        "isp_coverage_override": False,
                        "isp_coverage_override_reason": False,
                        "isp_coverage_override_user_id": False,
                    }
                )
        return res

    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        return error or self._isp_coverage_error_message()

    def _isp_coverage_error_message(self):
        """Why this order may not be confirmed for its service address (the
        coverage rule of isp_sale/README.md), else False: an order with a
        plan line whose delivery address the company's coverage areas do
        not cover, or cannot place, without a Sales administrator's
        override."""
        self.ensure_one()
        if self.isp_coverage_override or not any(
            line.product_id.isp_is_plan for line in self.order_line
        ):
            return False
        state = self.isp_coverage_state
        if state in ("covered", "none"):
            return False
        address = self.partner_shipping_id
        where = (
            ", ".join(
                part
                for part in (
                    address.street,
                    address.city,
                    address.zip,
                    address.state_id.name,
                    address.country_id.name,
                )
                if part
            )
            or address.display_name
        )
        if state == "unknown":
            return self.env._(
                "%(order)s: the service address (%(address)s) cannot be placed "
                "in the coverage areas (it has no country, or neither a city "
                "nor a zip code): complete the delivery address before "
                "confirming (or a Sales administrator allows selling outside "
                "coverage, with a reason).",
                order=self.name,
                address=where,
            )
        return self.env._(
            "%(order)s: the service address (%(address)s) is outside the "
            "coverage areas: it cannot be connected. Only a Sales "
            "administrator may allow selling outside coverage, with a reason.",
            order=self.name,
            address=where,
        )

    def _compute_isp_subscription_count(self):
        # Sales staff may lack the ISP rights: the count and the summary are
        # read as the superuser, for the orders the caller reads anyway.
        subs = (
            self.env["isp.subscription"]
            .sudo()
            .search([("sale_order_id", "in", self.ids)], order="id")
        )
        labels = dict(subs._fields["state"]._description_selection(self.env))
        for order in self:
            mine = subs.filtered(lambda sub, order=order: sub.sale_order_id == order)
            order.isp_subscription_count = len(mine)
            order.isp_subscription_summary = ", ".join(
                f"{sub.account_number} ({labels[sub.state]})" for sub in mine
            )

    # ------------------------------------------------------------------
    # Confirmation: the subscriptions, in draft, exactly once
    # ------------------------------------------------------------------

    def _action_confirm(self):
        res = super()._action_confirm()
        self._isp_create_subscriptions()
        return res

    def _prepare_isp_subscriptions(self):
        """The draft subscriptions this confirmed order makes: one per plan
        line not made yet, with the lines that follow it on the order up to
        the next plan (the lines before the first plan go with the first).
        Writes nothing.

        :return: ``isp.subscription`` create values
        :rtype: list[dict]
        """
        self.ensure_one()
        groups, before_first_plan = [], []
        for line in self.order_line.sorted(lambda line: (line.sequence, line.id)):
            if line.display_type or line.is_downpayment or not line.product_id:
                continue
            if line.product_id.isp_is_plan:
                groups.append((line, []))
            elif groups:
                groups[-1][1].append(line)
            else:
                before_first_plan.append(line)
        if not groups:
            return []
        groups[0][1][:0] = before_first_plan
        made = (
            self.env["isp.subscription"]
            .sudo()
            .search([("sale_line_id", "in", self.order_line.ids)])
            .sale_line_id
        )
        tz = self.partner_id.tz or self.company_id.partner_id.tz or "UTC"
        today = fields.Date.context_today(self.with_context(tz=tz))
        return [
            {
                "partner_id": self.partner_id.id,
                "service_partner_id": self.partner_shipping_id.id,
                "company_id": self.company_id.id,
                "pricelist_id": self.pricelist_id.id,
                "currency_id": self.currency_id.id,
                "payment_term_id": self.payment_term_id.id,
                "date_start": today,
                "sale_order_id": self.id,
                "sale_line_id": plan_line.id,
                "line_ids": [
                    Command.create(line._prepare_isp_subscription_line())
                    for line in (plan_line, *others)
                ],
            }
            for plan_line, others in groups
            if plan_line not in made
        ]

    def _isp_create_subscriptions(self):
        """Make the draft subscriptions of these confirmed orders (see
        :meth:`_prepare_isp_subscriptions`) as the superuser: the salesman
        who confirms may have no ISP rights, and Sales has checked that they
        may confirm these orders. Each plan line makes at most one
        subscription, ever: the database refuses a second (unique key on
        the subscription's order line), so two transactions confirming the
        same order at once leave one subscription, the other fails.

        :return: the new subscriptions
        :rtype: isp.subscription
        """
        vals_list = []
        for order in self:
            vals_list += order._prepare_isp_subscriptions()
        Subscription = self.env["isp.subscription"].sudo()
        if not vals_list:
            return Subscription
        subs = Subscription.create(vals_list)
        subs.line_ids.sale_line_id.sudo().isp_billed_by_subscription = True
        for sub in subs:
            sub.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": sub, "origin": sub.sale_order_id},
                subtype_xmlid="mail.mt_note",
            )
        for order, order_subs in subs.grouped("sale_order_id").items():
            order.sudo().message_post(
                body=self.env._(
                    "Draft ISP subscriptions made: %(accounts)s",
                    accounts=", ".join(order_subs.mapped("account_number")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return subs

    # ------------------------------------------------------------------
    # Cancellation: the drafts go with the order, running ones stop it
    # ------------------------------------------------------------------

    def _action_cancel(self):
        subs = (
            self.env["isp.subscription"]
            .sudo()
            .search([("sale_order_id", "in", self.ids)])
        )
        running = subs.filtered(lambda sub: sub.state != "draft")
        if running:
            raise UserError(
                self.env._(
                    "%(accounts)s already started: terminate the subscription "
                    "instead of cancelling its order.",
                    accounts=", ".join(running.mapped("account_number")),
                )
            )
        lines = subs.line_ids.sale_line_id
        res = super()._action_cancel()
        lines.sudo().isp_billed_by_subscription = False
        subs.unlink()
        return res

    def action_view_isp_subscriptions(self):
        """*Subscriptions* smart button (ISP staff): the order's subscriptions."""
        self.ensure_one()
        self.check_access("read")
        if not self.env.su and not self.env.user.has_group(
            "isp_billing.group_isp_user"
        ):
            raise AccessError(
                self.env._(
                    "Only ISP staff may open the subscriptions (%(user)s).",
                    user=self.env.user.name,
                )
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_subscription_action"
        )
        subs = self.env["isp.subscription"].search([("sale_order_id", "=", self.id)])
        action["domain"] = [("id", "in", subs.ids)]
        action["context"] = {"create": False}
        if len(subs) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = subs.id
        return action
