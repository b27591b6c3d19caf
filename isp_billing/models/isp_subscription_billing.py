# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Billing periods of a subscription and the values of its invoices: what the
billing run (``isp.billing.run``) and the adjustments (plan change,
termination) compute. Everything named ``_prepare_*`` or ``_get_*`` here
computes without writing."""

import logging

from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from .. import utils

_logger = logging.getLogger(__name__)


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    # ------------------------------------------------------------------
    # Period arithmetic
    # ------------------------------------------------------------------

    def _period_step(self):
        self.ensure_one()
        plan = self.plan_id
        return utils.period_step(plan.isp_period_interval, plan.isp_period_unit)

    def _full_period(self, day):
        """Return the full anchor-aligned period ``(start, end)`` containing ``day``."""
        self.ensure_one()
        plan = self.plan_id
        args = (
            day,
            self.billing_anchor_date,
            plan.isp_period_interval,
            plan.isp_period_unit,
        )
        memo = self.env.context.get("isp_billing_memo")
        if memo is None:
            return utils.period_containing(*args)
        key = ("period", *args)
        if key not in memo:
            memo[key] = utils.period_containing(*args)
        return memo[key]

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
        """The label of the period ``[start, end)`` on invoice lines, with its
        share of the full period when it is partial. The billing run computes
        it once per distinct period of a batch (``isp_billing_memo``): it only
        depends on the dates and on the language."""
        self.ensure_one()
        full_start, full_end = self._full_period(start)
        memo = self.env.context.get("isp_billing_memo")
        key = None
        if memo is not None:
            # the context's language, else the user's company's (format_date)
            lang = self.env.context.get("lang")
            key = ("label", lang, self.env.uid, start, end, full_start, full_end)
            if key in memo:
                return memo[key]
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
        if key:
            memo[key] = label
        return label

    def _isp_billed_period(self, day=None):
        """The billed period (``isp.subscription.period``) that contains ``day``
        (default: today in the subscription's time zone), or an empty recordset.
        Periods credited back do not count."""
        self.ensure_one()
        day = day or self._today()
        return self.period_ids.filtered(
            lambda p: not p.credited and p.date_start <= day < p.date_end
        ).sorted("date_start")[-1:]

    def _last_period_start(self):
        """First day of the last billed period (the start date before any)."""
        self.ensure_one()
        return (
            self.period_ids.filtered(lambda p: not p.credited)
            .sorted("date_start")[-1:]
            .date_start
            or self.date_start
        )

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

    def _is_due(self, date_ref=None):
        """Does a period start on or before the reference date?"""
        self.ensure_one()
        if self.state not in ("active", "suspended") or self.billing_exception:
            return False
        period = self._next_period()
        return bool(period) and period[0] <= self._date_ref(date_ref)

    # ------------------------------------------------------------------
    # Invoice values
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

    def _prepare_usage_lines(self, date_start, date_end):
        """The usage lines of ``[date_start, date_end)`` (hook), with the
        subscription and their service period."""
        self.ensure_one()
        if date_start >= date_end:
            return []
        return [
            {
                "quantity": 1.0,
                **usage,
                "isp_subscription_id": self.id,
                "isp_period_start": date_start,
                "isp_period_end": date_end,
            }
            for usage in self._isp_usage_invoice_line_vals(date_start, date_end)
        ]

    def _prepare_once_lines(self, start=None, end=None):
        """The one-time lines not invoiced yet (billed once, on the next
        document that bills this subscription), with the period of that
        document."""
        self.ensure_one()
        return [
            line._prepare_invoice_line(line.price_unit, line.name, start, end)
            for line in self.line_ids.filtered(
                lambda line: line.line_type == "once" and not line.invoiced
            )
        ]

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
            vals_list.append(
                line._prepare_invoice_line(price, f"{line.name}\n{label}", start, end)
            )
        vals_list += self._prepare_once_lines(start, end)
        previous = self.period_ids.filtered(
            lambda p: p.date_end == start and not p.credited
        )[:1]
        if previous:
            vals_list += self._prepare_usage_lines(previous.date_start, start)
        return vals_list

    def _prepare_credit_lines(self, date_from, lines=None, label=None):
        """Credit of the unused days ``[date_from, billed until)`` of ``lines``
        (default: every recurring line), at their current price and quantity,
        one line per period part, each with its service period. Writes nothing.

        :rtype: list[dict]
        """
        self.ensure_one()
        billed_until = self.billed_until
        if not billed_until or date_from >= billed_until:
            return []
        lines = self._recurring_lines() if lines is None else lines
        rounding = self.currency_id.rounding
        vals_list = []
        for part_start, part_end, full_start, full_end in self._split_by_period(
            date_from, billed_until
        ):
            period = self._period_label(part_start, part_end)
            for line in lines:
                price = utils.prorate(
                    line.price_unit,
                    *(part_start, part_end, full_start, full_end),
                    rounding,
                )
                vals_list.append(
                    line._prepare_invoice_line(
                        -float(price),
                        self.env._(
                            "Credit for unused days of %(product)s: %(period)s",
                            product=line.product_id.display_name,
                            period=period,
                        ),
                        part_start,
                        part_end,
                    )
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

    def _get_lines_total(self, line_vals):
        """Total WITH TAXES of invoice line values, as Odoo will compute it on
        the invoice (the products' taxes, the customer's fiscal position, tax
        included or excluded, rounded per line). Writes nothing.

        :return: ``(untaxed, total)``, signed as the values are
        :rtype: tuple(float, float)
        """
        self.ensure_one()
        company = self.company_id
        currency = self.currency_id
        fiscal_position = (
            self.env["account.fiscal.position"]
            .with_company(company)
            ._get_fiscal_position(
                self.partner_id, delivery=self.service_partner_id or self.partner_id
            )
        )
        untaxed = total = 0.0
        for vals in line_vals:
            product = self.env["product.product"].browse(vals.get("product_id"))
            taxes = fiscal_position.map_tax(
                product.taxes_id._filter_taxes_by_company(company)
            )
            amounts = taxes.compute_all(
                vals["price_unit"],
                currency=currency,
                quantity=vals.get("quantity", 1.0),
                product=product,
                partner=self.partner_id,
            )
            untaxed += amounts["total_excluded"]
            total += amounts["total_included"]
        return currency.round(untaxed), currency.round(total)

    def _prepare_adjustment_move(self, line_vals, origin, date_ref):
        """Return the values of the document that posts ``line_vals`` (credits
        negative), or ``None`` when there is nothing to post. The document is an
        invoice when the total with taxes is positive, a credit note (the lines
        negated) when it is negative, none when it is zero. Writes nothing.

        :rtype: dict | None
        """
        self.ensure_one()
        if not line_vals:
            return None
        __, total = self._get_lines_total(line_vals)
        if self.currency_id.is_zero(total):
            return None
        move_type = "out_invoice"
        if total < 0:
            move_type = "out_refund"
            line_vals = [
                dict(vals, price_unit=-vals["price_unit"]) for vals in line_vals
            ]
        vals = self._prepare_invoice_vals(date_ref)
        vals.update(
            move_type=move_type,
            invoice_origin=f"{self.account_number}: {origin}",
            invoice_line_ids=[Command.create(line) for line in line_vals],
        )
        return vals

    def _create_adjustment_move(self, line_vals, origin, date_ref):
        """Post the document of ``line_vals`` (:meth:`_prepare_adjustment_move`)
        and queue it for sending.

        :return: the posted invoice or credit note, or an empty recordset when
            the total with taxes is zero
        :rtype: account.move
        """
        self.ensure_one()
        vals = self._prepare_adjustment_move(line_vals, origin, date_ref)
        if not vals:
            return self.env["account.move"]
        move = self.env["account.move"].with_company(self.company_id).create(vals)
        move.action_post()
        move._isp_queue_sending()
        return move

    # ------------------------------------------------------------------
    # Billing exceptions and actions
    # ------------------------------------------------------------------

    def _flag_billing_exception(self, error):
        """Skip these subscriptions in later runs until billing is retried: the
        error on the chatter and in the *Billing exceptions* list, an ERROR in
        the log."""
        message = error.args[0] if error.args else repr(error)
        for sub in self:
            _logger.error(
                "Billing subscription %s failed, skipped until retried: %s",
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

    def action_bill_now(self):
        """Bill the selected subscriptions now: their scheduled changes and
        terminations due first, then their due periods (ISP managers)."""
        self._isp_check_access(manager=True)
        moves = self.env["isp.billing.run"]._bill(self)
        if not moves:
            raise UserError(self.env._("Nothing is due: every period is billed."))
        return moves._isp_action_view()

    def action_retry_billing(self):
        self._isp_check_access()
        self.write({"billing_exception": False, "billing_exception_reason": False})
        self.message_post(
            body=self.env._("Billing exception cleared: billing will retry."),
            subtype_xmlid="mail.mt_note",
        )
        return True

    # ------------------------------------------------------------------
    # Thin delegates to the billing run (cron records and add-ons call them)
    # ------------------------------------------------------------------

    @api.model
    def _cron_bill_subscriptions(self, batch_size=200, today=None, date_ref=None):
        """The billing job (``ISP: bill subscriptions``): see
        :meth:`isp.billing.run._cron_bill_subscriptions`."""
        return self.env["isp.billing.run"]._cron_bill_subscriptions(
            batch_size=batch_size, date_ref=date_ref or today
        )

    def _bill_due_periods(self, today=None, date_ref=None):
        """Bill these subscriptions up to the reference date: see
        :meth:`isp.billing.run._bill`."""
        return self.env["isp.billing.run"]._bill(self, date_ref or today)
