# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The collections tiles of the ISP dashboard, read from the collections
service (``isp.report.collections``, README *Collections figures*) over the
chosen month: from its first day to its last, to today in the current month.

Each tile counts the records behind its figure (the rows the figure is
computed from) on the domain its click-through opens; the figure itself (a
rate, a number of days) is ``figure`` and what the tile shows."""

from datetime import timedelta

from odoo import fields, models
from odoo.tools.misc import formatLang

NO_FIGURE = "–"
# the records of a figure that has none (a month after today)
NOTHING = [("id", "in", [])]


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    def _get_dashboard_tiles(self, flt):
        tiles = super()._get_dashboard_tiles(flt)
        if self.env["isp.report.collections.invoice"].has_access("read"):
            tiles += self._dashboard_collections_tiles(flt)
        return tiles

    def _dashboard_collections_period(self, flt):
        """``(first day, last day)`` of the collections figures: the chosen
        month, up to today in the current month. A month after today ends
        before it starts: its figures are empty."""
        date_from = flt["date_from"]
        date_to = min(flt["date_to"], max(flt["today"], date_from - timedelta(days=1)))
        return date_from, date_to

    def _dashboard_plan_domain(self, flt, prefix):
        """The plan filter on another model: ``prefix`` is the path to the
        subscription's fields (``"subscription_id."``)."""
        return [(f"{prefix}plan_id", "=", flt["plan"].id)] if flt["plan"] else []

    def _dashboard_rate(self, rate):
        """A share (0.6) as the tile shows it (60.00 %); none: a dash."""
        if rate is None:
            return NO_FIGURE
        return f"{formatLang(self.env, rate * 100, digits=2)} %"

    def _dashboard_set_figure(self, tile, figure, display, detail):
        tile.update(figure=figure, display=display, detail=detail)
        return tile

    def _dashboard_set_rate(self, tile, rate, detail):
        """Sets a rate tile's figure: ``rate`` (a share, or ``None``), shown
        as a percentage, over ``detail``."""
        return self._dashboard_set_figure(
            tile, rate, self._dashboard_rate(rate), detail
        )

    def _dashboard_part_whole(self, part, whole):
        """``part`` and ``whole`` as whole numbers for the ``%(part)s of
        %(whole)s`` details of the rate tiles."""
        return {
            "part": formatLang(self.env, part, digits=0),
            "whole": formatLang(self.env, whole, digits=0),
        }

    def _dashboard_by_currency(self, figures):
        """``[(currency, entry)]`` of figures keyed by currency id, sorted by
        the currency's name."""
        Currency = self.env["res.currency"]
        return sorted(
            ((Currency.browse(cid), entry) for cid, entry in figures.items()),
            key=lambda item: item[0].name,
        )

    def _dashboard_collections_tiles(self, flt):
        date_from, date_to = self._dashboard_collections_period(flt)
        period = (flt, date_from, date_to)
        return [
            self._dashboard_dso_tile(*period),
            self._dashboard_paid_on_time_tile(*period),
            self._dashboard_promise_tile(*period),
            self._dashboard_autopay_tile(*period),
            *self._dashboard_suspension_tiles(*period),
            *self._dashboard_channel_tiles(*period),
        ]

    def _dashboard_dso_tile(self, flt, date_from, date_to):
        """Days sales outstanding per currency; the records: the aging rows
        (the receivable) as of the period's last day."""
        empty = date_to < date_from
        Service = self.env["isp.report.collections"]
        # one aging read, shared with the aging tiles when they show the same
        # day: the receivable of the DSO and the rows the tile counts (its
        # records: the aging rows of the chosen companies)
        aging = {}
        for __, currency, count, amount in (
            [] if empty else self._dashboard_aging_groups(flt, date_to)
        ):
            row = aging.setdefault(
                currency.id,
                {"currency_id": currency.id, "amount_residual": 0.0, "count": 0},
            )
            row["amount_residual"] += amount
            row["count"] += count
        aging = list(aging.values())
        dso = {} if empty else Service._prepare_dso(date_from, date_to, aging=aging)
        tile = self._dashboard_count_tile(
            "dso",
            self.env._("Days sales outstanding"),
            "isp.report.aging.line",
            NOTHING if empty else [("company_id", "in", flt["companies"].ids)],
            sequence=50,
            section="collections",
            by_plan=False,
            view="isp_billing.isp_report_aging_line_view_list",
            context={"isp_aging_date": fields.Date.to_string(date_to)},
            definition=self.env._(
                "DSO: what customers owed at the end of the period (the "
                "receivables aging's total, net of their credits) divided by "
                "what was invoiced in the period (invoices minus credit notes, "
                "taxes included), times the period's days. The records: the "
                "aging rows of that day."
            ),
            count=sum(row["count"] for row in aging),
        )
        entries = self._dashboard_by_currency(dso)
        several = len(entries) > 1

        def days(currency, entry):
            text = (
                NO_FIGURE
                if entry["dso"] is None
                else self.env._(
                    "%(days)s days", days=formatLang(self.env, entry["dso"], digits=1)
                )
            )
            return f"{text} ({currency.name})" if several else text

        display = " · ".join(days(*item) for item in entries) or NO_FIGURE
        detail = " · ".join(
            self.env._(
                "%(receivable)s owed, %(invoiced)s invoiced",
                receivable=formatLang(
                    self.env, entry["receivable"], currency_obj=currency
                ),
                invoiced=formatLang(self.env, entry["invoiced"], currency_obj=currency),
            )
            for currency, entry in entries
        )
        figure = entries[0][1]["dso"] if len(entries) == 1 else None
        return self._dashboard_set_figure(tile, figure, display, detail)

    def _dashboard_paid_on_time_tile(self, flt, date_from, date_to):
        """Share of the invoices due in the period paid by their due date;
        the records: those invoices (*Invoices paid* rows)."""
        Service = self.env["isp.report.collections"]
        plan = self._dashboard_plan_domain(flt, "move_id.line_ids.isp_subscription_id.")
        result = Service._prepare_paid_on_time(date_from, date_to, domain=plan)
        tile = self._dashboard_count_tile(
            "paid_on_time",
            self.env._("Paid by due date"),
            "isp.report.collections.invoice",
            Service._invoices_due_domain(date_from, date_to, plan),
            count=result["due"],
            sequence=51,
            section="collections",
            view="isp_billing.isp_report_collections_invoice_view_list",
            definition=self.env._(
                "Of the customer invoices due in the period, the share settled "
                "on or before their due date (unpaid ones count as late). The "
                "records: the invoices due in the period."
            ),
        )
        return self._dashboard_set_rate(
            tile,
            result["rate"],
            self.env._(
                "%(part)s of %(whole)s invoices",
                **self._dashboard_part_whole(result["on_time"], result["due"]),
            ),
        )

    def _dashboard_promise_tile(self, flt, date_from, date_to):
        """Promise-to-pay kept rate; the records: the promises counted (their
        events)."""
        Service = self.env["isp.report.collections"]
        plan = self._dashboard_plan_domain(flt, "subscription_id.")
        events = Service._promise_events(
            date_from, date_to, date_at=flt["today"], domain=plan
        )
        kept = sum(1 for ok in events.values() if ok)
        rate = Service._rate(kept, len(events))
        tile = self._dashboard_count_tile(
            "promise_kept",
            self.env._("Promises to pay kept"),
            "isp.subscription.event",
            [("id", "in", sorted(events))],
            count=len(events),
            sequence=52,
            section="collections",
            view="isp_billing.isp_subscription_event_view_list",
            definition=self.env._(
                "Promises to pay made in the period whose last day is before "
                "today and that covered invoices: the share whose invoices "
                "were all settled by that last day. The records: those "
                "promises."
            ),
        )
        return self._dashboard_set_rate(
            tile,
            rate,
            self.env._(
                "%(part)s of %(whole)s kept",
                **self._dashboard_part_whole(kept, len(events)),
            ),
        )

    def _dashboard_autopay_tile(self, flt, date_from, date_to):
        """Auto-pay success rate; the records: the attempts that ended."""
        Service = self.env["isp.report.collections"]
        plan = self._dashboard_plan_domain(flt, "subscription_id.")
        result = Service._prepare_autopay(date_from, date_to, domain=plan)
        tile = self._dashboard_count_tile(
            "autopay",
            self.env._("Auto-pay success"),
            "isp.autopay.attempt",
            Service._autopay_domain(date_from, date_to, plan),
            count=result["attempts"],
            sequence=53,
            section="collections",
            view="isp_billing.isp_autopay_attempt_view_list",
            definition=self.env._(
                "Auto-pay attempts scheduled in the period that ended paid, of "
                "those that ended (paid or failed). The records: those "
                "attempts."
            ),
        )
        return self._dashboard_set_rate(
            tile,
            result["rate"],
            self.env._(
                "%(part)s of %(whole)s paid",
                **self._dashboard_part_whole(result["done"], result["attempts"]),
            ),
        )

    def _dashboard_suspension_tiles(self, flt, date_from, date_to):
        """Suspensions and reconnections in the period: their events."""
        Service = self.env["isp.report.collections"]
        plan = self._dashboard_plan_domain(flt, "subscription_id.")
        return [
            self._dashboard_count_tile(
                key,
                title,
                "isp.subscription.event",
                Service._events_domain([event_type], date_from, date_to, plan),
                sequence=sequence,
                section="collections",
                view="isp_billing.isp_subscription_event_view_list",
                definition=definition,
            )
            for key, event_type, title, sequence, definition in (
                (
                    "suspensions",
                    "suspension",
                    self.env._("Suspensions"),
                    54,
                    self.env._(
                        "Subscriptions suspended in the period, by hand or by "
                        "the dunning ladder (suspension events)."
                    ),
                ),
                (
                    "reconnections",
                    "reactivation",
                    self.env._("Reconnections"),
                    55,
                    self.env._(
                        "Suspended subscriptions reactivated in the period, by "
                        "hand, on payment or on a promise to pay (reactivation "
                        "events)."
                    ),
                ),
            )
        ]

    def _dashboard_channel_tiles(self, flt, date_from, date_to):
        """One tile per payment channel: its share of the money received in
        the period (per currency); the records: its payments."""
        Service = self.env["isp.report.collections"]
        Payment = self.env["isp.report.collections.payment"]
        money = Service._prepare_money_by_channel(date_from, date_to)
        entries = self._dashboard_by_currency(money)
        labels = dict(Payment._fields["channel"]._description_selection(self.env))
        tiles = []
        for sequence, channel in enumerate(labels, start=56):
            tile = self._dashboard_count_tile(
                f"channel_{channel}",
                self.env._("Money in: %(channel)s", channel=labels[channel]),
                "isp.report.collections.payment",
                Service._payments_domain(
                    date_from, date_to, [("channel", "=", channel)]
                ),
                sequence=sequence,
                section="collections",
                by_plan=False,
                view="isp_billing.isp_report_collections_payment_view_list",
                definition=self.env._(
                    "The share of the customer payments received in the period "
                    "(by amount, per currency) that came through this channel. "
                    "The records: its payments."
                ),
            )
            self._dashboard_set_amounts(
                tile,
                {
                    currency: entry["amounts"][channel]
                    for currency, entry in entries
                    if entry["amounts"][channel]
                },
            )
            shares = [
                self._dashboard_rate(entry["shares"][channel])
                + (f" ({currency.name})" if len(entries) > 1 else "")
                for currency, entry in entries
            ]
            figure = entries[0][1]["shares"][channel] if len(entries) == 1 else None
            tiles.append(
                self._dashboard_set_figure(
                    tile,
                    figure,
                    " · ".join(shares) or NO_FIGURE,
                    tile["amount_display"],
                )
            )
        return tiles
