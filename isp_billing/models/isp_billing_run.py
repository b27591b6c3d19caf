# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The billing run: a service model (as ``account.move.send`` is for sending)
that bills subscriptions up to a reference date, exactly as daily runs would
have, in batches that several workers share."""

import logging
from collections import defaultdict

from odoo import Command, api, models

from ..const import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)


class IspConcurrentBilling(Exception):
    """Another transaction bills the same subscriptions; retry later."""


# Subscriptions with work on or before the reference date (a period to bill, a
# scheduled plan change or termination), their own time zone's today when no
# reference date is given: the billing run's work queue.
_DUE_WHERE = """
      s.state IN ('active', 'suspended')
  AND s.billing_exception IS NOT TRUE
  AND LEAST(s.next_invoice_date, s.pending_plan_date, s.date_end)
      <= COALESCE(%(date_ref)s::date,
                  (now() AT TIME ZONE COALESCE(s.tz, 'UTC'))::date)
  AND (%(companies)s::int[] IS NULL OR s.company_id = ANY(%(companies)s::int[]))
"""


class IspBillingRun(models.AbstractModel):
    _name = "isp.billing.run"
    _description = "ISP billing run"

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------

    @api.model
    def _cron_bill_subscriptions(self, batch_size=200, date_ref=None):
        """Billing job: bill every subscription with work up to ``date_ref``
        (scheduled changes and terminations, then periods, in date order), in
        batches.

        Each call bills one batch and reports its progress to the cron runner,
        which commits and calls again while work remains: a run over many
        subscriptions resumes where it stopped, and several cron records (or
        servers) running this job share the queue (``SKIP LOCKED``). Called
        outside a cron, it loops over all batches in the current transaction.

        :param int batch_size: subscriptions per batch
        :param date date_ref: reference date (catch-up, tests, back-dated runs);
            default: today in each subscription's time zone
        """
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        done = 0
        while True:
            try:
                batch = self._pick_due(date_ref, batch_size)
            except IspConcurrentBilling:
                _logger.info("Subscriptions are being billed by another worker")
                break
            if not batch:
                break
            try:
                __, worked = self._bill_batch(batch, date_ref)
            except IspConcurrentBilling:
                _logger.info("Subscriptions are being billed by another worker")
                break
            done += len(worked)
            if not worked:
                _logger.error(
                    "Billing run cannot make progress: %s subscriptions are due "
                    "but nothing could be billed (%s)",
                    len(batch),
                    ", ".join(batch[:10].mapped("account_number")),
                )
                break
            if in_cron:
                break  # the cron runner commits and calls again
        remaining = self._count_due(date_ref)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return True

    @api.model
    def _pick_due(self, date_ref, limit):
        """Return and lock the next ``limit`` subscriptions with work, skipping
        those another transaction holds (a work queue: several workers share
        the run instead of waiting for each other).

        :raise IspConcurrentBilling: when rows changed since this transaction
            began; the next run picks them up.
        """
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    f"""
                    SELECT s.id FROM isp_subscription s
                     WHERE {_DUE_WHERE}
                     ORDER BY LEAST(s.next_invoice_date, s.pending_plan_date,
                                    s.date_end), s.id
                     LIMIT %(limit)s
                       FOR NO KEY UPDATE SKIP LOCKED
                    """,  # noqa: S608 - a constant
                    {**self._due_params(date_ref), "limit": limit},
                    log_exceptions=False,
                )
                ids = [row[0] for row in self.env.cr.fetchall()]
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        return self.env["isp.subscription"].browse(ids)

    @api.model
    def _due_subscriptions(self, date_ref=None):
        """Every subscription with work up to ``date_ref`` (the *Run billing*
        wizard's "all due subscriptions"), within the user's companies."""
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT s.id FROM isp_subscription s WHERE {_DUE_WHERE}",  # noqa: S608
            self._due_params(date_ref),
        )
        subs = self.env["isp.subscription"].browse(r[0] for r in self.env.cr.fetchall())
        return subs._filtered_access("read")

    @api.model
    def _due_params(self, date_ref):
        # The job runs as the superuser over every company; anyone else over
        # their allowed companies.
        return {
            "date_ref": date_ref,
            "companies": None if self.env.su else self.env.companies.ids,
        }

    @api.model
    def _count_due(self, date_ref):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT count(*) FROM isp_subscription s WHERE {_DUE_WHERE}",  # noqa: S608
            self._due_params(date_ref),
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------
    # Billing subscriptions
    # ------------------------------------------------------------------

    @api.model
    def _bill(self, subscriptions, date_ref=None, until=None):
        """Bill ``subscriptions`` up to ``date_ref`` (or only the days up to
        ``until``, dating the documents by ``date_ref`` all the same) and queue
        the documents for sending (the *Run billing* wizard, *Bill now*, plan
        changes and terminations, which first catch up the days before them).

        :return: the posted documents
        :rtype: account.move
        """
        moves, __ = self._bill_batch(subscriptions, date_ref, until=until)
        return moves

    @api.model
    def _bill_batch(self, subscriptions, date_ref=None, until=None):
        """Bill ``subscriptions`` up to the reference date as daily runs would
        have: day by day (only the days with work), first the scheduled
        termination and plan change of the day, then the periods that start
        that day. Every document is dated by the reference date.

        A subscription that fails is flagged as a billing exception and the
        others go on.

        :return: ``(posted documents, subscriptions that had work)``
        :raise IspConcurrentBilling: another transaction holds them
        """
        Move = self.env["account.move"]
        subs = self._lock_for_billing(subscriptions)
        if not subs:
            return Move, subs
        journals = {
            company.id: company_subs[0]._get_invoice_journal().id
            for company, company_subs in subs.grouped("company_id").items()
        }
        # isp_billing_memo: what the batch computes many times over from the
        # same values (periods, their labels), computed once (the
        # subscription's _full_period, _period_label); dropped with the batch.
        subs = subs.with_context(isp_journal_by_company=journals, isp_billing_memo={})
        horizon = {sub.id: sub._date_ref(date_ref) for sub in subs}
        last_day = {
            sub.id: min(horizon[sub.id], until) if until else horizon[sub.id]
            for sub in subs
        }
        moves, worked = Move, subs.browse()
        while True:
            agenda = {}
            for sub in subs:
                day = self._next_day(sub, last_day[sub.id])
                if day:
                    agenda[sub] = day
            if not agenda:
                break
            day = min(agenda.values())
            todays = subs.browse(sub.id for sub, d in agenda.items() if d == day)
            before = self._progress_key(todays)
            for sub in todays:
                if self._event_on(sub, day):
                    moves |= self._apply_event(sub, day, horizon[sub.id])
            due = todays.filtered(lambda s, day=day: s._is_due(day))
            if due:
                moves |= self._bill_periods(due, horizon)
            worked |= todays
            if self._progress_key(todays) == before:
                _logger.error(
                    "Billing run stuck on %s: nothing changed on %s",
                    ", ".join(todays[:10].mapped("account_number")),
                    day,
                )
                break
        moves._isp_queue_sending()
        return moves, worked

    @api.model
    def _next_day(self, sub, horizon):
        """The first day with work for ``sub`` (a period to bill, a scheduled
        termination or plan change), if it is on or before ``horizon``."""
        if sub.state not in ("active", "suspended") or sub.billing_exception:
            return None
        days = []
        period = sub._next_period()
        if period:
            days.append(period[0])
        if sub.date_end:
            days.append(sub.date_end)
        if sub.pending_plan_date and (
            not sub.date_end or sub.pending_plan_date < sub.date_end
        ):
            days.append(sub.pending_plan_date)
        day = min(days, default=None)
        return day if day and day <= horizon else None

    @api.model
    def _event_on(self, sub, day):
        return sub.date_end == day or (
            sub.pending_plan_date == day
            and (not sub.date_end or sub.pending_plan_date < sub.date_end)
        )

    @api.model
    def _progress_key(self, subs):
        return [
            (
                sub.state,
                sub.next_invoice_date,
                sub.pending_plan_date,
                sub.billing_exception,
            )
            for sub in subs
        ]

    @api.model
    def _apply_event(self, sub, day, date_ref):
        """Apply ``sub``'s scheduled termination (first) or plan change of
        ``day``, the periods before it being billed. A failure flags it.

        :return: the documents made
        :rtype: account.move
        """
        try:
            with self.env.cr.savepoint():
                if sub.date_end == day:
                    return sub._terminate_now(
                        sub.state_reason, sub.date_end_credit, date_ref=date_ref
                    )
                return sub._change_plan(
                    sub.pending_plan_id,
                    day,
                    self.env._("Scheduled plan change"),
                    date_ref=date_ref,
                    bill=False,
                )
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        except Exception as error:  # noqa: BLE001 - logged on the chatter
            sub._flag_billing_exception(error)
        return self.env["account.move"]

    @api.model
    def _bill_periods(self, due, horizon):
        """Bill the next period of each of ``due`` (all start on the same day):
        one invoice per subscription, or per consolidating customer.

        :return: the posted invoices
        :rtype: account.move
        """
        groups = self._billing_groups(due)
        try:
            # Preparing writes nothing: one savepoint for the whole batch is
            # only a way back from an SQL error in an add-on's hook.
            with self.env.cr.savepoint(flush=False):
                items = [
                    (group, *self._prepare_group_invoice(group, horizon[group[:1].id]))
                    for group in groups
                ]
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        except Exception:  # noqa: BLE001 - isolated below, one by one
            _logger.info("Preparing %s invoices failed, one by one", len(groups))
            items = []
            for group in groups:
                try:
                    with self.env.cr.savepoint(flush=False):
                        vals, periods = self._prepare_group_invoice(
                            group, horizon[group[:1].id]
                        )
                    items.append((group, vals, periods))
                except CONCURRENCY_ERRORS as error:
                    raise IspConcurrentBilling() from error
                except Exception as error:  # noqa: BLE001 - logged on the chatter
                    group._flag_billing_exception(error)
        created = self._create_invoices(items)
        billed = created.line_ids.isp_subscription_id & due
        # One UPDATE per distinct period end, not one per subscription. Neither
        # field is tracked: mail_notrack spares the chatter's bookkeeping of
        # every tracked field of every subscription until the commit.
        for end, ended in billed.grouped(lambda sub: sub._next_period()[1]).items():
            ended.with_context(mail_notrack=True).write(
                {"next_invoice_date": end, "billed_until": end}
            )
        return created

    @api.model
    def _billing_groups(self, subs):
        """Group subscriptions into invoices: one per subscription, or one per
        customer, company, currency and period start when the customer
        consolidates."""
        groups = defaultdict(lambda: subs.browse())
        singles = []
        # The customers' choice (company-dependent) read once per company.
        consolidate = {
            (partner.id, company.id): partner.isp_consolidate_invoices
            for company, company_subs in subs.grouped("company_id").items()
            for partner in company_subs.partner_id.with_company(company)
        }
        for sub in subs:
            partner = sub.partner_id
            if consolidate[partner.id, sub.company_id.id]:
                key = (
                    partner.commercial_partner_id.id,
                    sub.company_id.id,
                    sub.currency_id.id,
                    sub._get_invoice_journal().id,
                    sub.next_invoice_date,
                )
                groups[key] |= sub
            else:
                singles.append(sub)
        return singles + list(groups.values())

    @api.model
    def _prepare_group_invoice(self, group, invoice_date):
        """Return ``(move values, period values)`` billing the next period of
        each subscription of ``group`` (one subscription, or a consolidated
        group). Writes nothing."""
        # next(iter()) keeps the batch's prefetch set (group[0] would not).
        first = next(iter(group))
        vals = first._prepare_invoice_vals(invoice_date)
        lines, periods = [], []
        for sub in group:
            start, end = sub._next_period()
            if len(group) > 1:
                lines.append(
                    {
                        "display_type": "line_section",
                        "name": f"{sub.account_number} - "
                        f"{sub.service_partner_id.display_name or sub.partner_id.name}",
                    }
                )
            lines += sub._prepare_period_lines(start, end)
            periods.append(
                {
                    "subscription_id": sub.id,
                    "date_start": start,
                    "date_end": end,
                    "company_id": sub.company_id.id,
                }
            )
        if len(group) > 1:
            vals["invoice_origin"] = ", ".join(group.mapped("account_number"))
            vals["payment_reference"] = False
        vals["invoice_line_ids"] = [Command.create(line) for line in lines]
        return vals, periods

    @api.model
    def _lock_for_billing(self, subs):
        """Lock the subscriptions this transaction bills; skip those another
        transaction holds.

        :return: the subscriptions locked
        :raise IspConcurrentBilling: when another transaction changed them since
            this one began (repeatable read); the next run picks them up.
        """
        if not subs:
            return subs
        subs.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """SELECT id FROM isp_subscription WHERE id = ANY(%s)
                       FOR NO KEY UPDATE SKIP LOCKED""",
                    [subs.ids],
                    log_exceptions=False,
                )
                locked = {row[0] for row in self.env.cr.fetchall()}
        except CONCURRENCY_ERRORS as error:
            raise IspConcurrentBilling() from error
        return subs.filtered(lambda s: s.id in locked)

    @api.model
    def _create_invoices(self, items):
        """Create and post the invoices of ``items`` (``[(subs, vals, periods)]``).

        All at once when nothing fails, else one by one, each in a savepoint, so a
        bad invoice only flags its own subscriptions. A refusal of the
        billed-period key is such a failure: under the row lock this run holds,
        no other worker can be billing the subscription.

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
