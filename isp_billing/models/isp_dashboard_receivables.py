# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The receivables aging tiles of the ISP dashboard, read from the aging
report (``isp.report.aging.line``), as of the end of the chosen month (today
for the current month)."""

from collections import defaultdict

from odoo import fields, models

from ..report.isp_report_aging import AGING_BUCKETS


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    def _get_dashboard_tiles(self, flt):
        tiles = super()._get_dashboard_tiles(flt)
        if self.env["isp.report.aging.line"].has_access("read"):
            tiles += self._dashboard_aging_tiles(flt)
        return tiles

    def _dashboard_aging_labels(self):
        return {
            "current": self.env._("Not due yet"),
            "1_30": self.env._("1-30 days past due"),
            "31_60": self.env._("31-60 days past due"),
            "61_90": self.env._("61-90 days past due"),
            "over_90": self.env._("Over 90 days past due"),
        }

    def _dashboard_aging_groups(self, flt, as_of):
        """The aging rows of the chosen companies as of ``as_of`` per bucket
        and currency: ``[(bucket, currency, count, amount)]``, read once per
        dashboard call and date (the aging tiles and the DSO of the current
        month read the same day's aging)."""
        cache = flt.setdefault("aging_groups", {})
        if as_of not in cache:
            Line = self.env["isp.report.aging.line"].with_context(
                isp_aging_date=fields.Date.to_string(as_of)
            )
            cache[as_of] = Line._read_group(
                [("company_id", "in", flt["companies"].ids)],
                ["bucket", "currency_id"],
                ["__count", "amount_residual:sum"],
            )
        return cache[as_of]

    def _dashboard_aging_tiles(self, flt):
        """One tile per aging bucket: the open items in it (invoice
        instalments net of the customer's credits; a customer whose credits
        exceed their debts is one negative *current* row) and their amount."""
        as_of = min(flt["today"], flt["date_to"])
        context = {"isp_aging_date": fields.Date.to_string(as_of)}
        labels = self._dashboard_aging_labels()
        # the aging is computed once for the five tiles (one grouped read)
        companies = [("company_id", "in", flt["companies"].ids)]
        counts, amounts = defaultdict(int), defaultdict(dict)
        for bucket, currency, count, amount in self._dashboard_aging_groups(flt, as_of):
            counts[bucket] += count
            amounts[bucket][currency] = currency.round(amount)
        tiles = []
        for sequence, (key, __, __) in enumerate(AGING_BUCKETS, start=41):
            domain = [*companies, ("bucket", "=", key)]
            tile = self._dashboard_count_tile(
                f"aging_{key}",
                labels[key],
                "isp.report.aging.line",
                domain,
                sequence=sequence,
                section="money",
                alert=key != "current",
                by_plan=False,
                view="isp_billing.isp_report_aging_line_view_list",
                context=context,
                definition=self.env._(
                    "Receivables aging as of %(date)s, by due date: the open "
                    "invoice instalments in this bucket, net of the customer's "
                    "credit notes and unallocated payments.",
                    date=fields.Date.to_string(as_of),
                ),
                count=counts[key],
            )
            tiles.append(self._dashboard_set_amounts(tile, amounts[key]))
        return tiles
