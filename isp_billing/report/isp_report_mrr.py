# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools

MOVEMENTS = (
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "transfer_in",
    "transfer_out",
)


class IspReportMrr(models.Model):
    """MRR by month with its movements (README, "Analytics definitions"): one
    row per subscription, currency and month in which the subscription had MRR
    or a movement. Amounts in the subscription's currency and in the company's;
    the falls (contraction, churn, transfer out) are positive, as the identity
    states them: MRR at start + new + expansion + reactivation - contraction -
    churn + transfer in - transfer out = MRR at end.

    The MRR of a month is the sum of the movements dated before it (the event
    log is a ledger: a back-dated event counts in its own month)."""

    _name = "isp.report.mrr"
    _description = "ISP MRR and movements by month"
    _auto = False
    _order = "month desc, subscription_id"
    # flushed before the view is read
    _depends = {
        "isp.subscription.event": [
            "subscription_id",
            "currency_id",
            "event_date",
            "new_plan_id",
            "mrr_movement",
            "mrr_change",
            "mrr_change_company",
        ],
        "isp.subscription": ["company_id", "partner_id"],
        "res.partner": ["commercial_partner_id"],
    }

    month = fields.Date(readonly=True, help="First day of the month.")
    company_id = fields.Many2one("res.company", readonly=True)
    subscription_id = fields.Many2one("isp.subscription", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    plan_id = fields.Many2one(
        "product.product", string="Plan", readonly=True, help="Plan at month end."
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    company_currency_id = fields.Many2one(
        "res.currency", string="Company currency", readonly=True
    )
    mrr_start = fields.Monetary(string="MRR at start", readonly=True)
    new_mrr = fields.Monetary(string="New", readonly=True)
    expansion_mrr = fields.Monetary(string="Expansion", readonly=True)
    contraction_mrr = fields.Monetary(string="Contraction", readonly=True)
    churn_mrr = fields.Monetary(string="Churn", readonly=True)
    reactivation_mrr = fields.Monetary(string="Reactivation", readonly=True)
    transfer_in_mrr = fields.Monetary(string="Transfer in", readonly=True)
    transfer_out_mrr = fields.Monetary(string="Transfer out", readonly=True)
    mrr_end = fields.Monetary(string="MRR at end", readonly=True)
    mrr_start_company = fields.Monetary(
        string="MRR at start (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    new_mrr_company = fields.Monetary(
        string="New (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    expansion_mrr_company = fields.Monetary(
        string="Expansion (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    contraction_mrr_company = fields.Monetary(
        string="Contraction (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    churn_mrr_company = fields.Monetary(
        string="Churn (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    reactivation_mrr_company = fields.Monetary(
        string="Reactivation (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    transfer_in_mrr_company = fields.Monetary(
        string="Transfer in (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    transfer_out_mrr_company = fields.Monetary(
        string="Transfer out (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    mrr_end_company = fields.Monetary(
        string="MRR at end (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )

    def _movement_columns(self, suffix, amount):
        return ",\n".join(
            f"sum({'-' if kind in ('contraction', 'churn', 'transfer_out') else ''}"
            f"{amount}) FILTER (WHERE e.mrr_movement = '{kind}') AS {kind}{suffix}"
            for kind in MOVEMENTS
        )

    def _query(self):
        sums = ",\n".join(
            f"COALESCE(mv.{kind}, 0) AS {kind}_mrr, "
            f"COALESCE(mv.{kind}_company, 0) AS {kind}_mrr_company"
            for kind in MOVEMENTS
        )
        return f"""
            WITH mv AS (
                -- per subscription, currency and month: its movements and the
                -- plan after its last event of the month
                SELECT e.subscription_id, e.currency_id,
                       date_trunc('month', e.event_date)::date AS month,
                       (array_agg(e.new_plan_id ORDER BY e.event_date DESC, e.id DESC)
                           FILTER (WHERE e.new_plan_id IS NOT NULL))[1] AS plan_id,
                       bool_or(e.mrr_movement IS NOT NULL) AS moved,
                       COALESCE(sum(e.mrr_change), 0) AS net,
                       COALESCE(sum(e.mrr_change_company), 0) AS net_company,
                       {self._movement_columns("", "e.mrr_change")},
                       {self._movement_columns("_company", "e.mrr_change_company")}
                  FROM isp_subscription_event e
              GROUP BY 1, 2, 3
            ),
            horizon AS (
                -- the current month, or the last month of the log if later
                SELECT greatest(date_trunc('month', now())::date, max(month))
                           AS last_month
                  FROM mv
            ),
            span AS (
                -- months to show: to the horizon while it has MRR, else to its
                -- last movement
                SELECT subscription_id, currency_id, min(month) AS first_month,
                       CASE WHEN sum(net) = 0 THEN max(month)
                            ELSE (SELECT last_month FROM horizon)
                       END AS last_month
                  FROM mv
                 WHERE moved
              GROUP BY 1, 2
            ),
            ledger AS (
                SELECT s.subscription_id, s.currency_id, m::date AS month,
                       mv.plan_id AS month_plan_id,
                       count(mv.plan_id) OVER sub_months AS plan_group,
                       COALESCE(mv.net, 0) AS net,
                       COALESCE(mv.net_company, 0) AS net_company,
                       sum(COALESCE(mv.net, 0)) OVER sub_months AS mrr_end,
                       sum(COALESCE(mv.net_company, 0)) OVER sub_months
                           AS mrr_end_company,
                       {sums}
                  FROM span s
            CROSS JOIN generate_series(s.first_month, s.last_month, '1 month') m
             LEFT JOIN mv ON mv.subscription_id = s.subscription_id
                         AND mv.currency_id = s.currency_id AND mv.month = m::date
                WINDOW sub_months AS (
                    PARTITION BY s.subscription_id, s.currency_id ORDER BY m)
            )
            SELECT row_number() OVER (ORDER BY l.month, l.subscription_id,
                                      l.currency_id) AS id,
                   l.month, l.subscription_id, l.currency_id,
                   sub.company_id, company.currency_id AS company_currency_id,
                   COALESCE(p.commercial_partner_id, p.id) AS customer_id,
                   max(l.month_plan_id) OVER (
                       PARTITION BY l.subscription_id, l.currency_id, l.plan_group
                   ) AS plan_id,
                   l.mrr_end - l.net AS mrr_start, l.mrr_end,
                   l.mrr_end_company - l.net_company AS mrr_start_company,
                   l.mrr_end_company,
                   {", ".join(f"l.{k}_mrr, l.{k}_mrr_company" for k in MOVEMENTS)}
              FROM ledger l
              JOIN isp_subscription sub ON sub.id = l.subscription_id
              JOIN res_company company ON company.id = sub.company_id
              JOIN res_partner p ON p.id = sub.partner_id
        """

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS ({self._query()})"
        )

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
