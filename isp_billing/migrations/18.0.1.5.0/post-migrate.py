# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.5.0: MRR movements on the event log (README, "Analytics definitions").

1. The MRR of daily and weekly plans follows the month of 30.437 days (it used
   365.25 / 12): the subscriptions' *Monthly recurring* is recomputed, and the
   events' *Monthly recurring after* restated in the same ratio.
2. Each existing event gets its customer, its MRR after in the company currency
   and its movement (signed change since the subscription's previous event and
   its type), replayed in the order the events were created, as new events get
   them.
3. A running subscription whose MRR differs from its last event's (add-ons
   changed before add-on changes were logged) gets a *Recurring lines changed*
   event today, so the movements add up to today's MRR.
"""

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api

from odoo.addons.isp_billing.models.isp_subscription_event import movement_type

OLD_MONTHS_PER_UNIT = {"day": 12 / 365.25, "week": 12 / 52.1775}
NEW_MONTHS_PER_UNIT = {"day": 1 / 30.437, "week": 7 / 30.437}


def _restate_short_periods(env):
    cr = env.cr
    Sub = env["isp.subscription"]
    subs = Sub.search([("plan_id.isp_period_unit", "in", ("day", "week"))])
    env.add_to_compute(Sub._fields["recurring_total"], subs)
    env.add_to_compute(Sub._fields["recurring_monthly"], subs)
    subs.flush_recordset()
    for unit, old in OLD_MONTHS_PER_UNIT.items():
        cr.execute(
            """
            UPDATE isp_subscription_event e
               SET recurring_monthly = round(
                       (e.recurring_monthly * %s / %s)::numeric, c.decimal_places)
              FROM product_product pp, product_template pt, res_currency c
             WHERE pp.id = e.new_plan_id AND pt.id = pp.product_tmpl_id
               AND pt.isp_period_unit = %s AND c.id = e.currency_id
               AND e.recurring_monthly != 0
            """,
            [old, NEW_MONTHS_PER_UNIT[unit], unit],
        )
    # the last event of a subscription still on that plan: today's exact figure
    cr.execute(
        """
        UPDATE isp_subscription_event e
           SET recurring_monthly = s.recurring_monthly
          FROM isp_subscription s
         WHERE e.id = (SELECT max(id) FROM isp_subscription_event
                        WHERE subscription_id = s.id)
           AND s.state IN ('active', 'suspended') AND e.new_plan_id = s.plan_id
           AND abs(e.recurring_monthly - s.recurring_monthly) <= 0.05
        """
    )


def _replay_movements(env):
    cr = env.cr
    cr.execute(
        """
        UPDATE isp_subscription_event e
           SET customer_id = COALESCE(p.commercial_partner_id, p.id)
          FROM res_partner p
         WHERE p.id = e.partner_id AND e.customer_id IS NULL
        """
    )
    cr.execute(
        """
        SELECT e.id, e.subscription_id, e.customer_id, e.company_id, e.currency_id,
               e.event_date, e.recurring_monthly, e.event_type
          FROM isp_subscription_event e
      ORDER BY e.id
        """
    )
    rows = cr.fetchall()
    Currency = env["res.currency"]
    Company = env["res.company"]
    previous = {}  # subscription -> (currency, MRR, MRR in company currency)
    live = {}  # (customer, company) -> {subscription: MRR}
    seen = set()  # (customer, company) that had MRR
    updates = []
    for row in rows:
        event_id, sub_id, customer, company_id, currency_id, day, after, etype = row
        currency = Currency.browse(currency_id)
        company = Company.browse(company_id)
        last_currency, before, before_company = previous.get(
            sub_id, (currency_id, 0.0, 0.0)
        )
        if last_currency != currency_id:
            before = before_company = 0.0  # the transfer in of a currency change
        change = currency.round(after - before)
        key = (customer, company_id)
        others = any(mrr for other, mrr in live.get(key, {}).items() if other != sub_id)
        if currency.is_zero(change):
            kind, after_company, change_company = None, before_company, 0.0
        else:
            kind = movement_type(change, others, before, after, key in seen)
            if etype == "currency_change":
                kind = "transfer_in" if change > 0 else "transfer_out"
            after_company = currency._convert(after, company.currency_id, company, day)
            change_company = company.currency_id.round(after_company - before_company)
        if change > 0:
            seen.add(key)
        previous[sub_id] = (currency_id, after, after_company)
        live.setdefault(key, {})[sub_id] = after
        updates.append((event_id, kind, change, change_company, after_company))
    for start in range(0, len(updates), 10000):
        execute_values(
            cr,
            """
            UPDATE isp_subscription_event e
               SET mrr_movement = v.kind, mrr_change = v.change,
                   mrr_change_company = v.change_company,
                   recurring_monthly_company = v.after_company
              FROM (VALUES %s) AS v(id, kind, change, change_company, after_company)
             WHERE e.id = v.id
            """,
            updates[start : start + 10000],
            template="(%s, %s::varchar, %s::numeric, %s::numeric, %s::numeric)",
        )


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    _restate_short_periods(env)
    _replay_movements(env)
    env.invalidate_all()
    env["isp.subscription"].search(
        [("state", "in", ("active", "suspended"))]
    )._log_mrr_change()
