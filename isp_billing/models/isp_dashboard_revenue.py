# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The recurring revenue of the ISP dashboard, read from the MRR report
(``isp.report.mrr``): MRR, churn and ARPU of the chosen month, and the chart
of MRR and its movements over the 12 months that end with it."""

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, formatLang

# (measure, sign on the chart): the rises up, the falls down
MOVEMENT_SERIES = (
    ("new_mrr_company", 1),
    ("expansion_mrr_company", 1),
    ("reactivation_mrr_company", 1),
    ("contraction_mrr_company", -1),
    ("churn_mrr_company", -1),
)
MOVEMENT_MEASURES = (
    *(measure for measure, __ in MOVEMENT_SERIES),
    "transfer_in_mrr_company",
    "transfer_out_mrr_company",
    "mrr_end_company",
)


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    def _get_dashboard_tiles(self, flt):
        tiles = super()._get_dashboard_tiles(flt)
        if self.env["isp.report.mrr"].has_access("read"):
            tiles += self._dashboard_revenue_tiles(flt)
        return tiles

    def _get_dashboard_chart(self, flt):
        chart = super()._get_dashboard_chart(flt)
        if chart is None and self.env["isp.report.mrr"].has_access("read"):
            chart = self._dashboard_mrr_chart(flt)
        return chart

    def _dashboard_mrr_domain(self, flt, date_from, date_to=None):
        """Rows of the MRR report from month ``date_from`` to ``date_to``
        (default: that month) in the chosen companies (and plan: the plan at
        the month's end)."""
        domain = [
            ("month", ">=", fields.Date.to_string(date_from)),
            ("month", "<=", fields.Date.to_string(date_to or date_from)),
            ("company_id", "in", flt["companies"].ids),
        ]
        if flt["plan"]:
            domain.append(("plan_id", "=", flt["plan"].id))
        return domain

    def _dashboard_mrr_names(self):
        return {
            "new_mrr_company": self.env._("New"),
            "expansion_mrr_company": self.env._("Expansion"),
            "reactivation_mrr_company": self.env._("Reactivation"),
            "contraction_mrr_company": self.env._("Contraction"),
            "churn_mrr_company": self.env._("Churn"),
            "transfer": self.env._("Currency transfers"),
            "mrr_end_company": self.env._("MRR at end"),
        }

    def _dashboard_revenue_sums(self, domain, measure):
        """Over the MRR report rows of ``domain``, per company currency: the
        rows, the sum of ``measure`` and the distinct customers, in one
        grouped read (the report is computed once per read)."""
        rows, amounts, customers = 0, {}, {}
        for currency, count, amount, distinct in self.env["isp.report.mrr"]._read_group(
            domain,
            ["company_currency_id"],
            ["__count", f"{measure}:sum", "customer_id:count_distinct"],
        ):
            rows += count
            amounts[currency] = currency.round(amount)
            customers[currency] = distinct
        return rows, amounts, customers

    def _dashboard_revenue_tiles(self, flt):
        month = flt["date_from"]
        base = self._dashboard_mrr_domain(flt, month)
        mrr = [*base, ("mrr_end_company", "!=", 0)]
        count, amounts, customers = self._dashboard_revenue_sums(mrr, "mrr_end_company")
        mrr_tile = self._dashboard_count_tile(
            "mrr",
            self.env._("MRR"),
            "isp.report.mrr",
            mrr,
            sequence=1,
            section="revenue",
            definition=self.env._(
                "Monthly recurring revenue at the end of the month, in the "
                "company's currency: the untaxed recurring amount per month of "
                "the subscriptions running then (the records: those "
                "subscriptions)."
            ),
            count=count,
        )
        self._dashboard_set_amounts(mrr_tile, amounts)
        self._dashboard_amount_first(
            mrr_tile,
            self.env._(
                "%(count)s subscriptions",
                count=formatLang(self.env, mrr_tile["value"], digits=0),
            ),
        )

        churn = [*base, ("churn_mrr_company", "!=", 0)]
        churned, churn_amounts, __ = self._dashboard_revenue_sums(
            churn, "churn_mrr_company"
        )
        churn_tile = self._dashboard_count_tile(
            "churn",
            self.env._("Churn this month"),
            "isp.report.mrr",
            churn,
            sequence=3,
            section="revenue",
            alert=True,
            definition=self.env._(
                "Subscriptions terminated in the month and the MRR they took "
                "with them (churn movements of the event log)."
            ),
            count=churned,
        )
        self._dashboard_set_amounts(churn_tile, churn_amounts)

        arpu_tile = self._dashboard_count_tile(
            "arpu",
            self.env._("ARPU"),
            "isp.report.mrr",
            mrr,
            sequence=2,
            section="revenue",
            definition=self.env._(
                "Average revenue per subscriber: the MRR at the end of the "
                "month divided by the customers with MRR then."
            ),
            count=count,
        )
        arpu = {
            currency: currency.round(amount / customers[currency])
            for currency, amount in amounts.items()
            if customers[currency]
        }
        self._dashboard_set_amounts(arpu_tile, arpu)
        self._dashboard_amount_first(
            arpu_tile,
            self.env._(
                "%(count)s customers",
                count=formatLang(self.env, sum(customers.values()), digits=0),
            ),
        )
        return [mrr_tile, arpu_tile, churn_tile]

    def _dashboard_mrr_chart(self, flt):
        """MRR at the end of each of the 12 months ending with the chosen one
        (a line) and its movements (bars: rises up, falls down), in one
        company currency (the current company's when the chosen companies
        have several). ``click`` names each dataset's series, each label's
        month and the currency, what :meth:`_get_dashboard_chart_action`
        builds a clicked bar's action from."""
        last = flt["date_from"]
        first = last - relativedelta(months=11)
        months = [first + relativedelta(months=n) for n in range(12)]
        domain = self._dashboard_mrr_domain(flt, first, last)
        Report = self.env["isp.report.mrr"]
        rows = Report._read_group(
            domain,
            ["month:month", "company_currency_id"],
            [f"{m}:sum" for m in MOVEMENT_MEASURES],
        )
        currencies = {currency for __, currency, *__ in rows}
        currency = self.env.company.currency_id
        if currencies and currency not in currencies:
            currency = min(currencies, key=lambda c: c.name)
        sums = {
            month: dict(zip(MOVEMENT_MEASURES, values, strict=True))
            for month, cur, *values in rows
            if cur == currency
        }
        names = self._dashboard_mrr_names()

        def series(measure):
            return [sums.get(month, {}).get(measure, 0.0) for month in months]

        datasets, keys = [], []
        for measure, sign in MOVEMENT_SERIES:
            datasets.append(
                {
                    "label": names[measure],
                    "type": "bar",
                    "stack": "movements",
                    "data": [sign * value for value in series(measure)],
                }
            )
            keys.append(measure)
        transfers = [
            i - o
            for i, o in zip(
                series("transfer_in_mrr_company"),
                series("transfer_out_mrr_company"),
                strict=True,
            )
        ]
        if any(transfers):
            datasets.append(
                {
                    "label": names["transfer"],
                    "type": "bar",
                    "stack": "movements",
                    "data": transfers,
                }
            )
            keys.append("transfer")
        datasets.append(
            {
                "label": names["mrr_end_company"],
                "type": "line",
                "stack": "mrr",
                "data": series("mrr_end_company"),
            }
        )
        keys.append("mrr_end_company")
        return {
            "title": self.env._(
                "MRR and its movements, last 12 months (%(currency)s)",
                currency=currency.name,
            ),
            "labels": [self._dashboard_month_label(month) for month in months],
            "datasets": datasets,
            "click": {
                "series": keys,
                "points": [fields.Date.to_string(month) for month in months],
                "currency_id": currency.id,
            },
        }

    def _dashboard_month_label(self, month):
        return format_date(self.env, month, date_format="MMM y")

    def _get_dashboard_chart_action(self, flt, series, point, currency_id):
        action = super()._get_dashboard_chart_action(flt, series, point, currency_id)
        if action is None and self.env["isp.report.mrr"].has_access("read"):
            action = self._dashboard_mrr_chart_action(flt, series, point, currency_id)
        return action

    def _dashboard_mrr_chart_action(self, flt, series, point, currency_id):
        """The MRR report rows behind the chart's bar (or point) of
        ``series`` (a movement measure, ``transfer`` or ``mrr_end_company``)
        in month ``point`` (``YYYY-MM-01``), in the chart's currency: those
        of the month whose figure is not zero."""
        if series == "transfer":
            nonzero = [
                "|",
                ("transfer_in_mrr_company", "!=", 0),
                ("transfer_out_mrr_company", "!=", 0),
            ]
        elif series == "mrr_end_company" or series in dict(MOVEMENT_SERIES):
            nonzero = [(series, "!=", 0)]
        else:
            raise UserError(
                self.env._("Unknown chart series: %(series)r.", series=series)
            )
        month = self._dashboard_chart_month(point)
        currency = self.env["res.currency"].browse(currency_id).exists()
        if not currency:
            raise UserError(self.env._("This currency does not exist."))
        return self._dashboard_action(
            f"{self._dashboard_mrr_names()[series]} · "
            f"{self._dashboard_month_label(month)}",
            "isp.report.mrr",
            [
                *self._dashboard_mrr_domain(flt, month),
                ("company_currency_id", "=", currency.id),
                *nonzero,
            ],
        )
