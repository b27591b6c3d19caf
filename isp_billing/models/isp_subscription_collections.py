# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment side of a subscription: its unpaid invoices, reconnection when
they are paid, auto-pay, throttling and the promise to pay."""

from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from ..const import UNPAID_INVOICE_DOMAIN


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_unpaid_invoices_domain(self):
        """The one definition of "these subscriptions' unpaid invoices": posted
        customer invoices with a line of one of them, not fully paid."""
        return [("isp_subscription_ids", "in", self.ids), *UNPAID_INVOICE_DOMAIN]

    def _isp_open_invoices(self):
        """Posted customer invoices of these subscriptions not fully paid,
        oldest due first (the order payments are allocated in)."""
        return self.env["account.move"].search(
            self._isp_unpaid_invoices_domain(),
            order="invoice_date_due, invoice_date, id",
        )

    def _isp_balance_domain(self):
        """Open receivable items of this subscription's customer (commercial
        partner) in its company and currency: posted invoices, credit notes and
        payments not fully reconciled."""
        self.ensure_one()
        return [
            ("partner_id", "child_of", self.partner_id.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("currency_id", "=", self.currency_id.id),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    def _isp_balance(self):
        """The one balance of the customer shown everywhere (portal, statement,
        e-mails, SMS) and paid by *Pay now*: the customer's receivable in the
        subscription's company and currency, net of open credit notes and
        unallocated payments (sum of the open items' residual, in the
        subscription's currency). Positive: the customer owes it."""
        self.ensure_one()
        return self._isp_balances()[self.id]

    def _isp_balances(self):
        """``_isp_balance`` of each subscription of ``self``, with one search
        of the open items per company and currency instead of one per
        subscription: each subscription's items are those of the search whose
        partner is its commercial partner or one of its descendants (what
        ``child_of`` means: the partner or one of its parents, archived ones
        included), summed in the search's order, then rounded, as
        ``_isp_balance`` would one by one.

        :return: {subscription id: balance}
        :rtype: dict
        """
        balances = {}
        with_partner = self.filtered("partner_id")
        for sub in self - with_partner:
            lines = self.env["account.move.line"].search(sub._isp_balance_domain())
            balances[sub.id] = sub.currency_id.round(
                sum(lines.mapped("amount_residual_currency"))
            )
        groups = with_partner.grouped(lambda sub: (sub.company_id, sub.currency_id))
        for (__, currency), subs in groups.items():
            # the first one's domain (same company and currency), for all
            # their customers
            commercial_ids = subs.partner_id.commercial_partner_id.ids
            domain = [
                ("partner_id", "child_of", commercial_ids)
                if leaf[0] == "partner_id"
                else leaf
                for leaf in subs[0]._isp_balance_domain()
            ]
            lines = self.env["account.move.line"].search(domain)
            ancestors = {}
            for partner in lines.partner_id.sudo().with_context(active_test=False):
                chain, parent = set(), partner
                while parent:
                    chain.add(parent.id)
                    parent = parent.parent_id
                ancestors[partner.id] = chain
            for sub in subs:
                commercial_id = sub.partner_id.commercial_partner_id.id
                balances[sub.id] = currency.round(
                    sum(
                        line.amount_residual_currency
                        for line in lines
                        if commercial_id in ancestors[line.partner_id.id]
                    )
                )
        return balances

    def _isp_balance_invoices(self):
        """The customer's open invoices that make up the balance (all its
        subscriptions), oldest due first: those a balance payment pays."""
        self.ensure_one()
        lines = self.env["account.move.line"].search(
            [*self._isp_balance_domain(), ("move_id.move_type", "=", "out_invoice")]
        )
        return lines.move_id.sorted(
            lambda move: (move.invoice_date_due, move.invoice_date, move.id)
        )

    def _isp_allocate_balance(self):
        """Reconcile the customer's open receivable items (invoices with credit
        notes and payments) oldest due first, as Odoo's reconciliation orders
        them (due date, then date)."""
        for sub in self:
            lines = self.env["account.move.line"].search(sub._isp_balance_domain())
            if lines.filtered(lambda line: line.amount_residual > 0) and (
                lines.filtered(lambda line: line.amount_residual < 0)
            ):
                lines.reconcile()
        return True

    def _isp_overdue_invoices(self, date_ref=None):
        """The unpaid invoices of these subscriptions past their due date
        (before ``date_ref``, default today)."""
        day = date_ref or fields.Date.context_today(self)
        return self.env["account.move"].search(
            [*self._isp_unpaid_invoices_domain(), ("invoice_date_due", "<", day)]
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
        self._isp_check_access()
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
        self._isp_check_access()
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
        if self.state == "active" and not self.env["account.move"].search_count(
            self._isp_unpaid_invoices_domain(), limit=1
        ):
            return False, self.env._("Nothing is due.")
        period_start = self.billed_until and self._current_period_start()
        if period_start and self.promise_period_start == period_start:
            return False, self.env._("A promise was already made this billing period.")
        if self.promise_until and self.promise_until >= self._today():
            return False, self.env._(
                "A promise is running until %(date)s.",
                date=format_date(self.env, self.promise_until),
            )
        return True, ""

    def _isp_promise_until(self):
        """The last day of service of a promise made today: today plus the
        company's promise days (*Settings → ISP → Promise to pay*). The service
        runs and the dunning ladder waits up to and including that day; on the
        next day the ladder resumes (and a subscription it reconnected is
        suspended again if the invoices are still overdue). Writes nothing.

        :rtype: date
        """
        self.ensure_one()
        return self._today() + timedelta(days=self.company_id.isp_promise_days)

    def _current_period_start(self):
        self.ensure_one()
        return self._isp_billed_period().date_start or self._last_period_start()

    def action_promise_to_pay(self):
        """Extend service by the company's promise days: the dunning ladder
        waits, a subscription suspended for non-payment is reconnected."""
        self._isp_check_access()
        for sub in self:
            ok, reason = sub._isp_promise_available()
            if not ok:
                raise UserError(reason)
            until = sub._isp_promise_until()
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
            sub._log_event("promise", reason=text, promise_until=until)
        return True

    # ------------------------------------------------------------------
    # Figures and filters of the backend
    # ------------------------------------------------------------------

    isp_amount_due = fields.Monetary(
        string="Balance due",
        compute="_compute_isp_amounts_due",
        help="The customer's balance in this company and currency: open "
        "invoices minus open credit notes and unallocated payments.",
    )
    isp_amount_overdue = fields.Monetary(
        string="Overdue",
        compute="_compute_isp_amounts_due",
        help="Amount still to pay on the invoices past their due date.",
    )
    isp_overdue = fields.Boolean(
        string="Has overdue invoices",
        compute="_compute_isp_amounts_due",
        search="_search_isp_overdue",
    )
    isp_unpaid = fields.Boolean(
        string="Has unpaid invoices",
        compute="_compute_isp_amounts_due",
        search="_search_isp_unpaid",
    )
    promise_available = fields.Boolean(
        string="Promise to pay possible",
        compute="_compute_promise_available",
        help="A promise to pay can be made now (once per billing period).",
    )

    def _compute_isp_amounts_due(self):
        today = fields.Date.context_today(self)
        invoices = self.env["account.move"].search(self._isp_unpaid_invoices_domain())
        balances = self.filtered("partner_id")._isp_balances()
        for sub in self:
            mine = invoices.filtered(
                lambda inv, sub=sub: sub in inv.isp_subscription_ids
            )
            overdue = mine.filtered(lambda inv: inv.invoice_date_due < today)
            sub.isp_amount_due = balances.get(sub.id, 0.0)
            sub.isp_amount_overdue = sum(overdue.mapped("amount_residual"))
            sub.isp_unpaid = bool(mine)
            sub.isp_overdue = bool(overdue)

    def _search_isp_invoices(self, operator, value, extra):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search."))
        invoices = self.env["account.move"].search([*UNPAID_INVOICE_DOMAIN, *extra])
        ids = invoices.line_ids.isp_subscription_id.ids
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]

    def _search_isp_overdue(self, operator, value):
        today = fields.Date.context_today(self)
        return self._search_isp_invoices(
            operator, value, [("invoice_date_due", "<", today)]
        )

    def _search_isp_unpaid(self, operator, value):
        return self._search_isp_invoices(operator, value, [])

    @api.depends_context("uid")
    @api.depends("state", "promise_until", "promise_period_start")
    def _compute_promise_available(self):
        for sub in self:
            sub.promise_available = bool(
                isinstance(sub.id, int)
                and sub.state in ("active", "suspended")
                and sub._isp_promise_available()[0]
            )
