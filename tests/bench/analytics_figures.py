"""The analytics figures of isp_billing, each twice: the product's own
computation (the call the UI makes) and a hand-written SQL aggregate of the
same figure on the raw tables, normalised to the same shape so that the
benchmark checks they are equal (``tests/bench/analytics_run.py``,
``tests/test_analytics_bench.py``).

A figure is ``Figure(name, group, product, sql)``: ``product(ctx)`` runs as
the ISP manager (``ctx.env``: the bench company allowed), ``sql(ctx)`` on
``ctx.cr``; both return plain values (dicts of rounded numbers)."""

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

DAYS_TO_PAY_SQL = """
    CASE WHEN date_paid IS NULL THEN 'unpaid'
         WHEN date_paid - invoice_date <= 7 THEN '0_7'
         WHEN date_paid - invoice_date <= 15 THEN '8_15'
         WHEN date_paid - invoice_date <= 30 THEN '16_30'
         WHEN date_paid - invoice_date <= 60 THEN '31_60'
         ELSE 'over_60' END
"""
AGING_KEYS = ("current", "1_30", "31_60", "61_90", "over_90")


def money(value):
    return round(float(value or 0.0), 2)


def ratio(value):
    return round(float(value or 0.0), 4)


@dataclass
class Context:
    env: object  # the ISP manager's environment, bench company allowed
    cr: object  # a cursor for the hand-written SQL
    company_id: int
    today: date
    cache: dict = field(default_factory=dict)

    @property
    def month(self):
        return self.today.replace(day=1)

    @property
    def first_month(self):
        """The first of the 12 months shown (dashboard chart, reports)."""
        return self.month - relativedelta(months=11)

    @property
    def last_month(self):
        return self.month - relativedelta(months=1)

    @property
    def last_month_end(self):
        return self.month - timedelta(days=1)

    def rows(self, query, **params):
        self.cr.execute(query, dict(params, c=self.company_id))
        return self.cr.fetchall()


@dataclass
class Figure:
    name: str
    group: str  # dashboard / report / collections
    product: object
    sql: object


# --- the dashboard ---------------------------------------------------------------


def dashboard(ctx):
    return ctx.env["isp.dashboard"]


def dashboard_filters(ctx):
    return dashboard(ctx)._dashboard_filters({"company_ids": [ctx.company_id]})


def tile_values(tiles):
    """``{key: [value, amount]}`` of dashboard tiles (no amount: 0)."""
    return {t["key"]: [t["value"], money(t["amount"])] for t in tiles}


def product_base_tiles(ctx):
    """The tiles of the dashboard's base method (subscribers by state,
    overdue invoices, billing exceptions), its extensions left out."""
    from odoo.addons.isp_billing.models.isp_dashboard import (  # noqa: PLC0415
        IspDashboard,
    )

    board = dashboard(ctx)
    return tile_values(IspDashboard._get_dashboard_tiles(board, dashboard_filters(ctx)))


def product_aging_tiles(ctx):
    board = dashboard(ctx)
    return tile_values(board._dashboard_aging_tiles(dashboard_filters(ctx)))


def product_revenue_tiles(ctx):
    board = dashboard(ctx)
    return tile_values(board._dashboard_revenue_tiles(dashboard_filters(ctx)))


def sql_base_tiles(ctx):
    [(active, suspended, throttled, exceptions)] = ctx.rows(
        """
        SELECT count(*) FILTER (WHERE state = 'active'),
               count(*) FILTER (WHERE state = 'suspended'),
               count(*) FILTER (WHERE state = 'active' AND throttled),
               count(*) FILTER (WHERE billing_exception)
          FROM isp_subscription WHERE company_id = %(c)s
        """
    )
    overdue = sql_overdue(ctx)
    return {
        "active": [active, 0.0],
        "suspended": [suspended, 0.0],
        "throttled": [throttled, 0.0],
        "overdue": [overdue["count"], overdue["amount"]],
        "billing_exceptions": [exceptions, 0.0],
    }


def sql_aging_tiles(ctx):
    aging = sql_aging_today(ctx)
    return {f"aging_{key}": list(aging.get(key, (0, 0.0))) for key in AGING_KEYS}


def sql_revenue_tiles(ctx):
    subs, customers, churned, month = sql_mrr_tiles(ctx)
    mrr = month.get("mrr_end_company", 0.0)
    return {
        "mrr": [subs, mrr],
        "arpu": [subs, money(mrr / customers) if customers else 0.0],
        "churn": [churned, month.get("churn_company", 0.0)],
    }


def sql_overdue(ctx):
    [(count, amount)] = ctx.rows(
        """
        SELECT count(*), sum(m.amount_residual_signed)
          FROM account_move m
         WHERE m.company_id = %(c)s AND m.move_type = 'out_invoice'
           AND m.state = 'posted' AND m.payment_state IN ('not_paid', 'partial')
           AND m.invoice_date_due < %(today)s
           AND EXISTS (SELECT 1 FROM account_move_line l
                        WHERE l.move_id = m.id AND l.isp_subscription_id IS NOT NULL)
        """,
        today=ctx.today,
    )
    return {"count": count, "amount": money(amount)}


AGING_SQL = """
    WITH pr AS (
        SELECT debit_move_id AS line_id, sum(debit_amount_currency) AS amount
          FROM account_partial_reconcile
         WHERE max_date <= %(d)s GROUP BY 1
        UNION ALL
        SELECT credit_move_id, -sum(credit_amount_currency)
          FROM account_partial_reconcile
         WHERE max_date <= %(d)s GROUP BY 1
    ),
    items AS (
        SELECT l.id, p.commercial_partner_id AS partner_id, l.currency_id,
               COALESCE(l.date_maturity, l.date) AS due, l.date,
               l.amount_currency - COALESCE(sum(pr.amount), 0) AS residual
          FROM account_move_line l
          JOIN account_account a ON a.id = l.account_id
          JOIN res_partner p ON p.id = l.partner_id
     LEFT JOIN pr ON pr.line_id = l.id
         WHERE a.account_type = 'asset_receivable' AND l.parent_state = 'posted'
           AND l.company_id = %(c)s AND l.date <= %(d)s
      GROUP BY l.id, p.commercial_partner_id
        HAVING l.amount_currency - COALESCE(sum(pr.amount), 0) != 0
    ),
    debts AS (
        SELECT i.*, sum(residual) OVER (PARTITION BY partner_id, currency_id
                                       ORDER BY due, date, id) - residual AS before
          FROM items i WHERE residual > 0
    ),
    credits AS (
        SELECT partner_id, currency_id, -sum(residual) AS credit
          FROM items WHERE residual < 0 GROUP BY 1, 2
    ),
    net AS (
        SELECT d.partner_id, %(d)s::date - d.due AS days,
               d.residual - least(d.residual,
                                  greatest(COALESCE(c.credit, 0) - d.before, 0))
                   AS amount
          FROM debts d LEFT JOIN credits c USING (partner_id, currency_id)
        UNION ALL
        -- what is left of a customer's credits once its debts are paid: a
        -- row when negative
        SELECT partner_id, 0, amount FROM (
            SELECT c.partner_id,
                   COALESCE((SELECT sum(residual) FROM debts d
                              WHERE d.partner_id = c.partner_id
                                AND d.currency_id = c.currency_id), 0) - c.credit
                       AS amount
              FROM credits c
        ) leftover WHERE amount < 0
    ),
    aging AS (
        SELECT partner_id, amount,
               CASE WHEN days <= 0 THEN 'current' WHEN days <= 30 THEN '1_30'
                    WHEN days <= 60 THEN '31_60' WHEN days <= 90 THEN '61_90'
                    ELSE 'over_90' END AS bucket
          FROM net WHERE amount != 0
    )
"""


def aging_sql(date_at):
    """The hand-written aging rows as of ``%(d)s``: a CTE ``aging``
    (partner_id, bucket, amount) to select from."""
    return AGING_SQL


def sql_aging_today(ctx):
    """``{bucket: (rows, amount)}`` of the aging as of today (once per
    context: the whole dashboard reads it once)."""
    if "aging_today" not in ctx.cache:
        rows = ctx.rows(
            aging_sql(ctx.today)
            + "SELECT bucket, count(*), sum(amount) FROM aging GROUP BY 1",
            d=ctx.today,
        )
        ctx.cache["aging_today"] = {b: (n, money(a)) for b, n, a in rows}
    return ctx.cache["aging_today"]


def sql_aging_bucket(key):
    def sql(ctx):
        count, amount = sql_aging_today(ctx).get(key, (0, 0.0))
        return {"count": count, "amount": amount}

    return sql


MRR_BY_MONTH_SQL = """
    WITH mv AS (
        SELECT date_trunc('month', event_date)::date AS month,
               sum(mrr_change) AS net, sum(mrr_change_company) AS net_company,
               {movements}
          FROM isp_subscription_event
         WHERE company_id = %(c)s
      GROUP BY 1
    ),
    months AS (
        SELECT g::date AS month
          FROM generate_series((SELECT min(month) FROM mv), %(last)s::date,
                               '1 month') g
    ),
    ledger AS (
        SELECT m.month, COALESCE(mv.net, 0) AS net,
               sum(COALESCE(mv.net, 0)) OVER (ORDER BY m.month) AS mrr_end,
               sum(COALESCE(mv.net_company, 0)) OVER (ORDER BY m.month)
                   AS mrr_end_company,
               {ledger}
          FROM months m LEFT JOIN mv USING (month)
    )
    SELECT month, mrr_end - net AS mrr_start, {names}, mrr_end, mrr_end_company
      FROM ledger WHERE month >= %(first)s ORDER BY month
"""
MOVEMENTS = (
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "transfer_in",
    "transfer_out",
)
FALLS = ("contraction", "churn", "transfer_out")


def mrr_by_month(ctx, first, last):
    """``{month: {"mrr_start", <movement>, "mrr_end", "mrr_end_company",
    "<movement>_company"}}`` from the event log (falls positive)."""
    movements = ",\n".join(
        f"COALESCE(sum({'-' if k in FALLS else ''}mrr_change) FILTER ("
        f"WHERE mrr_movement = '{k}'), 0) AS {k}, "
        f"COALESCE(sum({'-' if k in FALLS else ''}mrr_change_company) FILTER ("
        f"WHERE mrr_movement = '{k}'), 0) AS {k}_company"
        for k in MOVEMENTS
    )
    ledger = ", ".join(
        f"COALESCE(mv.{k}, 0) AS {k}, COALESCE(mv.{k}_company, 0) AS {k}_company"
        for k in MOVEMENTS
    )
    names = ", ".join(f"{k}, {k}_company" for k in MOVEMENTS)
    query = MRR_BY_MONTH_SQL.format(movements=movements, ledger=ledger, names=names)
    ctx.cr.execute(query, {"c": ctx.company_id, "first": first, "last": last})
    columns = [d[0] for d in ctx.cr.description]
    return {
        row[0]: {
            name: money(value)
            for name, value in zip(columns[1:], row[1:], strict=False)
        }
        for row in ctx.cr.fetchall()
    }


def sql_mrr_tiles(ctx):
    if "mrr_tiles" not in ctx.cache:
        ctx.cache["mrr_tiles"] = _sql_mrr_tiles(ctx)
    return ctx.cache["mrr_tiles"]


def _sql_mrr_tiles(ctx):
    month = mrr_by_month(ctx, ctx.month, ctx.month).get(ctx.month, {})
    [(subs, customers, churned)] = ctx.rows(
        """
        WITH s AS (
            SELECT subscription_id, customer_id, sum(mrr_change_company) AS mrr,
                   bool_or(mrr_movement = 'churn' AND event_date >= %(month)s)
                       AS churned
              FROM isp_subscription_event
             WHERE company_id = %(c)s AND event_date < %(next)s
          GROUP BY 1, 2
        )
        SELECT count(*) FILTER (WHERE mrr != 0),
               count(DISTINCT customer_id) FILTER (WHERE mrr != 0),
               count(*) FILTER (WHERE churned)
          FROM s
        """,
        month=ctx.month,
        next=ctx.month + relativedelta(months=1),
    )
    return subs, customers, churned, month


CHART_SERIES = (
    ("new_company", 1),
    ("expansion_company", 1),
    ("reactivation_company", 1),
    ("contraction_company", -1),
    ("churn_company", -1),
)


def product_chart(ctx):
    chart = dashboard(ctx)._dashboard_mrr_chart(dashboard_filters(ctx))
    return [[money(v) for v in dataset["data"]] for dataset in chart["datasets"]]


def sql_chart(ctx):
    rows = mrr_by_month(ctx, ctx.first_month, ctx.month)
    months = [ctx.first_month + relativedelta(months=n) for n in range(12)]
    series = [
        [money(sign * rows.get(m, {}).get(key, 0.0)) for m in months]
        for key, sign in CHART_SERIES
    ]
    transfers = [
        money(
            rows.get(m, {}).get("transfer_in_company", 0.0)
            - rows.get(m, {}).get("transfer_out_company", 0.0)
        )
        for m in months
    ]
    if any(transfers):
        series.append(transfers)
    series.append([rows.get(m, {}).get("mrr_end_company", 0.0) for m in months])
    return series


def product_dashboard(ctx):
    """The whole dashboard, as the client action calls it: every tile's
    figure and the chart."""
    data = dashboard(ctx).get_dashboard_data({"company_ids": [ctx.company_id]})
    return {
        # the tiles of isp_billing (isp_mpesa's and isp_radius's are left out)
        "tiles": {
            t["key"]: [t["value"], money(t["amount"])]
            for t in data["tiles"]
            if t["key"] in DASHBOARD_TILE_KEYS
        },
        "chart": [[money(v) for v in d["data"]] for d in data["chart"]["datasets"]],
    }


def sql_dashboard(ctx):
    tiles = {**sql_base_tiles(ctx), **sql_aging_tiles(ctx), **sql_revenue_tiles(ctx)}
    return {"tiles": tiles, "chart": sql_chart(ctx)}


# --- the reports (what their pivot views ask) --------------------------------------


def pivot_month(group, field):
    return group["__range"][f"{field}:month"]["from"]


MRR_MEASURES = (
    "mrr_start",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churn_mrr",
    "transfer_in_mrr",
    "transfer_out_mrr",
    "mrr_end",
)


def product_report_mrr(ctx):
    groups = ctx.env["isp.report.mrr"].read_group(
        [("month", ">=", ctx.first_month.isoformat())],
        [f"{m}:sum" for m in MRR_MEASURES],
        ["month:month", "currency_id"],
        lazy=False,
    )
    return {
        pivot_month(g, "month"): {m: money(g[m]) for m in MRR_MEASURES} for g in groups
    }


def sql_report_mrr(ctx):
    rows = mrr_by_month(ctx, ctx.first_month, ctx.month)
    result = {}
    for month, row in rows.items():
        values = {m: row[m.removesuffix("_mrr")] for m in MRR_MEASURES}
        if any(values.values()):
            result[month.isoformat()] = values
    return result


SUBSCRIBER_FIELDS = (
    "subscriber_end",
    "mrr_end",
    "arpu",
    "logo_churn_rate",
    "revenue_churn_rate",
    "net_revenue_retention",
    "gross_revenue_retention",
    "ltv",
)

CUSTOMER_LEDGER_SQL = """
    WITH cm AS (
        SELECT customer_id, date_trunc('month', event_date)::date AS month,
               sum(mrr_change_company) AS net,
               COALESCE(-sum(mrr_change_company) FILTER (
                   WHERE mrr_movement IN ('churn', 'contraction')), 0) AS lost,
               bool_or(mrr_movement = 'churn') AS churned
          FROM isp_subscription_event
         WHERE company_id = %(c)s AND mrr_movement IS NOT NULL
      GROUP BY 1, 2
    ),
    span AS (SELECT customer_id, min(month) AS first FROM cm GROUP BY 1),
    grid AS (
        SELECT s.customer_id, s.first, g::date AS month
          FROM span s, generate_series(s.first, %(last)s::date, '1 month') g
    ),
    ledger AS (
        SELECT g.customer_id, g.first, g.month, COALESCE(cm.net, 0) AS net,
               COALESCE(cm.lost, 0) AS lost, COALESCE(cm.churned, false) AS churned,
               sum(COALESCE(cm.net, 0)) OVER (PARTITION BY g.customer_id
                                              ORDER BY g.month) AS mrr_end
          FROM grid g LEFT JOIN cm USING (customer_id, month)
    ),
    customer_months AS (
        SELECT l.*, l.mrr_end - l.net AS mrr_start,
               COALESCE(lag(l.mrr_end, 12) OVER (PARTITION BY l.customer_id
                                                 ORDER BY l.month), 0)
                   AS year_ago
          FROM ledger l
    )
"""


def sql_report_subscriber(ctx):
    rows = ctx.rows(
        CUSTOMER_LEDGER_SQL
        + """
        SELECT month, count(*) FILTER (WHERE mrr_end > 0),
               count(*) FILTER (WHERE mrr_start > 0), sum(mrr_end), sum(mrr_start),
               count(*) FILTER (WHERE churned), sum(lost), sum(year_ago),
               COALESCE(sum(mrr_end) FILTER (WHERE year_ago > 0), 0),
               COALESCE(sum(least(mrr_end, year_ago)) FILTER (WHERE year_ago > 0), 0)
          FROM customer_months WHERE month >= %(first)s
      GROUP BY month
        """,
        first=ctx.first_month,
        last=ctx.month,
    )
    result = {}
    for month, end, start, mrr_end, mrr_start, churned, lost, ago, kept, capped in rows:
        mrr_end, mrr_start = float(mrr_end), float(mrr_start)
        arpu = mrr_end / end if end else 0.0
        logo = churned * 100 / start if start else 0.0
        result[month.isoformat()] = {
            "subscriber_end": end,
            "mrr_end": money(mrr_end),
            "arpu": ratio(arpu),
            "logo_churn_rate": ratio(logo),
            "revenue_churn_rate": ratio(float(lost) * 100 / mrr_start)
            if mrr_start
            else 0.0,
            "net_revenue_retention": ratio(float(kept) * 100 / float(ago))
            if ago
            else 0.0,
            "gross_revenue_retention": ratio(float(capped) * 100 / float(ago))
            if ago
            else 0.0,
            "ltv": ratio(arpu / (logo / 100)) if logo else 0.0,
        }
    return result


def product_report_subscriber(ctx):
    groups = ctx.env["isp.report.subscriber"].read_group(
        [("month", ">=", ctx.first_month.isoformat())],
        [
            f"{f}:sum" if f in ("subscriber_end", "mrr_end") else f"{f}:avg"
            for f in SUBSCRIBER_FIELDS
        ],
        ["month:month"],
        lazy=False,
    )
    return {
        pivot_month(g, "month"): {
            f: (
                g[f]
                if f == "subscriber_end"
                else money(g[f])
                if f == "mrr_end"
                else ratio(g[f])
            )
            for f in SUBSCRIBER_FIELDS
        }
        for g in groups
    }


def sql_report_cohort(ctx):
    rows = ctx.rows(
        CUSTOMER_LEDGER_SQL
        + """
        SELECT first,
               ((extract(year FROM month) - extract(year FROM first)) * 12
                + extract(month FROM month) - extract(month FROM first))::int,
               count(*), count(*) FILTER (WHERE mrr_end > 0)
          FROM customer_months
      GROUP BY 1, 2
        """,
        last=ctx.month,
    )
    return {
        f"{cohort.isoformat()}+{age}": ratio(kept * 100 / size)
        for cohort, age, size, kept in rows
    }


def product_report_cohort(ctx):
    groups = ctx.env["isp.report.subscriber"].read_group(
        [],
        ["cohort_retention:avg"],
        ["cohort_month:month", "cohort_age"],
        lazy=False,
    )
    return {
        f"{pivot_month(g, 'cohort_month')}+{g['cohort_age']}": ratio(
            g["cohort_retention"]
        )
        for g in groups
    }


AGING_MEASURES = ("amount_residual", *(f"amount_{k}" for k in AGING_KEYS))


def product_report_aging(ctx):
    """The aging pivot as of the end of last month: per customer."""
    Line = ctx.env["isp.report.aging.line"].with_context(
        isp_aging_date=ctx.last_month_end.isoformat()
    )
    groups = Line.read_group(
        [], [f"{m}:sum" for m in AGING_MEASURES], ["partner_id"], lazy=False
    )
    return {
        g["partner_id"][0]: {m: money(g[m]) for m in AGING_MEASURES} for g in groups
    }


def sql_report_aging(ctx):
    buckets = ", ".join(
        f"sum(amount) FILTER (WHERE bucket = '{k}') AS amount_{k}" for k in AGING_KEYS
    )
    ctx.cr.execute(
        aging_sql(ctx.last_month_end)
        + f"SELECT partner_id, sum(amount), {buckets} FROM aging GROUP BY 1",
        {"c": ctx.company_id, "d": ctx.last_month_end},
    )
    return {
        row[0]: {m: money(v) for m, v in zip(AGING_MEASURES, row[1:], strict=True)}
        for row in ctx.cr.fetchall()
    }


INVOICES_SQL = """
    WITH inv AS (
        SELECT m.id, m.invoice_date, m.invoice_date_due, m.amount_total,
               m.payment_state IN ('paid', 'in_payment') AS settled
          FROM account_move m
         WHERE m.company_id = %(c)s AND m.move_type = 'out_invoice'
           AND m.state = 'posted' AND m.payment_state != 'reversed'
           AND m.amount_total != 0
    ),
    paid AS (
        SELECT l.move_id, max(apr.max_date) AS date_paid
          FROM account_move_line l
          JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
         WHERE l.company_id = %(c)s
      GROUP BY 1
    ),
    invoices AS (
        SELECT inv.*, CASE WHEN inv.settled THEN paid.date_paid END AS date_paid
          FROM inv LEFT JOIN paid ON paid.move_id = inv.id
    )
"""


def sql_report_invoices(ctx):
    rows = ctx.rows(
        INVOICES_SQL
        + f"""
        SELECT date_trunc('month', invoice_date_due)::date, {DAYS_TO_PAY_SQL},
               count(*), count(*) FILTER (WHERE date_paid <= invoice_date_due)
          FROM invoices GROUP BY 1, 2
        """
    )
    return {f"{m.isoformat()}/{b}": [n, on_time] for m, b, n, on_time in rows}


def product_report_invoices(ctx):
    groups = ctx.env["isp.report.collections.invoice"].read_group(
        [],
        ["nb_invoices:sum", "nb_paid_on_time:sum"],
        ["date_due:month", "days_to_pay_bucket"],
        lazy=False,
    )
    return {
        f"{pivot_month(g, 'date_due')}/{g['days_to_pay_bucket']}": [
            g["nb_invoices"],
            g["nb_paid_on_time"],
        ]
        for g in groups
    }


def sql_report_payments(ctx):
    rows = ctx.rows(
        """
        SELECT date_trunc('month', p.date)::date,
               CASE WHEN p.payment_transaction_id IS NOT NULL THEN 'card'
                    WHEN j.type = 'bank' THEN 'bank' ELSE 'manual' END,
               sum(p.amount)
          FROM account_payment p JOIN account_journal j ON j.id = p.journal_id
         WHERE p.company_id = %(c)s AND p.payment_type = 'inbound'
           AND p.partner_type = 'customer' AND p.state IN ('in_process', 'paid')
      GROUP BY 1, 2
        """
    )
    return {f"{m.isoformat()}/{ch}": money(a) for m, ch, a in rows}


def product_report_payments(ctx):
    groups = ctx.env["isp.report.collections.payment"].read_group(
        [], ["amount:sum"], ["date:month", "channel"], lazy=False
    )
    return {
        f"{pivot_month(g, 'date')}/{g['channel']}": money(g["amount"]) for g in groups
    }


# --- the collections figures (last month) ------------------------------------------


def collections(ctx):
    return ctx.env["isp.report.collections"]


def product_dso(ctx):
    result = collections(ctx)._prepare_dso(ctx.last_month, ctx.last_month_end)
    return {
        cur: [money(v["receivable"]), money(v["invoiced"]), v["dso"]]
        for cur, v in result.items()
    }


def sql_dso(ctx):
    [(receivable,)] = ctx.rows(
        aging_sql(ctx.last_month_end) + "SELECT sum(amount) FROM aging",
        d=ctx.last_month_end,
    )
    [(currency, invoiced)] = ctx.rows(
        """
        SELECT c.currency_id,
               (SELECT sum(CASE WHEN move_type = 'out_invoice' THEN amount_total
                                ELSE -amount_total END)
                  FROM account_move
                 WHERE company_id = %(c)s AND state = 'posted'
                   AND move_type IN ('out_invoice', 'out_refund')
                   AND date BETWEEN %(a)s AND %(b)s)
          FROM res_company c WHERE c.id = %(c)s
        """,
        a=ctx.last_month,
        b=ctx.last_month_end,
    )
    days = (ctx.last_month_end - ctx.last_month).days + 1
    rec, sales = money(receivable), money(invoiced)
    return {currency: [rec, sales, round(rec / sales * days, 1) if sales > 0 else None]}


def product_paid_on_time(ctx):
    return collections(ctx)._prepare_paid_on_time(ctx.last_month, ctx.last_month_end)


def sql_paid_on_time(ctx):
    [(due, on_time)] = ctx.rows(
        INVOICES_SQL
        + """
        SELECT count(*), count(*) FILTER (WHERE date_paid <= invoice_date_due)
          FROM invoices WHERE invoice_date_due BETWEEN %(a)s AND %(b)s
        """,
        a=ctx.last_month,
        b=ctx.last_month_end,
    )
    return {
        "due": due,
        "on_time": on_time,
        "rate": round(on_time / due, 4) if due else None,
    }


def product_days_to_pay(ctx):
    result = collections(ctx)._prepare_days_to_pay(ctx.last_month, ctx.last_month_end)
    return dict(result, median=float(result["median"] or 0))


def sql_days_to_pay(ctx):
    rows = ctx.rows(
        INVOICES_SQL
        + f"""
        SELECT {DAYS_TO_PAY_SQL}, date_paid - invoice_date
          FROM invoices WHERE date_paid BETWEEN %(a)s AND %(b)s
        """,
        a=ctx.last_month,
        b=ctx.last_month_end,
    )
    buckets = dict.fromkeys(("0_7", "8_15", "16_30", "31_60", "over_60"), 0)
    for bucket, __ in rows:
        buckets[bucket] += 1
    days = [d for __, d in rows]
    return {
        "count": len(rows),
        "buckets": buckets,
        "mean": round(sum(days) / len(days), 1) if days else None,
        "median": float(statistics.median(days)) if days else 0.0,
    }


def product_suspensions(ctx):
    return [
        [row["month"], row["suspensions"], row["reconnections"]]
        for row in collections(ctx)._prepare_suspensions(ctx.first_month, ctx.today)
    ]


def sql_suspensions(ctx):
    rows = ctx.rows(
        """
        SELECT date_trunc('month', event_date)::date,
               count(*) FILTER (WHERE event_type = 'suspension'),
               count(*) FILTER (WHERE event_type = 'reactivation')
          FROM isp_subscription_event
         WHERE company_id = %(c)s AND event_date BETWEEN %(a)s AND %(b)s
           AND event_type IN ('suspension', 'reactivation')
      GROUP BY 1 ORDER BY 1
        """,
        a=ctx.first_month,
        b=ctx.today,
    )
    return [list(row) for row in rows]


def product_autopay(ctx):
    return collections(ctx)._prepare_autopay(ctx.first_month, ctx.today)


def sql_autopay(ctx):
    [(attempts, done)] = ctx.rows(
        """
        SELECT count(*), count(*) FILTER (WHERE state = 'done')
          FROM isp_autopay_attempt
         WHERE company_id = %(c)s AND state IN ('done', 'failed')
           AND scheduled_date BETWEEN %(a)s AND %(b)s
        """,
        a=ctx.first_month,
        b=ctx.today,
    )
    return {
        "attempts": attempts,
        "done": done,
        "rate": round(done / attempts, 4) if attempts else None,
    }


def product_promises(ctx):
    return collections(ctx)._prepare_promise_kept(
        ctx.first_month, ctx.today, date_at=ctx.today
    )


def sql_promises(ctx):
    rows = ctx.rows(
        INVOICES_SQL
        + """
        , covered AS (
            SELECT e.id, i.date_paid, e.promise_until
              FROM isp_subscription_event e
              JOIN (SELECT DISTINCT move_id, isp_subscription_id
                      FROM account_move_line
                     WHERE company_id = %(c)s AND isp_subscription_id IS NOT NULL) l
                ON l.isp_subscription_id = e.subscription_id
              JOIN invoices i ON i.id = l.move_id
             WHERE e.company_id = %(c)s AND e.event_type = 'promise'
               AND e.event_date BETWEEN %(a)s AND %(b)s
               AND e.promise_until < %(b)s
               AND i.invoice_date <= e.event_date
               AND i.invoice_date_due <= e.promise_until
               AND (i.date_paid IS NULL OR i.date_paid >= e.event_date)
        )
        SELECT count(*), count(*) FILTER (WHERE kept)
          FROM (SELECT id, bool_and(date_paid IS NOT NULL
                                    AND date_paid <= promise_until) AS kept
                  FROM covered GROUP BY id) p
        """,
        a=ctx.first_month,
        b=ctx.today,
    )
    [(promises, kept)] = rows
    return {
        "promises": promises,
        "kept": kept,
        "rate": round(kept / promises, 4) if promises else None,
    }


# --- the list ------------------------------------------------------------------------

DASHBOARD_TILE_KEYS = (
    "active",
    "suspended",
    "throttled",
    "overdue",
    "billing_exceptions",
    *(f"aging_{key}" for key in AGING_KEYS),
    "mrr",
    "arpu",
    "churn",
)

FIGURES = [
    Figure(
        "tiles: subscribers by state, overdue, exceptions",
        "dashboard",
        product_base_tiles,
        sql_base_tiles,
    ),
    Figure(
        "tiles: receivables aging (today)",
        "dashboard",
        product_aging_tiles,
        sql_aging_tiles,
    ),
    Figure(
        "tiles: MRR, ARPU, churn this month",
        "dashboard",
        product_revenue_tiles,
        sql_revenue_tiles,
    ),
    Figure("MRR chart (12 months)", "dashboard", product_chart, sql_chart),
    Figure("MRR movements pivot", "report", product_report_mrr, sql_report_mrr),
    Figure(
        "subscribers pivot (ARPU, churn, NRR, GRR, LTV)",
        "report",
        product_report_subscriber,
        sql_report_subscriber,
    ),
    Figure(
        "cohort retention pivot", "report", product_report_cohort, sql_report_cohort
    ),
    Figure(
        "receivables aging pivot (end of last month)",
        "report",
        product_report_aging,
        sql_report_aging,
    ),
    Figure(
        "invoices paid pivot", "report", product_report_invoices, sql_report_invoices
    ),
    Figure(
        "money by channel pivot", "report", product_report_payments, sql_report_payments
    ),
    Figure("DSO (last month)", "collections", product_dso, sql_dso),
    Figure(
        "paid by due date (last month)",
        "collections",
        product_paid_on_time,
        sql_paid_on_time,
    ),
    Figure(
        "days to pay (last month)", "collections", product_days_to_pay, sql_days_to_pay
    ),
    Figure("promise-to-pay kept rate", "collections", product_promises, sql_promises),
    Figure(
        "suspensions and reconnections",
        "collections",
        product_suspensions,
        sql_suspensions,
    ),
    Figure("auto-pay success rate", "collections", product_autopay, sql_autopay),
]
WHOLE_DASHBOARD = Figure(
    "whole dashboard (get_dashboard_data)",
    "dashboard",
    product_dashboard,
    sql_dashboard,
)


def same(a, b, tolerance=0.0051):
    """Equal, numbers to the cent (ratios are rounded to 4 decimals)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= tolerance
    return a == b


def differences(a, b, path="", limit=5):
    """Where ``a`` and ``b`` differ (for the report of a failed check)."""
    found = []
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                found.append(f"{path}/{key}: {a.get(key)!r} != {b.get(key)!r}")
            else:
                found += differences(a[key], b[key], f"{path}/{key}", limit)
            if len(found) >= limit:
                break
    elif (
        isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b)
    ):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found += differences(x, y, f"{path}[{index}]", limit)
    elif not same(a, b):
        found.append(f"{path}: product {a!r} != SQL {b!r}")
    return found[:limit]


def compare(figure, ctx):
    """``(product value, SQL value, equal)``."""
    product = figure.product(ctx)
    sql = figure.sql(ctx)
    return product, sql, same(product, sql)
