# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plan changes: one rule (:meth:`_prepare_plan_change`, which writes nothing)
for the change itself, the backend wizard and the portal's preview."""

from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from .isp_subscription import monthly_amount

PLAN_CHANGE_KINDS = ("upgrade", "downgrade", "switch")


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _check_plan_change(self, new_plan, date):
        """Raise a clear error when the plan cannot change to ``new_plan`` on
        ``date``."""
        self.ensure_one()
        if not new_plan.isp_is_plan:
            raise ValidationError(
                self.env._("%(product)s is not a plan.", product=new_plan.display_name)
            )
        if self.state == "terminated":
            raise UserError(self.env._("A terminated subscription keeps its plan."))
        if new_plan == self.plan_id:
            raise UserError(
                self.env._("%(sub)s is already on this plan.", sub=self.display_name)
            )
        if self.state == "draft":
            return
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

    def _prepare_plan_change(self, new_plan, date, date_ref=None):
        """What changing to ``new_plan`` on ``date`` does, computed without
        writing (the change itself and the portal's preview both use it).

        - ``date`` after the reference date: scheduled, nothing billed now.
        - Same period length: credit of the old plan's unused days
          ``[date, billed until)`` and charge of the new plan for them, on one
          document.
        - Other period length: credit of the unused days of every recurring
          line; the periods restart on ``date`` (the new anchor) and the run
          bills the new rhythm.
        - The document is an invoice or a credit note by its total with taxes,
          none when that is zero.

        :param product.product new_plan: the new plan
        :param date date: first day on the new plan
        :param date date_ref: reference date (default: today in the
            subscription's time zone)
        :return: ``kind`` (upgrade / downgrade / switch: the monthly recurring
            amount goes up, down, or stays), ``scheduled``, ``date``,
            ``same_period``, ``anchor`` (new anchor or False), ``lines`` (invoice
            line values, credits negative), ``untaxed`` and ``total`` (signed:
            negative is a credit), ``move_type`` (out_invoice, out_refund or
            False), ``old_price``, ``new_price``, ``old_monthly``,
            ``new_monthly``
        :rtype: dict
        """
        self.ensure_one()
        self._check_plan_change(new_plan, date)
        day = self._date_ref(date_ref)
        old_line = self._plan_line()
        old_plan = old_line.product_id
        new_price = old_line._get_catalog_price(new_plan)
        currency = self.currency_id
        addons_total = sum(
            (self._recurring_lines() - old_line).mapped("price_subtotal")
        )
        old_monthly = currency.round(monthly_amount(self.recurring_total, old_plan))
        new_monthly = currency.round(
            monthly_amount(
                addons_total + currency.round(old_line.quantity * new_price), new_plan
            )
        )
        kind = (
            "upgrade"
            if currency.compare_amounts(new_monthly, old_monthly) > 0
            else "downgrade"
            if currency.compare_amounts(new_monthly, old_monthly) < 0
            else "switch"
        )
        same_period = (old_plan.isp_period_interval, old_plan.isp_period_unit) == (
            new_plan.isp_period_interval,
            new_plan.isp_period_unit,
        )
        scheduled = self.state != "draft" and date > day
        lines = []
        billed_until = self.billed_until
        if self.state != "draft" and not scheduled and billed_until:
            if same_period:
                lines = self._prepare_credit_lines(date, lines=old_line)
                if date < billed_until:
                    lines.append(
                        old_line._prepare_invoice_line(
                            self._prorated_price(new_price, date, billed_until),
                            self.env._(
                                "%(plan)s: %(period)s",
                                plan=new_plan.display_name,
                                period=self._period_label(date, billed_until),
                            ),
                            date,
                            billed_until,
                            product_id=new_plan.id,
                        )
                    )
            else:
                lines = self._prepare_credit_lines(date)
        untaxed, total = self._get_lines_total(lines) if lines else (0.0, 0.0)
        move_type = False
        if not currency.is_zero(total):
            move_type = "out_invoice" if total > 0 else "out_refund"
        return {
            "kind": kind,
            "scheduled": scheduled,
            "date": date,
            "same_period": same_period,
            "anchor": date if not same_period and not scheduled else False,
            "lines": lines,
            "untaxed": untaxed,
            "total": total,
            "move_type": move_type,
            "old_price": old_line.price_unit,
            "new_price": new_price,
            "old_monthly": old_monthly,
            "new_monthly": new_monthly,
        }

    def _change_plan(self, new_plan, date, reason=False, date_ref=None, bill=True):
        """Change the plan on ``date`` (:meth:`_prepare_plan_change` says what
        it does). A change to another period length bills the new rhythm's
        periods due at once when ``bill`` (the billing run passes False: it
        bills them itself, in date order).

        :param product.product new_plan: the new plan
        :param date date: first day on the new plan
        :param str reason: why (chatter, event log)
        :param date date_ref: reference date: documents are dated by it
        :return: the adjustment invoice or credit note, and the new rhythm's
            invoices, if any
        :rtype: account.move
        """
        self.ensure_one()
        Move = self.env["account.move"]
        day = self._date_ref(date_ref)
        self._check_plan_change(new_plan, date)
        catch_up = Move
        if bill and self.state in ("active", "suspended") and date <= day:
            # Daily runs would have billed the days before the change first.
            catch_up = self.env["isp.billing.run"]._bill(
                self, day, until=date - timedelta(days=1)
            )
        prep = self._prepare_plan_change(new_plan, date, date_ref)
        old_line = self._plan_line()
        old_plan = old_line.product_id
        if self.state == "draft":
            old_line.product_id = new_plan
            return Move
        if prep["scheduled"]:
            self.write({"pending_plan_id": new_plan.id, "pending_plan_date": date})
            self.message_post(
                body=self.env._(
                    "Plan change to %(plan)s scheduled on %(date)s.",
                    plan=new_plan.display_name,
                    date=format_date(self.env, date),
                ),
                subtype_xmlid="mail.mt_note",
            )
            return Move
        origin = self.env._(
            "Plan change from %(old)s to %(new)s",
            old=old_plan.display_name,
            new=new_plan.display_name,
        )
        adjustment = self._create_adjustment_move(prep["lines"], origin, day)
        # the plan change logs its own event, with the MRR movement
        old_line.with_context(isp_no_line_event=True).write({"product_id": new_plan.id})
        self.write({"pending_plan_id": False, "pending_plan_date": False})
        if prep["anchor"]:
            # A new billing rhythm starts on the change date; the periods
            # whose every day was credited give their key up.
            self.period_ids.filtered(
                lambda p: not p.credited and p.date_start >= date
            )._mark_credited(adjustment)
            self.with_context(isp_billing_engine=True).write(
                {
                    "billing_anchor_date": date,
                    "next_invoice_date": date,
                    "billed_until": date,
                }
            )
        self._log_event(
            prep["kind"] if prep["kind"] != "switch" else "plan_change",
            reason=reason,
            date=date,
            old_plan=old_plan,
        )
        note = self.env._(
            "Plan changed from %(old)s to %(new)s on %(date)s: %(reason)s",
            old=old_plan.display_name,
            new=new_plan.display_name,
            date=format_date(self.env, date),
            reason=reason or self.env._("no reason given"),
        )
        if prep["lines"] and not adjustment:
            note += " " + self.env._(
                "(no document: the credit and the charge cancel out)"
            )
        self.message_post(body=note, subtype_xmlid="mail.mt_note")
        moves = catch_up | adjustment
        if prep["anchor"] and bill and date <= day:
            moves |= self.env["isp.billing.run"]._bill(self, day)
        return moves

    # ------------------------------------------------------------------
    # Customer portal
    # ------------------------------------------------------------------

    def _isp_plan_change_preview(self, new_plan, date_ref=None):
        """What a subscriber's plan change does, before it is done.

        An upgrade or a switch (the monthly recurring amount goes up, or stays)
        is applied on the reference date with proration; a downgrade is
        scheduled on the first day after the billed periods (no proration).
        The figures are :meth:`_prepare_plan_change`'s, as :meth:`_change_plan`
        will bill them.

        :return: :meth:`_prepare_plan_change`'s values for the date the portal
            uses, with ``lines`` as ``[(label, untaxed amount)]``, ``net``
            (untaxed), ``net_incl`` (with taxes: the document's total, signed)
            and ``new_price_incl`` (the new plan's price per period with its
            taxes, at the plan line's quantity) for display
        :rtype: dict
        """
        self.ensure_one()
        day = self._date_ref(date_ref)
        prep = self._prepare_plan_change(new_plan, day, day)
        if prep["kind"] == "downgrade":
            prep = self._prepare_plan_change(
                new_plan, max(self.billed_until or day, day), day
            )
        return dict(
            prep,
            lines=[
                (
                    vals["name"],
                    self.currency_id.round(vals["quantity"] * vals["price_unit"]),
                )
                for vals in prep["lines"]
            ],
            net=prep["untaxed"],
            net_incl=prep["total"],
            new_price_incl=self._isp_price_with_taxes(new_plan, prep["new_price"]),
        )

    def _isp_price_with_taxes(self, product, price_unit):
        """What the customer pays for ``product`` at ``price_unit`` per unit,
        at the quantity of the subscription's plan line: its taxes (the
        product's, through the customer's fiscal position) included, as Odoo
        computes them on an invoice line (:meth:`_get_lines_total`). Writes
        nothing.

        :rtype: float
        """
        self.ensure_one()
        quantity = self._plan_line().quantity or 1.0
        return self._get_lines_total(
            [{"product_id": product.id, "price_unit": price_unit, "quantity": quantity}]
        )[1]

    def _isp_portal_plans(self):
        """The plans a subscriber may switch to: the company's other plans of
        the same family (the plan's product category: home, business,
        bundles...)."""
        self.ensure_one()
        return self.env["product.product"].search(
            [
                ("isp_is_plan", "=", True),
                ("sale_ok", "=", True),
                ("id", "!=", self.plan_id.id),
                ("categ_id", "=", self.plan_id.categ_id.id),
                *self.env["product.product"]._check_company_domain(self.company_id),
            ],
            order="list_price, id",
        )
