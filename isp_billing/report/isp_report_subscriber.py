# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools

# Ratio measures: (numerator, denominator, factor), computed on the sums of the
# group (README, "Analytics definitions"); 0 when the denominator is 0.
RATIOS = {
    "arpu": ("mrr_end", "subscriber_end", 1),
    "logo_churn_rate": ("churned", "subscriber_start", 100),
    "revenue_churn_rate": ("lost_mrr", "mrr_start", 100),
    "net_revenue_retention": ("retained_mrr", "mrr_year_ago", 100),
    "gross_revenue_retention": ("retained_mrr_capped", "mrr_year_ago", 100),
    "cohort_retention": ("subscriber_end", "cohort_customers", 100),
    "cohort_revenue_retention": ("mrr_end", "cohort_mrr", 100),
}


class IspReportSubscriber(models.Model):
    """Subscribers by month (README, "Analytics definitions"): one row per
    customer (commercial entity), company and month from the customer's first
    MRR to the current month, in the company's currency. Active subscribers,
    ARPU, logo and revenue churn rates, 12-month net and gross revenue
    retention, cohort retention by first-activation month and LTV (an
    estimate) are measures of the pivot, computed on the sums of each group
    (:data:`RATIOS`, :meth:`_compute_ratios`)."""

    _name = "isp.report.subscriber"
    _description = "ISP subscribers, churn and retention by month"
    _auto = False
    _order = "month desc, customer_id"
    # flushed before the view is read
    _depends = {
        "isp.subscription.event": [
            "company_id",
            "customer_id",
            "event_date",
            "mrr_movement",
            "mrr_change_company",
        ],
    }

    month = fields.Date(readonly=True, help="First day of the month.")
    company_id = fields.Many2one("res.company", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one(
        "res.currency", string="Company currency", readonly=True
    )
    cohort_month = fields.Date(
        string="Cohort", readonly=True, help="Month of the customer's first MRR."
    )
    cohort_age = fields.Integer(
        string="Months since first activation", readonly=True, aggregator=None
    )
    subscriber_start = fields.Integer(
        string="Subscribers at start", readonly=True, help="1 with MRR at start."
    )
    subscriber_end = fields.Integer(
        string="Active subscribers", readonly=True, help="1 with MRR at month end."
    )
    new_customers = fields.Integer(string="New subscribers", readonly=True)
    reactivated = fields.Integer(string="Returning subscribers", readonly=True)
    churned = fields.Integer(
        string="Subscribers lost", readonly=True, help="1 with a churn in the month."
    )
    cohort_customers = fields.Integer(string="Cohort size", readonly=True)
    mrr_start = fields.Monetary(string="MRR at start", readonly=True)
    mrr_end = fields.Monetary(string="MRR at end", readonly=True)
    lost_mrr = fields.Monetary(
        string="MRR lost", readonly=True, help="Churn and contraction of the month."
    )
    mrr_year_ago = fields.Monetary(
        string="MRR 12 months before",
        readonly=True,
        help="MRR at the end of the same month a year before.",
    )
    retained_mrr = fields.Monetary(
        string="MRR kept from 12 months before",
        readonly=True,
        help="MRR at end of a customer who had MRR 12 months before.",
    )
    retained_mrr_capped = fields.Monetary(
        string="MRR kept, without expansion",
        readonly=True,
        help="The same, at most the MRR 12 months before.",
    )
    cohort_mrr = fields.Monetary(
        string="Cohort MRR", readonly=True, help="MRR at the end of the cohort month."
    )
    arpu = fields.Monetary(string="ARPU", readonly=True, aggregator="avg")
    logo_churn_rate = fields.Float(
        string="Logo churn (%)", readonly=True, aggregator="avg"
    )
    revenue_churn_rate = fields.Float(
        string="Revenue churn (%)", readonly=True, aggregator="avg"
    )
    net_revenue_retention = fields.Float(
        string="Net revenue retention (%)", readonly=True, aggregator="avg"
    )
    gross_revenue_retention = fields.Float(
        string="Gross revenue retention (%)", readonly=True, aggregator="avg"
    )
    cohort_retention = fields.Float(
        string="Cohort retention (%)", readonly=True, aggregator="avg"
    )
    cohort_revenue_retention = fields.Float(
        string="Cohort revenue retention (%)", readonly=True, aggregator="avg"
    )
    ltv = fields.Monetary(
        string="LTV (estimate)",
        readonly=True,
        aggregator="avg",
        help="ARPU / monthly logo churn; 0 without churn.",
    )

    def _query(self):
        return """
            WITH mv AS (
                SELECT e.company_id, e.customer_id,
                       date_trunc('month', e.event_date)::date AS month,
                       sum(e.mrr_change_company) AS net,
                       COALESCE(sum(-e.mrr_change_company) FILTER (
                           WHERE e.mrr_movement IN ('churn', 'contraction')), 0)
                           AS lost,
                       bool_or(e.mrr_movement = 'churn') AS churned,
                       bool_or(e.mrr_movement = 'new') AS is_new,
                       bool_or(e.mrr_movement = 'reactivation') AS reactivated
                  FROM isp_subscription_event e
                 WHERE e.mrr_movement IS NOT NULL
              GROUP BY 1, 2, 3
            ),
            span AS (
                -- to the current month, or the last month of the log if later
                SELECT company_id, customer_id, min(month) AS first_month,
                       (SELECT greatest(date_trunc('month', now())::date,
                                        max(month)) FROM mv) AS last_month
                  FROM mv
              GROUP BY 1, 2
            ),
            ledger AS (
                SELECT s.company_id, s.customer_id, s.first_month, m::date AS month,
                       COALESCE(mv.net, 0) AS net, COALESCE(mv.lost, 0) AS lost,
                       COALESCE(mv.churned, false) AS churned,
                       COALESCE(mv.is_new, false) AS is_new,
                       COALESCE(mv.reactivated, false) AS reactivated,
                       sum(COALESCE(mv.net, 0)) OVER customer_months AS mrr_end
                  FROM span s
            CROSS JOIN generate_series(s.first_month, s.last_month, '1 month') m
             LEFT JOIN mv ON mv.company_id = s.company_id
                         AND mv.customer_id = s.customer_id AND mv.month = m::date
                WINDOW customer_months AS (
                    PARTITION BY s.company_id, s.customer_id ORDER BY m)
            ),
            measures AS (
                SELECT l.*, l.mrr_end - l.net AS mrr_start,
                       COALESCE(lag(l.mrr_end, 12) OVER customer_months, 0)
                           AS mrr_year_ago,
                       first_value(l.mrr_end) OVER customer_months AS cohort_mrr
                  FROM ledger l
                WINDOW customer_months AS (
                    PARTITION BY l.company_id, l.customer_id ORDER BY l.month)
            )
            SELECT row_number() OVER (ORDER BY m.month, m.company_id, m.customer_id)
                       AS id,
                   m.month, m.company_id, m.customer_id,
                   company.currency_id,
                   m.first_month AS cohort_month,
                   ((extract(year FROM m.month) - extract(year FROM m.first_month))
                       * 12 + extract(month FROM m.month)
                       - extract(month FROM m.first_month))::int AS cohort_age,
                   (m.mrr_start > 0)::int AS subscriber_start,
                   (m.mrr_end > 0)::int AS subscriber_end,
                   m.is_new::int AS new_customers,
                   m.reactivated::int AS reactivated,
                   m.churned::int AS churned,
                   1 AS cohort_customers,
                   m.mrr_start, m.mrr_end, m.lost AS lost_mrr, m.mrr_year_ago,
                   CASE WHEN m.mrr_year_ago > 0 THEN m.mrr_end ELSE 0 END
                       AS retained_mrr,
                   CASE WHEN m.mrr_year_ago > 0
                        THEN least(m.mrr_end, m.mrr_year_ago) ELSE 0 END
                       AS retained_mrr_capped,
                   m.cohort_mrr,
                   CASE WHEN m.mrr_end > 0 THEN m.mrr_end ELSE 0 END AS arpu,
                   CASE WHEN m.mrr_start > 0 THEN m.churned::int * 100 ELSE 0 END
                       AS logo_churn_rate,
                   CASE WHEN m.mrr_start > 0 THEN m.lost * 100 / m.mrr_start ELSE 0
                       END AS revenue_churn_rate,
                   CASE WHEN m.mrr_year_ago > 0
                        THEN m.mrr_end * 100 / m.mrr_year_ago ELSE 0 END
                       AS net_revenue_retention,
                   CASE WHEN m.mrr_year_ago > 0
                        THEN least(m.mrr_end, m.mrr_year_ago) * 100 / m.mrr_year_ago
                        ELSE 0 END AS gross_revenue_retention,
                   (m.mrr_end > 0)::int * 100 AS cohort_retention,
                   CASE WHEN m.cohort_mrr > 0 THEN m.mrr_end * 100 / m.cohort_mrr
                        ELSE 0 END AS cohort_revenue_retention,
                   0 AS ltv
              FROM measures m
              JOIN res_company company ON company.id = m.company_id
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS ({self._query()})"
        )

    @api.model
    def _compute_ratios(self, sums):
        """The ratio measures of a group from its sums (``{field: sum}``). Writes
        nothing.

        :rtype: dict
        """
        ratios = {}
        for name, (numerator, denominator, factor) in RATIOS.items():
            den = sums.get(denominator) or 0
            ratios[name] = (sums.get(numerator) or 0) * factor / den if den else 0.0
        churn = ratios["logo_churn_rate"] / 100
        ratios["ltv"] = ratios["arpu"] / churn if churn else 0.0
        return ratios

    @api.model
    def _components(self, ratios=None):
        """The sums the ratio measures ``ratios`` (default: all) are computed
        from: a read asks for these only (the 12-month and cohort sums cost
        window functions over every customer and month)."""
        wanted = set(RATIOS) if ratios is None else set(ratios)
        if "ltv" in wanted:
            wanted |= {"arpu", "logo_churn_rate"}
        names = {n for name in wanted & set(RATIOS) for n in RATIOS[name][:2]}
        if ratios is None:
            names |= {"churned", "subscriber_start"}
        return sorted(names)

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        """The ratio measures of each group from the sums of its rows (an
        average of per-row ratios would mean nothing)."""
        ratio_names = set(RATIOS) | {"ltv"}
        wanted = [f for f in fields if f.split(":")[0] in ratio_names]
        if not wanted:
            return super().read_group(
                domain, fields, groupby, offset, limit, orderby, lazy
            )
        components = self._components({f.split(":")[0] for f in wanted})
        others = [
            f
            for f in fields
            if f.split(":")[0] not in ratio_names and f.split(":")[0] not in components
        ]
        result = super().read_group(
            domain,
            others + [f"{name}:sum" for name in components],
            groupby,
            offset,
            limit,
            orderby,
            lazy,
        )
        for group in result:
            ratios = self._compute_ratios({n: group.get(n) for n in components})
            for field in wanted:
                name = field.split(":")[0]
                group[name] = ratios[name]
        return result

    @api.model
    def _compute_metrics(self, date_from, date_to, company_ids=None, groupby=()):
        """Subscribers and their ratios per month of ``[date_from, date_to]``
        (and ``groupby`` fields), of ``company_ids`` (default: the allowed
        companies). Writes nothing.

        :return: ``{(month, *groupby values): {measure: value}}`` with the
            sums (``subscriber_end``, ``mrr_end``, ``churned``, ...) and the
            ratios (``arpu``, ``logo_churn_rate``, ..., ``ltv``)
        :rtype: dict
        """
        domain = [
            ("month", ">=", date_from.replace(day=1)),
            ("month", "<=", date_to),
            ("company_id", "in", company_ids or self.env.companies.ids),
        ]
        names = sorted(set(self._components()) | {"new_customers", "reactivated"})
        result = {}
        for month, *rest in self._read_group(
            domain, ["month:month", *groupby], [f"{n}:sum" for n in names]
        ):
            keys, values = rest[: len(groupby)], rest[len(groupby) :]
            sums = dict(zip(names, values, strict=True))
            result[(month, *keys)] = dict(sums, **self._compute_ratios(sums))
        return result
