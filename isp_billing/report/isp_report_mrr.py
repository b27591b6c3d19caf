# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools

from ..models.isp_mrr_ledger import MONTHS_CTE as MONTHS
from ..models.isp_mrr_ledger import MOVEMENTS, movement_columns
from ..models.isp_mrr_ledger import TABLE as LEDGER

# what isp.report.mrr.month has: the report's grouped sums are read there
GROUP_KEYS = ("month", "company_id", "currency_id", "company_currency_id")


class IspReportMrr(models.Model):
    """MRR by month with its movements (README, "Analytics definitions"): one
    row per subscription, currency and month in which the subscription had MRR
    or a movement. Amounts in the subscription's currency and in the company's;
    the falls (contraction, churn, transfer out) are positive, as the identity
    states them: MRR at start + new + expansion + reactivation - contraction -
    churn + transfer in - transfer out = MRR at end.

    The MRR of a month is the sum of the movements dated before it (the event
    log is a ledger: a back-dated event counts in its own month). The rows
    are read from the stored MRR ledger (``isp.mrr.ledger``), kept from the
    event log as events are written."""

    _name = "isp.report.mrr"
    _inherit = "isp.report.mrr.measures"
    _description = "ISP MRR and movements by month"
    _auto = False
    _order = "month desc, subscription_id"
    # flushed before the view is read
    _depends = {
        "isp.subscription.event": ["event_date"],
        "isp.subscription": ["partner_id"],
        "res.partner": ["commercial_partner_id"],
    }

    month = fields.Date(readonly=True, help="First day of the month.")
    company_id = fields.Many2one("res.company", readonly=True)
    subscription_id = fields.Many2one("isp.subscription", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    plan_id = fields.Many2one(
        "product.product", string="Plan", readonly=True, help="Plan at month end."
    )

    def _query(self):
        """The ledger's rows (``isp.mrr.ledger``), and for each subscription
        whose MRR is not zero after its last row (its *tail*), that row carried
        on, with no movement, over the months that follow up to the horizon:
        the current month, or the month of the log's last event if later."""
        columns = movement_columns()
        carried = ",\n".join(f"0::numeric AS {name}" for name in columns)
        rows = ",\n".join(f"l.{name}" for name in columns)
        return f"""
            WITH {MONTHS},
            rows AS (
                SELECT l.subscription_id, l.currency_id, l.month, l.company_id,
                       l.plan_id, l.net, l.net_company, l.mrr_end,
                       l.mrr_end_company, {rows}
                  FROM {LEDGER} l
                 UNION ALL
                SELECT t.subscription_id, t.currency_id, m.month, t.company_id,
                       t.plan_id, 0::numeric, 0::numeric, t.mrr_end,
                       t.mrr_end_company, {carried}
                  FROM months m
                  JOIN {LEDGER} t ON t.tail AND t.month < m.month
            )
            SELECT (l.subscription_id::bigint * 10000000
                    + l.currency_id * 10000
                    + (extract(year FROM l.month)::int - 1900) * 12
                    + extract(month FROM l.month)::int)::bigint AS id,
                   l.month, l.subscription_id, l.currency_id,
                   l.company_id, company.currency_id AS company_currency_id,
                   COALESCE(p.commercial_partner_id, p.id) AS customer_id,
                   l.plan_id,
                   l.mrr_end - l.net AS mrr_start, l.mrr_end,
                   l.mrr_end_company - l.net_company AS mrr_start_company,
                   l.mrr_end_company,
                   {", ".join(f"l.{k}_mrr, l.{k}_mrr_company" for k in MOVEMENTS)}
              FROM rows l
         LEFT JOIN res_company company ON company.id = l.company_id
         LEFT JOIN isp_subscription sub ON sub.id = l.subscription_id
         LEFT JOIN res_partner p ON p.id = sub.partner_id
        """

    def init(self):
        # the ledger's table first: the view reads it
        self.env["isp.mrr.ledger"]._ledger_init()
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS ({self._query()})"
        )

    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        """Sums by month, company or currency are read from the report summed
        per company, currency and month (``isp.report.mrr.month``): the same
        groups and figures without a row per subscription. Anything that
        needs a subscription's own values (a filter or a group on the plan,
        the customer, an amount; a count of distinct values) reads the rows."""
        keys = set(GROUP_KEYS)
        mapped = self._mrr_month_aggregates(aggregates)
        if (
            mapped is not None
            and not having
            and all(spec.split(":")[0] in keys for spec in groupby)
            and self._mrr_month_domain(domain)
            and (not order or self._mrr_month_order(order, groupby, aggregates))
        ):
            return self.env["isp.report.mrr.month"]._read_group(
                domain, groupby, mapped, offset=offset, limit=limit, order=order
            )
        return super()._read_group(
            domain, groupby, aggregates, having, offset, limit, order
        )

    @api.model
    def _mrr_month_aggregates(self, aggregates):
        """``aggregates`` as ``isp.report.mrr.month`` states them, or None when
        one of them is not a sum of an amount or the row count."""
        mapped = []
        for spec in aggregates:
            if spec == "__count":
                mapped.append("nb_rows:sum")
            elif (
                spec.endswith(":sum")
                and self._fields.get(spec[:-4]) is not None
                and self._fields[spec[:-4]].type == "monetary"
            ):
                mapped.append(spec)
            else:
                return None
        return mapped

    @api.model
    def _mrr_month_domain(self, domain):
        """Whether ``domain`` filters on the month, company and currencies
        only."""
        return all(
            isinstance(leaf, str) or leaf[0] in GROUP_KEYS for leaf in domain or []
        )

    @api.model
    def _mrr_month_order(self, order, groupby, aggregates):
        """Whether ``order`` sorts on the groups or the sums only."""
        names = set(groupby) | {a for a in aggregates if a != "__count"}
        for term in order.split(","):
            name = term.strip().split(" ")[0]
            if name and name not in names and name.split(":")[0] not in GROUP_KEYS:
                return False
        return True

    @api.model
    def _compute_mrr_by_month(self, date_from, date_to, company_ids=None):
        """MRR and movements per month and currency, for ``[date_from,
        date_to]`` (months), of ``company_ids`` (default: the allowed companies).
        Writes nothing.

        :return: ``{(month, currency): {"mrr_start": ..., "new": ..., ...,
            "mrr_end": ...}}``, falls positive
        :rtype: dict
        """
        domain = [
            ("month", ">=", date_from.replace(day=1)),
            ("month", "<=", date_to),
            ("company_id", "in", company_ids or self.env.companies.ids),
        ]
        names = ["mrr_start", *(f"{kind}_mrr" for kind in MOVEMENTS), "mrr_end"]
        groups = self._read_group(
            domain, ["month:month", "currency_id"], [f"{n}:sum" for n in names]
        )
        return {
            (month.date() if hasattr(month, "date") else month, currency): {
                name.removesuffix("_mrr"): value
                for name, value in zip(names, values, strict=True)
            }
            for month, currency, *values in groups
        }
