# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from odoo.addons.base.models.res_partner import _tz_get

from .. import utils

_logger = logging.getLogger(__name__)

# Errors that mean "another worker is billing the same subscription right now":
# they stop the batch without flagging anyone; the next run picks up what is left.
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.UniqueViolation,
)

# Months in one unit of billing period, to turn any period into a monthly amount.
MONTHS_PER_UNIT = {"day": 12 / 365.25, "week": 12 / 52.1775, "month": 1, "year": 12}


class IspConcurrentBilling(Exception):
    """Another transaction bills the same subscriptions; retry later."""


class IspSubscription(models.Model):
    _name = "isp.subscription"
    _description = "ISP Subscription"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "account_number desc, id desc"
    _rec_names_search = ["account_number", "partner_id.name"]
    _check_company_auto = True

    account_number = fields.Char(
        readonly=True,
        copy=False,
        index="btree",
        tracking=True,
        help="The subscriber's account number: printed on invoices and used as the "
        "payment reference (M-PESA paybill account, bank transfer reference).",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        index=True,
        check_company=True,
    )
    service_partner_id = fields.Many2one(
        "res.partner",
        string="Service address",
        compute="_compute_service_partner_id",
        store=True,
        readonly=False,
        check_company=True,
        help="Where the service is delivered.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        compute="_compute_pricelist_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        help="Prices of the plan and add-ons. Empty: the products' sales prices.",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Payment terms",
        check_company=True,
        help="Empty: the customer's payment terms, else the plan's, else immediate.",
    )
    tz = fields.Selection(
        _tz_get,
        string="Time zone",
        required=True,
        compute="_compute_tz",
        store=True,
        readonly=False,
        precompute=True,
        help="Days and periods of this subscription are counted in this time zone. "
        "Default: the customer's, else the company's, else yours.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("suspended", "Suspended"),
            ("terminated", "Terminated"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    state_reason = fields.Char(
        string="Reason", readonly=True, copy=False, help="Why the state last changed."
    )
    state_date = fields.Date(string="State since", readonly=True, copy=False)
    autopay = fields.Boolean(
        string="Auto-pay",
        copy=False,
        tracking=True,
        help="Charge the saved payment method when an invoice is issued.",
    )
    autopay_token_id = fields.Many2one(
        "payment.token",
        string="Auto-pay method",
        copy=False,
        domain="[('partner_id', 'child_of', partner_id)]",
        tracking=True,
    )
    autopay_attempt_ids = fields.One2many(
        "isp.autopay.attempt", "subscription_id", string="Auto-pay attempts"
    )
    promise_until = fields.Date(
        string="Promised to pay by",
        readonly=True,
        copy=False,
        help="Service extended and dunning paused until this date.",
    )
    promise_period_start = fields.Date(readonly=True, copy=False)
    promise_reactivated = fields.Boolean(readonly=True, copy=False)
    dunning_log_ids = fields.One2many(
        "isp.dunning.log", "subscription_id", string="Dunning history", readonly=True
    )
    suspension_kind = fields.Selection(
        [("manual", "By hand"), ("nonpayment", "Non-payment")],
        readonly=True,
        copy=False,
        help="Why the subscription is suspended. A subscription suspended for "
        "non-payment is reconnected by itself when its overdue invoices are paid.",
    )
    throttled = fields.Boolean(
        string="Slowed down for non-payment",
        readonly=True,
        copy=False,
        tracking=True,
        help="Set by the dunning ladder's throttle step; full speed again by itself "
        "when the overdue invoices are paid. The network add-on (isp_radius) "
        "applies the slower speed.",
    )
    date_start = fields.Date(
        string="Start date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    billing_anchor_date = fields.Date(
        string="Billing anchor",
        compute="_compute_billing_anchor_date",
        store=True,
        readonly=False,
        help="First day of the first full period; periods repeat from it. A start "
        "date before it makes a prorated first period.",
    )
    next_invoice_date = fields.Date(
        readonly=True,
        copy=False,
        index=True,
        help="First day of the next period to bill. Not tracked on the chatter: "
        "the billed periods and invoices tell the story.",
    )
    billed_until = fields.Date(
        readonly=True, copy=False, help="Last billed period ends the day before."
    )
    date_end = fields.Date(
        string="End date",
        readonly=True,
        copy=False,
        tracking=True,
        help="First day without service once terminated.",
    )
    line_ids = fields.One2many(
        "isp.subscription.line", "subscription_id", string="Lines", copy=True
    )
    plan_id = fields.Many2one(
        "product.product",
        string="Plan",
        compute="_compute_plan_id",
        store=True,
        index=True,
    )
    pending_plan_id = fields.Many2one(
        "product.product",
        string="Scheduled plan",
        readonly=True,
        copy=False,
        domain=[("isp_is_plan", "=", True)],
    )
    pending_plan_date = fields.Date(string="Scheduled on", readonly=True, copy=False)
    recurring_total = fields.Monetary(
        string="Recurring amount",
        compute="_compute_recurring_total",
        store=True,
        help="Untaxed amount of one full period.",
    )
    recurring_monthly = fields.Monetary(
        string="Monthly recurring",
        compute="_compute_recurring_total",
        store=True,
        help="Untaxed recurring amount per month (MRR).",
    )
    event_ids = fields.One2many(
        "isp.subscription.event", "subscription_id", string="Events"
    )
    period_ids = fields.One2many(
        "isp.subscription.period", "subscription_id", string="Billed periods"
    )
    invoice_line_ids = fields.One2many(
        "account.move.line", "isp_subscription_id", string="Invoice lines"
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    billing_exception = fields.Boolean(
        readonly=True,
        copy=False,
        index=True,
        help="Billing this subscription failed: the billing job skips it until the "
        "problem is fixed and billing is retried.",
    )
    billing_exception_reason = fields.Text(readonly=True, copy=False)
    note = fields.Html(string="Notes")

    _sql_constraints = [
        (
            "account_number_unique",
            "unique(account_number)",
            "Account numbers must be unique.",
        ),
    ]

    # ------------------------------------------------------------------
    # Computes and constraints
    # ------------------------------------------------------------------

    def _compute_access_url(self):
        super()._compute_access_url()
        for sub in self:
            sub.access_url = f"/my/subscriptions/{sub.id}"

    @api.depends("account_number", "partner_id")
    def _compute_display_name(self):
        for sub in self:
            number = sub.account_number or self.env._("New")
            sub.display_name = (
                f"{number} - {sub.partner_id.name}" if sub.partner_id else number
            )

    @api.depends("partner_id", "company_id")
    def _compute_tz(self):
        for sub in self:
            if sub.state not in (False, "draft") and sub.tz:
                continue
            sub.tz = (
                sub.partner_id.tz
                or sub.company_id.partner_id.tz
                or self.env.user.tz
                or sub.tz
                or "UTC"
            )

    @api.depends("partner_id")
    def _compute_service_partner_id(self):
        for sub in self:
            if sub.partner_id and not sub.service_partner_id:
                sub.service_partner_id = sub.partner_id.address_get(["delivery"])[
                    "delivery"
                ]

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        for sub in self:
            if sub.partner_id and not sub.pricelist_id:
                sub.pricelist_id = sub.partner_id.with_company(
                    sub.company_id
                ).property_product_pricelist

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for sub in self:
            if sub.state != "draft" and sub.currency_id:
                continue
            sub.currency_id = (
                sub.pricelist_id.currency_id
                or sub.currency_id
                or sub.company_id.currency_id
            )

    @api.depends("date_start")
    def _compute_billing_anchor_date(self):
        for sub in self:
            if sub.state == "draft" and (
                not sub.billing_anchor_date or sub.billing_anchor_date < sub.date_start
            ):
                sub.billing_anchor_date = sub.date_start

    @api.depends("line_ids.product_id", "line_ids.line_type")
    def _compute_plan_id(self):
        for sub in self:
            sub.plan_id = sub.line_ids.filtered(lambda line: line.line_type == "plan")[
                :1
            ].product_id

    @api.depends(
        "line_ids.price_subtotal",
        "line_ids.line_type",
        "plan_id.isp_period_unit",
        "plan_id.isp_period_interval",
    )
    def _compute_recurring_total(self):
        for sub in self:
            total = sum(sub._recurring_lines().mapped("price_subtotal"))
            sub.recurring_total = total
            plan = sub.plan_id
            if plan and plan.isp_period_interval:
                months = (
                    MONTHS_PER_UNIT[plan.isp_period_unit] * plan.isp_period_interval
                )
                sub.recurring_monthly = sub.currency_id.round(total / months)
            else:
                sub.recurring_monthly = 0.0

    def _compute_invoice_count(self):
        counts = dict(
            self.env["account.move.line"]._read_group(
                [
                    ("isp_subscription_id", "in", self.ids),
                    ("display_type", "=", "product"),
                ],
                ["isp_subscription_id"],
                ["move_id:count_distinct"],
            )
        )
        for sub in self:
            sub.invoice_count = counts.get(sub, 0)

    @api.constrains("date_start", "billing_anchor_date", "line_ids")
    def _check_dates(self):
        for sub in self:
            anchor = sub.billing_anchor_date
            if not anchor or not sub.date_start:
                continue
            if anchor < sub.date_start:
                raise ValidationError(
                    self.env._(
                        "%(sub)s: the billing anchor (%(anchor)s) cannot be before the "
                        "start date (%(start)s).",
                        sub=sub.display_name,
                        anchor=format_date(self.env, anchor),
                        start=format_date(self.env, sub.date_start),
                    )
                )
            plan = sub.plan_id
            if (
                sub.state == "draft"
                and plan
                and anchor
                >= sub.date_start
                + utils.period_step(plan.isp_period_interval, plan.isp_period_unit)
            ):
                raise ValidationError(
                    self.env._(
                        "%(sub)s: the billing anchor must fall within one billing "
                        "period of the start date.",
                        sub=sub.display_name,
                    )
                )

    @api.constrains("currency_id", "pricelist_id", "company_id")
    def _check_currency(self):
        for sub in self:
            if sub.pricelist_id and sub.pricelist_id.currency_id != sub.currency_id:
                raise ValidationError(
                    self.env._(
                        "%(sub)s is billed in %(currency)s but its pricelist "
                        "%(pricelist)s is in %(pricelist_currency)s.",
                        sub=sub.display_name,
                        currency=sub.currency_id.name,
                        pricelist=sub.pricelist_id.name,
                        pricelist_currency=sub.pricelist_id.currency_id.name,
                    )
                )
            journal = sub._get_invoice_journal()
            if (
                journal.currency_id
                and journal.currency_id != sub.currency_id
                and journal.currency_id != sub.company_id.currency_id
            ):
                raise ValidationError(
                    self.env._(
                        "%(sub)s is billed in %(currency)s but the invoices journal "
                        "%(journal)s only takes %(journal_currency)s.",
                        sub=sub.display_name,
                        currency=sub.currency_id.name,
                        journal=journal.name,
                        journal_currency=journal.currency_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("account_number"):
                vals["account_number"] = self.env["ir.sequence"].next_by_code(
                    "isp.subscription.account"
                )
        return super().create(vals_list)

    def write(self, vals):
        locked = {"date_start", "billing_anchor_date", "currency_id", "company_id"}
        if (
            locked & set(vals)
            and not self.env.context.get("isp_billing_engine")
            and self.filtered(lambda s: s.state != "draft")
        ):
            raise UserError(
                self.env._(
                    "The start date, billing anchor, currency and company of a "
                    "subscription can only change while it is a draft."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda s: s.state != "draft"):
            raise UserError(
                self.env._(
                    "Only draft subscriptions can be deleted; terminate the others."
                )
            )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _recurring_lines(self):
        return self.line_ids.filtered(lambda line: line.line_type in ("plan", "addon"))

    def _plan_line(self):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.line_type == "plan")[:1]

    def _today(self):
        """Return today's date in the subscription's time zone."""
        self.ensure_one()
        return fields.Date.context_today(self.with_context(tz=self.tz))

    def _get_invoice_journal(self):
        self.ensure_one()
        # The billing run looks each company's journal up once (context).
        known = self.env.context.get("isp_journal_by_company") or {}
        if self.company_id.id in known:
            return self.env["account.journal"].browse(known[self.company_id.id])
        return self.company_id.isp_journal_id or self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "sale"),
            ],
            limit=1,
        )

    def _period_step(self):
        self.ensure_one()
        plan = self.plan_id
        return utils.period_step(plan.isp_period_interval, plan.isp_period_unit)

    def _full_period(self, day):
        """Return the full anchor-aligned period ``(start, end)`` containing ``day``."""
        self.ensure_one()
        plan = self.plan_id
        return utils.period_containing(
            day,
            self.billing_anchor_date,
            plan.isp_period_interval,
            plan.isp_period_unit,
        )

    def _split_by_period(self, start, end):
        """Split ``[start, end)`` at the period boundaries.

        :return: ``[(part_start, part_end, full_start, full_end), ...]``
        :rtype: list
        """
        self.ensure_one()
        parts = []
        cursor = start
        while cursor < end:
            full_start, full_end = self._full_period(cursor)
            part_end = min(full_end, end)
            parts.append((cursor, part_end, full_start, full_end))
            cursor = part_end
        return parts

    def _prorated_price(self, price, start, end):
        """Return ``price`` prorated to ``[start, end)``, rounded once per period.

        :rtype: float
        """
        self.ensure_one()
        rounding = self.currency_id.rounding
        return float(
            sum(
                utils.prorate(
                    price, part_start, part_end, full_start, full_end, rounding
                )
                for part_start, part_end, full_start, full_end in self._split_by_period(
                    start, end
                )
            )
        )

    def _period_label(self, start, end):
        self.ensure_one()
        full_start, full_end = self._full_period(start)
        label = self.env._(
            "%(start)s to %(end)s",
            start=format_date(self.env, start),
            end=format_date(self.env, utils.last_day(end)),
        )
        if (start, end) != (full_start, full_end):
            label = self.env._(
                "%(period)s (%(days)s of %(total)s days)",
                period=label,
                days=(end - start).days,
                total=(full_end - full_start).days,
            )
        return label

    def _check_ready_to_bill(self):
        """Raise a clear error when a subscription cannot be activated or billed."""
        for sub in self:
            plan_lines = sub.line_ids.filtered(lambda line: line.line_type == "plan")
            if len(plan_lines) != 1:
                raise ValidationError(
                    self.env._(
                        "%(sub)s needs exactly one plan line.", sub=sub.display_name
                    )
                )
            for line in sub._recurring_lines():
                if line.price_unit <= 0:
                    raise ValidationError(
                        self.env._(
                            "%(sub)s: %(product)s has no price. Set its price on the "
                            "line, the product or the pricelist.",
                            sub=sub.display_name,
                            product=line.product_id.display_name,
                        )
                    )
            if not sub._get_invoice_journal():
                raise ValidationError(
                    self.env._(
                        "Company %(company)s has no sales journal for the invoices.",
                        company=sub.company_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    def _isp_state_changed(self, old_states, reason):
        """Hook called after subscriptions changed state, once their records are
        written (in the same transaction).

        Add-ons extend it to act on the change, e.g. ``isp_radius`` pushes the new
        state to FreeRADIUS and disconnects the session.

        :param dict old_states: ``{subscription id: previous state}``
        :param str reason: why the state changed
        """
        return True

    def _set_state(self, new_state, event_type, reason, date=None):
        """Move subscriptions to ``new_state`` with a dated, reasoned trace: the
        chatter message, an event in the log, then the ``_isp_state_changed`` hook."""
        old_states = {sub.id: sub.state for sub in self}
        for sub in self:
            day = date or sub._today()
            sub.write({"state": new_state, "state_reason": reason, "state_date": day})
            sub._log_event(event_type, reason=reason, date=day)
            labels = dict(self._fields["state"]._description_selection(self.env))
            sub.message_post(
                body=self.env._(
                    "%(state)s on %(date)s: %(reason)s",
                    state=labels[new_state],
                    date=format_date(self.env, day),
                    reason=reason or self.env._("no reason given"),
                ),
                subtype_xmlid="mail.mt_note",
            )
        self._isp_state_changed(old_states, reason)

    def _log_event(self, event_type, reason=False, date=None, old_plan=None, **extra):
        self.ensure_one()
        return (
            self.env["isp.subscription.event"]
            .sudo()
            .create(
                {
                    "subscription_id": self.id,
                    "event_type": event_type,
                    "reason": reason,
                    "event_date": date or self._today(),
                    "old_plan_id": old_plan.id if old_plan else False,
                    "new_plan_id": self.plan_id.id,
                    "recurring_monthly": self.recurring_monthly,
                    **extra,
                }
            )
        )

    def action_activate(self):
        """Activate draft subscriptions: billing starts at their start date."""
        drafts = self.filtered(lambda s: s.state == "draft")
        if drafts != self:
            raise UserError(self.env._("Only draft subscriptions can be activated."))
        drafts._check_ready_to_bill()
        for sub in drafts:
            setup_fee = sub.plan_id.isp_setup_fee_product_id
            if setup_fee and setup_fee not in sub.line_ids.product_id:
                sub.line_ids = [
                    Command.create({"product_id": setup_fee.id, "line_type": "once"})
                ]
            sub.write(
                {
                    "next_invoice_date": sub.date_start,
                    "billed_until": sub.date_start,
                }
            )
            sub._set_state("active", "new", self.env._("Subscription started"))
        return True

    def action_suspend(self, reason, kind="manual"):
        """Suspend active subscriptions. ``kind`` is ``"nonpayment"`` when
        collections suspend for overdue invoices: those come back by themselves
        once the overdue invoices are paid (:meth:`_isp_reconnect_if_settled`)."""
        subs = self.filtered(lambda s: s.state == "active")
        if subs != self:
            raise UserError(self.env._("Only active subscriptions can be suspended."))
        subs.suspension_kind = kind
        subs._set_state("suspended", "suspension", reason)
        return True

    def action_reactivate(self, reason):
        subs = self.filtered(lambda s: s.state == "suspended")
        if subs != self:
            raise UserError(
                self.env._("Only suspended subscriptions can be reactivated.")
            )
        subs.suspension_kind = False
        subs._set_state("active", "reactivation", reason)
        return True

    def _isp_overdue_invoices(self):
        """Posted customer invoices of these subscriptions, past due and not paid."""
        return self.env["account.move"].search(
            [
                ("isp_subscription_ids", "in", self.ids),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
            ]
        )

    def _isp_reconnect_if_settled(self):
        """Reactivate subscriptions suspended for non-payment, and give full
        speed back to those slowed down for it, once they owe nothing overdue.
        Called when invoices get paid, whatever the channel."""
        throttled = self.filtered(
            lambda s: s.throttled and s.state in ("active", "suspended")
        )
        for sub in throttled:
            if not sub._isp_overdue_invoices():
                sub._isp_dunning_unthrottle(self.env._("Overdue invoices paid"))
        to_check = self.filtered(
            lambda s: s.state == "suspended" and s.suspension_kind == "nonpayment"
        )
        reconnected = self.browse()
        for sub in to_check:
            if not sub._isp_overdue_invoices():
                sub.action_reactivate(self.env._("Overdue invoices paid"))
                fee = sub.company_id.isp_reconnection_fee_product_id
                if fee:
                    sub.line_ids = [
                        Command.create({"product_id": fee.id, "line_type": "once"})
                    ]
                reconnected |= sub
        return reconnected

    @api.constrains("autopay", "autopay_token_id")
    def _check_autopay(self):
        for sub in self:
            if sub.autopay and not sub.autopay_token_id:
                raise ValidationError(
                    self.env._("Auto-pay needs a saved payment method.")
                )

    def action_autopay_enable(self, token):
        """Turn auto-pay on with ``token`` (one of the customer's saved
        payment methods)."""
        for sub in self:
            if token.partner_id.commercial_partner_id != (
                sub.partner_id.commercial_partner_id
            ):
                raise UserError(
                    self.env._("This payment method is not the customer's.")
                )
            sub.write({"autopay": True, "autopay_token_id": token.id})
        return True

    def action_autopay_disable(self):
        self.write({"autopay": False})
        return True

    def _isp_dunning_throttle(self, reason):
        """Dunning step "throttle": slow the service down until the overdue
        invoices are paid. The network add-on (isp_radius) applies the speed
        (:meth:`_isp_throttle_changed`); without one it is only recorded."""
        self._isp_set_throttled(
            True, self.env._("Slowed down for non-payment: %s", reason)
        )

    def _isp_dunning_unthrottle(self, reason):
        self._isp_set_throttled(False, self.env._("Full speed again: %s", reason))

    def _isp_set_throttled(self, throttled, note):
        changed = self.filtered(lambda s: s.throttled != throttled)
        for sub in changed:
            sub.throttled = throttled
            sub.message_post(body=note, subtype_xmlid="mail.mt_note")
        changed._isp_throttle_changed()

    def _isp_throttle_changed(self):
        """Hook for the network add-on: ``throttled`` changed on these."""

    def _isp_promise_available(self):
        """Can a promise to pay be made now? ``(ok, reason)``."""
        self.ensure_one()
        days = self.company_id.isp_promise_days
        if days <= 0:
            return False, self.env._("Promises to pay are not offered.")
        if self.state not in ("active", "suspended"):
            return False, self.env._("This subscription is not running.")
        if not self._isp_overdue_invoices() and self.state == "active":
            overdue_soon = self.env["account.move"].search_count(
                [
                    ("isp_subscription_ids", "in", self.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ]
            )
            if not overdue_soon:
                return False, self.env._("Nothing is due.")
        period_start = self.billed_until and self._current_period_start()
        if period_start and self.promise_period_start == period_start:
            return False, self.env._("A promise was already made this billing period.")
        if self.promise_until and self.promise_until >= self._today():
            return False, self.env._(
                "A promise is running until %s.", self.promise_until
            )
        return True, ""

    def _current_period_start(self):
        self.ensure_one()
        period = self.period_ids.filtered(
            lambda p: p.date_start <= self._today()
        ).sorted("date_start")[-1:]
        return period.date_start if period else self.date_start

    def action_promise_to_pay(self):
        """Extend service by the company's promise days: the dunning ladder
        waits, a subscription suspended for non-payment is reconnected."""
        for sub in self:
            ok, reason = sub._isp_promise_available()
            if not ok:
                raise UserError(reason)
            until = sub._today() + timedelta(days=sub.company_id.isp_promise_days)
            sub.write(
                {
                    "promise_until": until,
                    "promise_period_start": sub._current_period_start(),
                }
            )
            text = self.env._(
                "Promise to pay by %(date)s (%(who)s)",
                date=format_date(self.env, until),
                who=self.env.user.name,
            )
            if sub.state == "suspended" and sub.suspension_kind == "nonpayment":
                sub.action_reactivate(text)
                sub.promise_reactivated = True
            else:
                sub.message_post(body=text, subtype_xmlid="mail.mt_note")
            sub._log_event("promise", reason=text)
        return True

    def action_terminate(self, date, reason, credit=None):
        """Terminate on ``date`` (first day without service).

        A date in the future is scheduled: billing goes on to that date and the
        daily job terminates the subscription then. Unused days already billed are
        credited when ``credit`` is true (default: the company's setting).
        """
        for sub in self:
            if sub.state not in ("draft", "active", "suspended"):
                raise UserError(
                    self.env._("%(sub)s is already terminated.", sub=sub.display_name)
                )
            if date < sub.date_start:
                raise ValidationError(
                    self.env._(
                        "%(sub)s cannot end (%(end)s) before it starts (%(start)s).",
                        sub=sub.display_name,
                        end=format_date(self.env, date),
                        start=format_date(self.env, sub.date_start),
                    )
                )
            do_credit = (
                sub.company_id.isp_termination_credit if credit is None else credit
            )
            sub.date_end = date
            if date <= sub._today() or sub.state == "draft":
                sub._terminate_now(reason, do_credit)
            else:
                sub.message_post(
                    body=self.env._(
                        "Termination scheduled on %(date)s: %(reason)s",
                        date=format_date(self.env, date),
                        reason=reason,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                sub.state_reason = reason
        return True

    def _terminate_now(self, reason, credit):
        self.ensure_one()
        date = self.date_end
        if self.state != "draft":
            period_start = self._last_period_start()
            usage = (
                self._isp_usage_invoice_line_vals(period_start, date)
                if date > period_start
                else []
            )
            if usage:
                self._create_adjustment_move(
                    usage, self.env._("Usage up to termination")
                )
            if credit and self.billed_until and date < self.billed_until:
                lines = [
                    self._invoice_line_vals(
                        line,
                        -self._prorated_price(line.price_unit, date, self.billed_until),
                        self.env._(
                            "Credit for unused days: %(period)s",
                            period=self._period_label(date, self.billed_until),
                        ),
                    )
                    for line in self._recurring_lines()
                ]
                self._create_adjustment_move(lines, self.env._("Termination credit"))
        self.next_invoice_date = False
        self._set_state("terminated", "termination", reason, date=date)

    def _last_period_start(self):
        self.ensure_one()
        return self.period_ids.sorted("date_start")[-1:].date_start or self.date_start

    # ------------------------------------------------------------------
    # Plan changes
    # ------------------------------------------------------------------

    def _change_plan(self, new_plan, date, reason=False, today=None):
        """Change the plan on ``date``.

        Inside a period already billed, the unused part of the old plan is
        credited and the new plan charged for the rest of the period, on one
        posted document (an invoice, or a credit note when the change lowers the
        bill). A date in the future is scheduled and applied by the daily job.

        :param product.product new_plan: the new plan
        :param date date: first day on the new plan
        :return: the adjustment invoice or credit note, if any
        :rtype: account.move
        """
        self.ensure_one()
        if not new_plan.isp_is_plan:
            raise ValidationError(
                self.env._("%(product)s is not a plan.", product=new_plan.display_name)
            )
        if self.state == "terminated":
            raise UserError(self.env._("A terminated subscription keeps its plan."))
        old_line = self._plan_line()
        old_plan = old_line.product_id
        if new_plan == old_plan:
            raise UserError(
                self.env._("%(sub)s is already on this plan.", sub=self.display_name)
            )
        if self.state == "draft":
            old_line.product_id = new_plan
            return self.env["account.move"]
        period_start = self._last_period_start()
        if date < period_start:
            raise ValidationError(
                self.env._(
                    "A plan change cannot start (%(date)s) before the current period "
                    "(%(start)s).",
                    date=format_date(self.env, date),
                    start=format_date(self.env, period_start),
                )
            )
        if date > (today or self._today()):
            self.write({"pending_plan_id": new_plan.id, "pending_plan_date": date})
            self.message_post(
                body=self.env._(
                    "Plan change to %(plan)s scheduled on %(date)s.",
                    plan=new_plan.display_name,
                    date=format_date(self.env, date),
                ),
                subtype_xmlid="mail.mt_note",
            )
            return self.env["account.move"]

        old_price = old_line.price_unit
        old_monthly = self.recurring_monthly
        same_period = (old_plan.isp_period_interval, old_plan.isp_period_unit) == (
            new_plan.isp_period_interval,
            new_plan.isp_period_unit,
        )
        billed_until = self.billed_until
        move_lines = []
        if billed_until and date < billed_until:
            move_lines.append(
                self._invoice_line_vals(
                    old_line,
                    -self._prorated_price(old_price, date, billed_until),
                    self.env._(
                        "Credit for unused days of %(plan)s: %(period)s",
                        plan=old_plan.display_name,
                        period=self._period_label(date, billed_until),
                    ),
                )
            )
        old_line.write({"product_id": new_plan.id})
        self.write({"pending_plan_id": False, "pending_plan_date": False})
        if not same_period:
            # A new billing rhythm starts on the change date.
            self.with_context(isp_billing_engine=True).write(
                {
                    "billing_anchor_date": date,
                    "next_invoice_date": date,
                    "billed_until": date,
                }
            )
        elif billed_until and date < billed_until:
            move_lines.append(
                self._invoice_line_vals(
                    old_line,
                    self._prorated_price(old_line.price_unit, date, billed_until),
                    self.env._(
                        "%(plan)s: %(period)s",
                        plan=new_plan.display_name,
                        period=self._period_label(date, billed_until),
                    ),
                )
            )
        event_type = "upgrade" if self.recurring_monthly >= old_monthly else "downgrade"
        move = self.env["account.move"]
        if move_lines:
            move = self._create_adjustment_move(
                move_lines,
                self.env._(
                    "Plan change from %(old)s to %(new)s",
                    old=old_plan.display_name,
                    new=new_plan.display_name,
                ),
            )
        self._log_event(event_type, reason=reason, date=date, old_plan=old_plan)
        self.message_post(
            body=self.env._(
                "Plan changed from %(old)s to %(new)s on %(date)s: %(reason)s",
                old=old_plan.display_name,
                new=new_plan.display_name,
                date=format_date(self.env, date),
                reason=reason or self.env._("no reason given"),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return move

    def _create_adjustment_move(self, line_vals, origin):
        """Post ``line_vals`` on an invoice, or on a credit note when their total
        is negative, and queue it for sending."""
        self.ensure_one()
        move_type = "out_invoice"
        if sum(vals["price_unit"] * vals["quantity"] for vals in line_vals) < 0:
            move_type = "out_refund"
            line_vals = [
                dict(vals, price_unit=-vals["price_unit"]) for vals in line_vals
            ]
        vals = self._prepare_invoice_vals(self._today())
        vals.update(
            move_type=move_type,
            invoice_origin=f"{self.account_number}: {origin}",
            invoice_line_ids=[Command.create(line) for line in line_vals],
        )
        move = self.env["account.move"].with_company(self.company_id).create(vals)
        move.action_post()
        move._isp_queue_sending()
        return move

    # ------------------------------------------------------------------
    # Billing engine
    # ------------------------------------------------------------------

    def _isp_usage_invoice_line_vals(self, date_start, date_end):
        """Extension point: invoice lines for usage in ``[date_start, date_end)``.

        Usage is billed in arrears: when the period starting on ``date_end`` is
        billed in advance, this hook is asked for the usage of the period that just
        ended, and its lines go on the same invoice. Add-ons (``isp_radius``)
        override it and return ``account.move.line`` values, e.g.::

            {"product_id": overage.id, "name": "Data over allowance ...",
             "quantity": 3.0, "price_unit": 100.0}

        ``isp_subscription_id`` and the period dates are added by the engine.

        :param date date_start: first day of the usage period
        :param date date_end: first day after it
        :return: invoice line values
        :rtype: list[dict]
        """
        self.ensure_one()
        return []

    def _invoice_line_vals(self, line, price_unit, name, start=None, end=None):
        return {
            "product_id": line.product_id.id,
            "name": name,
            "quantity": line.quantity,
            "price_unit": price_unit,
            "isp_subscription_id": line.subscription_id.id,
            # Only one-time lines need the link (it marks them invoiced);
            # recurring lines would recompute that flag for nothing.
            "isp_subscription_line_id": line.id if line.line_type == "once" else False,
            "isp_period_start": start,
            "isp_period_end": end,
        }

    def _prepare_period_lines(self, start, end):
        """Return the invoice line values that bill ``[start, end)``.

        Recurring lines in advance (prorated when the period is partial), one-time
        lines not invoiced yet, and the usage of the previous period (hook).
        """
        self.ensure_one()
        full = (start, end) == self._full_period(start)
        label = self._period_label(start, end)
        vals_list = []
        for line in self._recurring_lines():
            price = (
                line.price_unit
                if full
                else self._prorated_price(line.price_unit, start, end)
            )
            name = f"{line.name}\n{label}"
            vals_list.append(self._invoice_line_vals(line, price, name, start, end))
        for line in self.line_ids.filtered(
            lambda line: line.line_type == "once" and not line.invoiced
        ):
            vals_list.append(self._invoice_line_vals(line, line.price_unit, line.name))
        previous = self.period_ids.filtered(lambda p: p.date_end == start)[:1]
        if previous:
            for usage in self._isp_usage_invoice_line_vals(previous.date_start, start):
                vals_list.append(
                    {
                        "quantity": 1.0,
                        **usage,
                        "isp_subscription_id": self.id,
                        "isp_period_start": previous.date_start,
                        "isp_period_end": start,
                    }
                )
        return vals_list

    def _prepare_invoice_vals(self, invoice_date):
        """Return the ``account.move`` values of an invoice for this subscription
        (without lines)."""
        self.ensure_one()
        partner = self.partner_id
        company = self.company_id
        payment_term = (
            self.payment_term_id
            or partner.with_company(company).property_payment_term_id
            or self.plan_id.product_tmpl_id.with_company(company).isp_payment_term_id
        )
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.address_get(["invoice"])["invoice"]
            if partner.child_ids
            else partner.id,
            "partner_shipping_id": self.service_partner_id.id or partner.id,
            "company_id": company.id,
            "currency_id": self.currency_id.id,
            "journal_id": self._get_invoice_journal().id,
            "invoice_date": invoice_date,
            "invoice_origin": self.account_number,
            "payment_reference": self.account_number,
        }
        if payment_term:
            vals["invoice_payment_term_id"] = payment_term.id
        return vals

    def _next_period(self):
        """Return the next period to bill, ``(start, end)``, or ``None``."""
        self.ensure_one()
        start = self.next_invoice_date
        if not start or (self.date_end and start >= self.date_end):
            return None
        __, end = self._full_period(start)
        if self.date_end:
            end = min(end, self.date_end)
        return start, end

    def _is_due(self, today=None):
        self.ensure_one()
        if self.state not in ("active", "suspended") or self.billing_exception:
            return False
        period = self._next_period()
        return bool(period) and period[0] <= (today or self._today())

    def _billing_groups(self):
        """Group subscriptions into invoices: one per subscription, or one per
        customer, company and currency when the customer consolidates."""
        groups = defaultdict(lambda: self.browse())
        singles = []
        for sub in self:
            partner = sub.partner_id.with_company(sub.company_id)
            if partner.isp_consolidate_invoices:
                key = (
                    partner.commercial_partner_id.id,
                    sub.company_id.id,
                    sub.currency_id.id,
                    sub._get_invoice_journal().id,
                )
                groups[key] |= sub
            else:
                singles.append(sub)
        return singles + list(groups.values())

    def _prepare_group_invoice(self, today):
        """Return ``(move values, period values)`` billing one period of each
        subscription in ``self`` (one subscription, or a consolidated group)."""
        # next(iter()) keeps the batch's prefetch set (self[0] would not).
        first = next(iter(self))
        vals = first._prepare_invoice_vals(today)
        lines, periods = [], []
        for sub in self:
            start, end = sub._next_period()
            sub_lines = sub._prepare_period_lines(start, end)
            if len(self) > 1:
                lines.append(
                    {
                        "display_type": "line_section",
                        "name": f"{sub.account_number} - "
                        f"{sub.service_partner_id.display_name or sub.partner_id.name}",
                    }
                )
            lines += sub_lines
            periods.append(
                {
                    "subscription_id": sub.id,
                    "date_start": start,
                    "date_end": end,
                    "company_id": sub.company_id.id,
                }
            )
        if len(self) > 1:
            vals["invoice_origin"] = ", ".join(self.mapped("account_number"))
            vals["payment_reference"] = False
        vals["invoice_line_ids"] = [Command.create(line) for line in lines]
        return vals, periods

    def _lock_for_billing(self):
        """Lock the subscriptions this transaction bills; skip those another
        transaction holds.

        :return: the subscriptions locked
        :raise IspConcurrentBilling: when another transaction changed them since
            this one began (repeatable read); the next run picks them up.
        """
        if not self:
            return self
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """SELECT id FROM isp_subscription WHERE id = ANY(%s)
                       FOR NO KEY UPDATE SKIP LOCKED""",
                    [self.ids],
                    log_exceptions=False,
                )
                locked = {row[0] for row in self.env.cr.fetchall()}
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        return self.filtered(lambda s: s.id in locked)

    def _flag_billing_exception(self, error):
        message = error.args[0] if error.args else repr(error)
        for sub in self:
            _logger.warning(
                "Billing subscription %s failed, skipped: %s",
                sub.account_number,
                message,
            )
            sub.write(
                {"billing_exception": True, "billing_exception_reason": str(message)}
            )
            sub.message_post(
                body=self.env._(
                    "Billing failed and this subscription is skipped until billing "
                    "is retried: %(error)s",
                    error=message,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _create_invoices(self, items):
        """Create and post the invoices of ``items`` (``[(subs, vals, periods)]``).

        All at once when nothing fails, else one by one, each in a savepoint, so a
        bad invoice only flags its own subscriptions.

        :return: the posted invoices
        :rtype: account.move
        """
        Move = self.env["account.move"]
        Period = self.env["isp.subscription.period"].sudo()

        def create_and_post(company, batch):
            moves = Move.with_company(company).create([vals for __, vals, __ in batch])
            Period.create(
                [
                    dict(period, move_id=move.id)
                    for move, (__, __, periods) in zip(moves, batch, strict=True)
                    for period in periods
                ]
            )
            self.env.flush_all()
            moves.action_post()
            return moves

        posted = Move
        by_company = defaultdict(list)
        for item in items:
            by_company[item[0].company_id].append(item)
        for company, batch in by_company.items():
            try:
                with self.env.cr.savepoint():
                    posted |= create_and_post(company, batch)
                continue
            except CONCURRENCY_ERRORS as error:
                raise IspConcurrentBilling() from error
            except Exception:  # noqa: BLE001 - isolated below, one by one
                _logger.info(
                    "Batch of %s invoices failed, retrying one by one", len(batch)
                )
            for item in batch:
                try:
                    with self.env.cr.savepoint():
                        posted |= create_and_post(company, [item])
                except CONCURRENCY_ERRORS as error:
                    raise IspConcurrentBilling() from error
                except Exception as error:  # noqa: BLE001 - logged on the chatter
                    item[0]._flag_billing_exception(error)
        return posted

    def _bill_due_periods(self, today=None):
        """Bill every due period of the subscriptions in ``self`` (catch-up
        included), one invoice per subscription and period (or per consolidated
        customer and period).

        :param date today: billing date; default: today in each subscription's
            time zone
        :return: the posted invoices
        :rtype: account.move
        """
        subs = self._lock_for_billing()
        journals = {
            company.id: company_subs[0]._get_invoice_journal().id
            for company, company_subs in subs.grouped("company_id").items()
        }
        subs = subs.with_context(isp_journal_by_company=journals)
        moves = self.env["account.move"]
        while True:
            due = subs.filtered(lambda s: s._is_due(today))
            if not due:
                break
            items = []
            for group in due._billing_groups():
                try:
                    # Preparing writes nothing: no flush needed, only a way back
                    # from an SQL error in an add-on's hook.
                    with self.env.cr.savepoint(flush=False):
                        day = today or group[0]._today()
                        vals, periods = group._prepare_group_invoice(day)
                    items.append((group, vals, periods))
                except CONCURRENCY_ERRORS as error:
                    raise IspConcurrentBilling() from error
                except Exception as error:  # noqa: BLE001 - logged on the chatter
                    group._flag_billing_exception(error)
            created = self._create_invoices(items)
            moves |= created
            billed = created.line_ids.isp_subscription_id & due
            # One UPDATE per distinct period end, not one per subscription.
            for end, ended in billed.grouped(lambda sub: sub._next_period()[1]).items():
                ended.write({"next_invoice_date": end, "billed_until": end})
            if not billed:
                break
        moves._isp_queue_sending()
        return moves

    def _due_domain(self, today):
        return [
            ("state", "in", ("active", "suspended")),
            ("billing_exception", "=", False),
            ("next_invoice_date", "!=", False),
            ("next_invoice_date", "<=", today),
        ]

    @api.model
    def _pick_due(self, horizon, limit):
        """Return and lock the next ``limit`` due subscriptions, skipping those
        that another transaction is billing (a work queue: several workers share
        the run instead of waiting for each other).

        :raise IspConcurrentBilling: when rows changed since this transaction
            began; the next run picks them up.
        """
        self.env.flush_all()
        query = self._search(
            self._due_domain(horizon), order="next_invoice_date, id", limit=limit
        )
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "%s FOR NO KEY UPDATE OF isp_subscription SKIP LOCKED",
                        query.select(SQL.identifier("isp_subscription", "id")),
                    ),
                    log_exceptions=False,
                )
                ids = [row[0] for row in self.env.cr.fetchall()]
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        return self.browse(ids)

    @api.model
    def _cron_bill_subscriptions(self, batch_size=200, today=None):
        """Billing job: apply scheduled changes, then bill due periods in batches.

        Each call bills one batch and reports its progress to the cron runner,
        which commits and calls again while work remains: a run over many
        subscriptions resumes where it stopped. Called outside a cron, it loops
        over all batches in the current transaction.

        :param int batch_size: subscriptions per batch
        :param date today: billing date (tests, back-dated runs); default: today in
            each subscription's time zone
        """
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        self._apply_scheduled_changes(today)
        # Time zones east of UTC reach a date before UTC does.
        horizon = today or fields.Date.today() + timedelta(days=1)
        done = remaining = 0
        while True:
            try:
                candidates = self._pick_due(horizon, batch_size)
            except IspConcurrentBilling:
                _logger.info("Subscriptions are being billed by another worker")
                remaining = self.search_count(self._due_domain(horizon))
                break
            due = candidates.filtered(lambda s: s._is_due(today))
            if not due:
                remaining = 0
                break
            try:
                due._bill_due_periods(today)
            except IspConcurrentBilling:
                _logger.info("Subscriptions are being billed by another worker")
                remaining = self.search_count(self._due_domain(horizon))
                break
            done += len(due)
            remaining = self.search_count(self._due_domain(horizon))
            stuck = due.filtered(lambda s: s._is_due(today))
            if in_cron or stuck == due:
                # the cron runner commits and calls again; outside a cron, stop
                # when a batch moved nothing (held by another worker)
                break
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return True

    @api.model
    def _apply_scheduled_changes(self, today=None):
        """Apply the plan changes and terminations whose date has come."""
        horizon = today or fields.Date.today() + timedelta(days=1)
        for sub in self.search(
            [
                ("pending_plan_date", "!=", False),
                ("pending_plan_date", "<=", horizon),
                ("state", "in", ("active", "suspended")),
            ]
        ):
            day = today or sub._today()
            if sub.pending_plan_date <= day:
                with self.env.cr.savepoint():
                    sub._change_plan(
                        sub.pending_plan_id,
                        sub.pending_plan_date,
                        self.env._("Scheduled plan change"),
                        today=day,
                    )
        for sub in self.search(
            [
                ("date_end", "!=", False),
                ("date_end", "<=", horizon),
                ("state", "in", ("active", "suspended")),
            ]
        ):
            if sub.date_end <= (today or sub._today()):
                # Bill up to the end date first: no day is left unbilled.
                sub._bill_due_periods(sub.date_end)
                sub._terminate_now(sub.state_reason, credit=False)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_bill_now(self):
        """Bill the due periods of the selected subscriptions now."""
        moves = self._bill_due_periods()
        if not moves:
            raise UserError(self.env._("Nothing is due: every period is billed."))
        return moves._isp_action_view()

    def action_retry_billing(self):
        self.write({"billing_exception": False, "billing_exception_reason": False})
        self.message_post(
            body=self.env._("Billing exception cleared: billing will retry."),
            subtype_xmlid="mail.mt_note",
        )
        return True

    def action_view_invoices(self):
        self.ensure_one()
        moves = self.invoice_line_ids.move_id
        return moves._isp_action_view()

    # ------------------------------------------------------------------
    # Customer portal
    # ------------------------------------------------------------------

    def _isp_open_invoices(self):
        """Posted customer invoices of these subscriptions not fully paid,
        oldest due first."""
        return self.env["account.move"].search(
            [
                ("isp_subscription_ids", "in", self.ids),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            order="invoice_date_due, id",
        )

    def _isp_plan_change_preview(self, new_plan):
        """What a subscriber's plan change does, before it is done.

        A plan with a higher monthly price is an upgrade, applied today with
        proration; any other is a downgrade, scheduled on the first day after the
        billed periods (no proration). The amounts are the engine's
        (:meth:`_prorated_price`), untaxed, as :meth:`_change_plan` will bill them.

        :param product.product new_plan: the plan asked for
        :return: ``kind`` ("upgrade" or "downgrade"), ``date``, ``lines``
            (``[(label, amount)]``), ``net``, ``old_price``, ``new_price``
        :rtype: dict
        """
        self.ensure_one()
        old_line = self._plan_line()
        old_plan = old_line.product_id
        new_price = (
            self.env["isp.subscription.line"]
            .new(
                {
                    "subscription_id": self.id,
                    "product_id": new_plan.id,
                    "quantity": old_line.quantity,
                }
            )
            .price_unit
        )
        # The draft line joined the cached lines of the subscription: forget it.
        self.invalidate_recordset(["line_ids"])

        def monthly(price, plan):
            return price / (
                MONTHS_PER_UNIT[plan.isp_period_unit] * plan.isp_period_interval
            )

        today = self._today()
        upgrade = monthly(new_price, new_plan) > monthly(old_line.price_unit, old_plan)
        billed_until = self.billed_until
        lines = []
        if upgrade:
            date = today
            if billed_until and date < billed_until:
                lines.append(
                    (
                        self.env._(
                            "Credit for unused days of %(plan)s: %(period)s",
                            plan=old_plan.display_name,
                            period=self._period_label(date, billed_until),
                        ),
                        -self._prorated_price(old_line.price_unit, date, billed_until),
                    )
                )
                same_period = (
                    old_plan.isp_period_interval,
                    old_plan.isp_period_unit,
                ) == (new_plan.isp_period_interval, new_plan.isp_period_unit)
                if same_period:
                    lines.append(
                        (
                            self.env._(
                                "%(plan)s: %(period)s",
                                plan=new_plan.display_name,
                                period=self._period_label(date, billed_until),
                            ),
                            self._prorated_price(new_price, date, billed_until),
                        )
                    )
        else:
            date = max(billed_until or today, today)
        return {
            "kind": "upgrade" if upgrade else "downgrade",
            "date": date,
            "lines": lines,
            "net": self.currency_id.round(sum(amount for _label, amount in lines)),
            "old_price": old_line.price_unit,
            "new_price": new_price,
        }

    def _isp_portal_plans(self):
        """The plans a subscriber may switch to: the company's other plans."""
        self.ensure_one()
        return self.env["product.product"].search(
            [
                ("isp_is_plan", "=", True),
                ("sale_ok", "=", True),
                ("id", "!=", self.plan_id.id),
                *self.env["product.product"]._check_company_domain(self.company_id),
            ],
            order="list_price, id",
        )
