# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_date

from odoo.addons.base.models.res_partner import _tz_get

from .. import utils
from ..const import MONTHS_PER_UNIT


def monthly_amount(amount, plan):
    """``amount`` of one period of ``plan`` as an amount per month (unrounded)."""
    if not plan or not plan.isp_period_interval:
        return 0.0
    return amount / (MONTHS_PER_UNIT[plan.isp_period_unit] * plan.isp_period_interval)


class IspSubscription(models.Model):
    """A subscriber's service contract. The model is split by concern over
    files of this add-on: this one (fields, computes, constraints, CRUD),
    ``isp_subscription_billing`` (periods and invoice values),
    ``isp_subscription_lifecycle`` (states, termination),
    ``isp_subscription_plan_change``, ``isp_subscription_collections``
    (payment-side: reconnection, auto-pay, throttle, promise to pay) and
    ``isp_subscription_portal``. The billing run itself is the service model
    ``isp.billing.run``."""

    _name = "isp.subscription"
    _description = "ISP Subscription"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "account_number desc, id desc"
    _rec_names_search = ["account_number", "partner_id.name"]
    _check_company_auto = True

    account_number = fields.Char(
        string="Account number",
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
    promise_period_start = fields.Date(
        string="Promise period start", readonly=True, copy=False
    )
    promise_reactivated = fields.Boolean(
        string="Reconnected by a promise", readonly=True, copy=False
    )
    dunning_log_ids = fields.One2many(
        "isp.dunning.log", "subscription_id", string="Dunning history", readonly=True
    )
    suspension_kind = fields.Selection(
        [("manual", "By hand"), ("nonpayment", "Non-payment")],
        string="Suspension kind",
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
        string="Next invoice date",
        readonly=True,
        copy=False,
        index=True,
        help="First day of the next period to bill. Not tracked on the chatter: "
        "the billed periods and invoices tell the story.",
    )
    billed_until = fields.Date(
        string="Billed until (excluded)",
        readonly=True,
        copy=False,
        help="Last billed period ends the day before.",
    )
    date_end = fields.Date(
        string="Service until (excluded)",
        readonly=True,
        copy=False,
        tracking=True,
        help="First day without service once terminated.",
    )
    date_end_credit = fields.Boolean(
        string="Credit unused days at termination",
        readonly=True,
        copy=False,
        help="The choice made when the termination was scheduled: the billing job "
        "credits the days billed after the end date when it terminates.",
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
        help="Untaxed recurring amount per month (MRR) of an active or suspended "
        "subscription; none for drafts and terminated ones.",
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
    invoice_count = fields.Integer(
        string="Invoice count", compute="_compute_invoice_count"
    )
    billing_exception = fields.Boolean(
        string="Billing exception",
        readonly=True,
        copy=False,
        index=True,
        help="Billing this subscription failed: the billing job skips it until the "
        "problem is fixed and billing is retried.",
    )
    billing_exception_reason = fields.Text(
        string="Billing exception reason", readonly=True, copy=False
    )
    note = fields.Html(string="Notes")

    _sql_constraints = [
        (
            "account_number_unique",
            "unique(account_number)",
            "Account numbers must be unique.",
        ),
    ]

    def init(self):
        # The billing run's work queue (isp.billing.run._pick_due): the
        # subscriptions with work, in the order of their first day with work,
        # read in index order up to the batch size instead of sorted whole.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS isp_subscription_billing_queue_index
                ON isp_subscription
                   (LEAST(next_invoice_date, pending_plan_date, date_end), id)
             WHERE state IN ('active', 'suspended')
               AND billing_exception IS NOT TRUE
            """
        )

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
        "state",
    )
    def _compute_recurring_total(self):
        for sub in self:
            total = sum(sub._recurring_lines().mapped("price_subtotal"))
            sub.recurring_total = total
            # MRR: drafts and terminated subscriptions have none; suspended
            # ones keep theirs (they are still billed).
            sub.recurring_monthly = (
                sub.currency_id.round(monthly_amount(total, sub.plan_id))
                if sub.state in ("active", "suspended")
                else 0.0
            )

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
        result = super().write(vals)
        if "currency_id" in vals:
            self._log_mrr_change()
        return result

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

    def _isp_check_access(self, operation="write", manager=False):
        """Rights check of the public actions (every public method is an RPC
        endpoint): the caller needs ``operation`` on these subscriptions (ACL
        and record rules) and, with ``manager``, the *ISP / Manager* group.
        Code that runs as the superuser (jobs, the portal after its own
        ownership check) passes.

        :raise AccessError: when the caller may not
        """
        if self.env.su:
            return
        self.check_access(operation)
        if manager and not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(
                self.env._(
                    "Only ISP managers may do this (%(user)s).", user=self.env.user.name
                )
            )

    def _date_ref(self, date_ref=None):
        """The reference date of a money action: ``date_ref`` when given, else
        today in the subscription's time zone."""
        self.ensure_one()
        return date_ref or self._today()

    def action_view_invoices(self):
        self.ensure_one()
        self._isp_check_access("read")
        moves = self.invoice_line_ids.move_id
        return moves._isp_action_view()
