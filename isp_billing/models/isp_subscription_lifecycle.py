# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The subscription's states (draft -> active -> suspended <-> active ->
terminated), their trace (chatter, event log) and termination."""

from datetime import timedelta

from odoo import Command, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

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
        labels = dict(self._fields["state"]._description_selection(self.env))
        for sub in self:
            day = date or sub._today()
            sub.write({"state": new_state, "state_reason": reason, "state_date": day})
            sub._log_event(event_type, reason=reason, date=day)
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

    def _log_mrr_change(self):
        """Log an event for the running subscriptions whose MRR or currency
        differs from their last event's: *line_change* when recurring lines
        were added, removed or repriced, *currency_change* when the currency
        changed (its movements are a transfer pair). Callers that log their
        own event (a plan change) pass ``isp_no_line_event`` in the context."""
        if self.env.context.get("isp_no_line_event"):
            return
        Event = self.env["isp.subscription.event"].sudo()
        for sub in self.filtered(lambda s: s.state in ("active", "suspended")):
            last = Event.search(
                [("subscription_id", "=", sub.id)], order="id desc", limit=1
            )
            if not last:
                continue
            if last.currency_id != sub.currency_id:
                sub._log_event("currency_change")
            elif sub.currency_id.compare_amounts(
                last.recurring_monthly, sub.recurring_monthly
            ):
                sub._log_event("line_change")

    def action_activate(self):
        """Activate draft subscriptions: billing starts at their start date."""
        self._isp_check_access()
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
        self._isp_check_access()
        subs = self.filtered(lambda s: s.state == "active")
        if subs != self:
            raise UserError(self.env._("Only active subscriptions can be suspended."))
        subs.suspension_kind = kind
        subs._set_state("suspended", "suspension", reason)
        return True

    def action_reactivate(self, reason):
        self._isp_check_access()
        subs = self.filtered(lambda s: s.state == "suspended")
        if subs != self:
            raise UserError(
                self.env._("Only suspended subscriptions can be reactivated.")
            )
        subs.suspension_kind = False
        subs._set_state("active", "reactivation", reason)
        return True

    def action_terminate(self, date, reason, credit=None, date_ref=None):
        """Terminate on ``date`` (first day without service).

        A date after the reference date is scheduled: billing goes on to that
        date and the billing run terminates the subscription then, with the
        credit choice made now. Unused days already billed are credited when
        ``credit`` is true (default: the company's setting).

        :param date date: first day without service
        :param str reason: why
        :param bool credit: credit the unused days (None: the company's setting)
        :param date date_ref: reference date (default: today in the
            subscription's time zone); the documents are dated by it
        :return: the termination documents
        :rtype: account.move
        :raise AccessError: unless the caller is an ISP manager
        """
        self._isp_check_access(manager=True)
        moves = self.env["account.move"]
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
            day = sub._date_ref(date_ref)
            sub.write(
                {"date_end": date, "date_end_credit": do_credit, "state_reason": reason}
            )
            if sub.state == "draft":
                moves |= sub._terminate_now(reason, do_credit, date_ref=day)
            elif date <= day:
                # Daily runs would have billed the days before the end first
                # (the last period ends on it).
                moves |= self.env["isp.billing.run"]._bill(
                    sub, day, until=date - timedelta(days=1)
                )
                moves |= sub._terminate_now(reason, do_credit, date_ref=day)
            else:
                sub.message_post(
                    body=self.env._(
                        "Termination scheduled on %(date)s: %(reason)s",
                        date=format_date(self.env, date),
                        reason=reason,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        return moves

    def _prepare_termination_lines(self, credit):
        """The lines of the termination document (termination on
        ``date_end``): usage of the last period up to the end, the one-time
        lines not billed yet, and with ``credit`` the unused days billed after
        the end. Writes nothing.

        :rtype: list[dict]
        """
        self.ensure_one()
        end = self.date_end
        period_start = self._last_period_start()
        lines = self._prepare_usage_lines(period_start, end)
        lines += self._prepare_once_lines(period_start, end)
        if credit:
            lines += self._prepare_credit_lines(end)
        return lines

    def _terminate_now(self, reason, credit, date_ref=None):
        """Terminate on ``date_end`` now: one document (usage, one-time lines,
        credit of unused days when ``credit``), invoice or credit note by its
        total with taxes, none when zero. The billed periods whose every day is
        credited are marked so.

        :return: the termination document, if any
        :rtype: account.move
        """
        self.ensure_one()
        date = self.date_end
        move = self.env["account.move"]
        if self.state != "draft":
            day = self._date_ref(date_ref)
            move = self._create_adjustment_move(
                self._prepare_termination_lines(credit),
                self.env._("Termination"),
                day,
            )
            if credit:
                self.period_ids.filtered(
                    lambda p: not p.credited and p.date_start >= date
                )._mark_credited(move.filtered(lambda m: m.move_type == "out_refund"))
        self.next_invoice_date = False
        self._set_state("terminated", "termination", reason, date=date)
        return move
