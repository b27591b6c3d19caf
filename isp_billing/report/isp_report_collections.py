# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Collections figures over a period (README, *Collections and aging
definitions*): days sales outstanding, share of invoices paid by their due
date, days-to-pay distribution, money by channel, promise-to-pay kept rate,
suspensions and reconnections per month, auto-pay success rate.

Each ``_prepare_*`` computes without writing, in the user's allowed
companies, after checking the caller may read receivables (the dashboard
and the reports call them)."""

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..const import OPEN_ITEMS_GROUPS


class IspReportCollections(models.AbstractModel):
    _name = "isp.report.collections"
    _description = "ISP collections figures (service)"

    @api.model
    def _check_collections_access(self):
        user = self.env.user
        if not self.env.su and not any(user.has_group(g) for g in OPEN_ITEMS_GROUPS):
            raise AccessError(
                self.env._(
                    "Only accounting users may see collections figures (%(user)s).",
                    user=user.name,
                )
            )

    @api.model
    def _period(self, date_from, date_to):
        # the figures read tables in SQL: write what the ORM still holds
        self.env.flush_all()
        return fields.Date.to_date(date_from), fields.Date.to_date(date_to)

    @api.model
    def _rate(self, part, whole):
        return round(part / whole, 4) if whole else None

    @api.model
    def _prepare_dso(self, date_from, date_to, aging=None):
        """Days sales outstanding per currency: receivables at the end of
        ``date_to`` (the aging's total, net of credits) over the period's
        invoiced amount (customer invoices minus credit notes, taxes
        included, by accounting date), times the period's days. ``{currency
        id: {"receivable", "invoiced", "days", "dso"}}``; ``dso`` is None
        without sales. ``aging``: the aging as of ``date_to`` by currency
        (``isp.report.aging._prepare_aging(date_to, groupby=("currency_id",))``)
        when the caller has read it already."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        days = (date_to - date_from).days + 1
        if aging is None:
            aging = self.env["isp.report.aging"]._prepare_aging(
                date_to, groupby=("currency_id",)
            )
        receivable = {row["currency_id"]: row["amount_residual"] for row in aging}
        rows = self.env.execute_query(
            SQL(
                """
                SELECT currency_id,
                       SUM(CASE WHEN move_type = 'out_invoice' THEN amount_total
                                ELSE -amount_total END)
                  FROM account_move
                 WHERE move_type IN ('out_invoice', 'out_refund')
                   AND state = 'posted'
                   AND company_id IN %s
                   AND date BETWEEN %s AND %s
                 GROUP BY currency_id
                """,
                tuple(self.env.companies.ids),
                date_from,
                date_to,
            )
        )
        invoiced = dict(rows)
        result = {}
        for currency_id in set(receivable) | set(invoiced):
            currency = self.env["res.currency"].browse(currency_id)
            rec = currency.round(receivable.get(currency_id, 0.0))
            sales = currency.round(invoiced.get(currency_id, 0.0))
            result[currency_id] = {
                "receivable": rec,
                "invoiced": sales,
                "days": days,
                "dso": round(rec / sales * days, 1) if sales > 0 else None,
            }
        return result

    @api.model
    def _invoices_due_domain(self, date_from, date_to, domain=()):
        """The invoices of *paid by their due date*: rows of
        ``isp.report.collections.invoice`` due in the period, in the allowed
        companies, narrowed by ``domain`` (e.g. a plan)."""
        return [
            ("date_due", ">=", date_from),
            ("date_due", "<=", date_to),
            ("company_id", "in", self.env.companies.ids),
            *domain,
        ]

    @api.model
    def _prepare_paid_on_time(self, date_from, date_to, domain=()):
        """Share of the customer invoices due in the period (posted, not
        reversed) that were settled by the end of their due date: ``{"due",
        "on_time", "rate"}``. ``domain`` narrows the invoices (rows of
        ``isp.report.collections.invoice``)."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        invoices = self.env["isp.report.collections.invoice"].search_fetch(
            self._invoices_due_domain(date_from, date_to, domain), ["paid_on_time"]
        )
        on_time = len(invoices.filtered("paid_on_time"))
        return {
            "due": len(invoices),
            "on_time": on_time,
            "rate": self._rate(on_time, len(invoices)),
        }

    @api.model
    def _prepare_days_to_pay(self, date_from, date_to):
        """Days from invoice date to settlement of the customer invoices
        settled in the period: count per range (``DAYS_TO_PAY_BUCKETS``
        but *not paid*), mean and median. ``{"count", "buckets", "mean",
        "median"}``."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        Invoice = self.env["isp.report.collections.invoice"]
        # one grouped read over the invoices settled in the period (their
        # stored settlement date, indexed): the invoices per number of days,
        # then the ranges, the mean and the median from those counts
        groups = Invoice._read_group(
            [("date_paid", ">=", date_from), ("date_paid", "<=", date_to)],
            ["days_to_pay", "days_to_pay_bucket"],
            ["__count"],
        )
        buckets = {
            key: 0
            for key, _label in Invoice._fields["days_to_pay_bucket"].selection
            if key != "unpaid"
        }
        counts = {}
        for days, bucket, count in groups:
            buckets[bucket] += count
            counts[days] = counts.get(days, 0) + count
        total = sum(counts.values())
        return {
            "count": total,
            "buckets": buckets,
            "mean": round(sum(d * c for d, c in counts.items()) / total, 1)
            if total
            else None,
            "median": self._median_of_counts(counts) if total else None,
        }

    @api.model
    def _median_of_counts(self, counts):
        """The median of the values ``counts`` holds (``{value: count}``), as
        :func:`statistics.median` of the values repeated: the middle one, or
        the mean of the two middle ones."""
        total = sum(counts.values())
        middles = {(total - 1) // 2, total // 2}
        found, seen = [], 0
        for value in sorted(counts):
            for index in sorted(middles):
                if seen <= index < seen + counts[value]:
                    found.append(value)
            seen += counts[value]
        return found[0] if len(found) == 1 else (found[0] + found[1]) / 2

    @api.model
    def _payments_domain(self, date_from, date_to, domain=()):
        """The payments of *money by channel*: rows of
        ``isp.report.collections.payment`` dated in the period, in the
        allowed companies, narrowed by ``domain`` (e.g. a channel)."""
        return [
            ("date", ">=", date_from),
            ("date", "<=", date_to),
            ("company_id", "in", self.env.companies.ids),
            *domain,
        ]

    @api.model
    def _prepare_money_by_channel(self, date_from, date_to):
        """Customer payments received in the period (posted, by payment
        date) per currency and channel, with each channel's share of the
        currency's total: ``{currency id: {"total", "amounts": {channel:
        amount}, "shares": {channel: share}}}``."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        Payment = self.env["isp.report.collections.payment"]
        channels = [key for key, _label in Payment._fields["channel"].selection]
        result = {}
        for currency, channel, amount in Payment._read_group(
            self._payments_domain(date_from, date_to),
            ["currency_id", "channel"],
            ["amount:sum"],
        ):
            entry = result.setdefault(
                currency.id, {"amounts": dict.fromkeys(channels, 0.0)}
            )
            entry["amounts"][channel] = currency.round(amount)
        for currency_id, entry in result.items():
            currency = self.env["res.currency"].browse(currency_id)
            entry["total"] = total = currency.round(sum(entry["amounts"].values()))
            entry["shares"] = {
                channel: self._rate(amount, total)
                for channel, amount in entry["amounts"].items()
            }
        return result

    @api.model
    def _promise_events(self, date_from, date_to, date_at=None, domain=()):
        """The promises to pay of the kept rate and whether each was kept:
        ``{event id: kept}`` (see :meth:`_prepare_promise_kept`), narrowed by
        ``domain`` on their events (``isp.subscription.event``, e.g. a
        plan)."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        date_at = fields.Date.to_date(date_at) or fields.Date.context_today(self)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT event.id,
                       bool_and(inv.date_paid IS NOT NULL
                                AND inv.date_paid <= event.promise_until)
                  FROM isp_subscription_event event
                  JOIN account_move_line line
                    ON line.isp_subscription_id = event.subscription_id
                  JOIN isp_report_collections_invoice inv
                    ON inv.move_id = line.move_id
                 WHERE event.event_type = 'promise'
                   AND event.company_id IN %(companies)s
                   AND event.event_date BETWEEN %(date_from)s AND %(date_to)s
                   AND event.promise_until < %(date_at)s
                   AND inv.invoice_date <= event.event_date
                   AND inv.date_due <= event.promise_until
                   AND (inv.date_paid IS NULL OR inv.date_paid >= event.event_date)
                 GROUP BY event.id
                """,
                companies=tuple(self.env.companies.ids),
                date_from=date_from,
                date_to=date_to,
                date_at=date_at,
            )
        )
        kept = dict(rows)
        if domain:
            events = self.env["isp.subscription.event"].search(
                [("id", "in", list(kept)), *domain]
            )
            kept = {event_id: kept[event_id] for event_id in events.ids}
        return kept

    @api.model
    def _prepare_promise_kept(self, date_from, date_to, date_at=None, domain=()):
        """Promises to pay made in the period and ended before ``date_at``
        (default today): a promise covers the subscription's customer
        invoices open on the promise day and due by its last day
        (``promise_until``); it is kept when all of them were settled by
        the end of that day. Promises that covered nothing do not count.
        ``{"promises", "kept", "rate"}``; ``domain`` narrows the promises'
        events."""
        events = self._promise_events(date_from, date_to, date_at, domain)
        kept = sum(1 for ok in events.values() if ok)
        return {
            "promises": len(events),
            "kept": kept,
            "rate": self._rate(kept, len(events)),
        }

    @api.model
    def _events_domain(self, event_types, date_from, date_to, domain=()):
        """Events of the event log of ``event_types`` dated in the period, in
        the allowed companies, narrowed by ``domain`` (e.g. a plan)."""
        return [
            ("event_type", "in", list(event_types)),
            ("event_date", ">=", date_from),
            ("event_date", "<=", date_to),
            ("company_id", "in", self.env.companies.ids),
            *domain,
        ]

    @api.model
    def _prepare_suspensions(self, date_from, date_to, domain=()):
        """Suspensions and reconnections (reactivations) per month of the
        event log, by event date: ``[{"month": first day, "suspensions",
        "reconnections"}]``, months without either left out; ``domain``
        narrows the events."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        keys = {"suspension": "suspensions", "reactivation": "reconnections"}
        months = {}
        for month, event_type, count in self.env["isp.subscription.event"]._read_group(
            self._events_domain(keys, date_from, date_to, domain),
            ["event_date:month", "event_type"],
            ["__count"],
        ):
            entry = months.setdefault(
                month, {"month": month, "suspensions": 0, "reconnections": 0}
            )
            entry[keys[event_type]] = count
        return [months[month] for month in sorted(months)]

    @api.model
    def _autopay_domain(self, date_from, date_to, domain=()):
        """The auto-pay attempts of the success rate: scheduled in the
        period, ended (paid or failed), in the allowed companies, narrowed
        by ``domain`` (e.g. a plan)."""
        return [
            ("state", "in", ("done", "failed")),
            ("scheduled_date", ">=", date_from),
            ("scheduled_date", "<=", date_to),
            ("company_id", "in", self.env.companies.ids),
            *domain,
        ]

    @api.model
    def _prepare_autopay(self, date_from, date_to, domain=()):
        """Auto-pay attempts scheduled in the period that ended (paid or
        failed; *not needed* and pending ones left out): ``{"attempts",
        "done", "rate"}``; ``domain`` narrows the attempts."""
        self._check_collections_access()
        date_from, date_to = self._period(date_from, date_to)
        counts = dict(
            self.env["isp.autopay.attempt"]._read_group(
                self._autopay_domain(date_from, date_to, domain),
                ["state"],
                ["__count"],
            )
        )
        attempts = sum(counts.values())
        done = counts.get("done", 0)
        return {"attempts": attempts, "done": done, "rate": self._rate(done, attempts)}
