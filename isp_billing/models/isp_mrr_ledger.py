# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The stored MRR ledger the MRR report reads (README, "Where the MRR figures
come from").

One row per subscription, currency and month, from the subscription's first
MRR movement in that currency to its last event (or to its last movement when
its MRR ended at zero): the month's movements by type, the plan at the month's
end and the MRR at the month's end, in the subscription's currency and the
company's. The months after a subscription's last row, up to the report's
horizon, carry that row's MRR and plan with no movement: the MRR report adds
them when it is read (the ``tail`` row), so a new month needs no write.

The ledger is derived from the append-only event log only: each new event
rebuilds the rows of its subscription (``_refresh``), and ``_rebuild`` makes
the whole ledger again from the log (run by the 18.0.1.7.0 migration, and by
hand from an Odoo shell: ``env["isp.mrr.ledger"]._rebuild()``)."""

import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

MOVEMENTS = (
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "transfer_in",
    "transfer_out",
)
# the falls, stored positive (as the identity states them)
FALLS = ("contraction", "churn", "transfer_out")

TABLE = "isp_mrr_ledger"
HEAD = "isp_mrr_ledger_head"
# The months the MRR reports cover (common table expressions ``horizon`` and
# ``months``): from the ledger's first month to the current month, or to the
# month of the log's last event if later.
MONTHS_CTE = f"""horizon AS (
                SELECT greatest(
                           date_trunc('month', now())::date,
                           (SELECT date_trunc('month', max(event_date))::date
                              FROM isp_subscription_event)
                       ) AS last_month
            ),
            months AS (
                SELECT m::date AS month
                  FROM horizon h,
                       generate_series(
                           (SELECT min(month) FROM {TABLE}),
                           h.last_month, '1 month') m
            )"""


def movement_columns():
    """The ledger's movement columns, subscription currency then company's."""
    return [f"{kind}_mrr{suffix}" for suffix in ("", "_company") for kind in MOVEMENTS]


class IspMrrLedger(models.AbstractModel):
    _name = "isp.mrr.ledger"
    _description = "ISP MRR ledger (stored monthly MRR per subscription)"

    def init(self):
        self._ledger_init()

    @api.model
    def _ledger_init(self):
        """Create the ledger's tables when missing (on install, before any
        event; on the upgrade to 18.0.1.7.0, whose migration then fills it
        from the log). Idempotent."""
        cr = self.env.cr
        cr.execute("SELECT to_regclass(%s)", [TABLE])
        if cr.fetchone()[0]:
            return
        amounts = ",\n".join(
            f"{name} numeric NOT NULL DEFAULT 0"
            for name in (
                "net",
                "net_company",
                "mrr_end",
                "mrr_end_company",
                *movement_columns(),
            )
        )
        cr.execute(
            f"""
            CREATE TABLE {TABLE} (
                subscription_id integer NOT NULL
                    REFERENCES isp_subscription(id) ON DELETE CASCADE,
                currency_id integer NOT NULL REFERENCES res_currency(id),
                month date NOT NULL,
                company_id integer REFERENCES res_company(id) ON DELETE CASCADE,
                plan_id integer,
                tail boolean NOT NULL DEFAULT false,
                logged boolean NOT NULL DEFAULT false,
                {amounts},
                PRIMARY KEY (subscription_id, currency_id, month)
            );
            CREATE INDEX {TABLE}_month_idx ON {TABLE} (month, company_id);
            CREATE INDEX {TABLE}_tail_idx ON {TABLE} (month) WHERE tail;
            CREATE INDEX {TABLE}_logged_idx ON {TABLE} (month) WHERE logged;
            CREATE TABLE IF NOT EXISTS {HEAD} (
                subscription_id integer PRIMARY KEY
                    REFERENCES isp_subscription(id) ON DELETE CASCADE,
                version integer NOT NULL DEFAULT 0
            );
            """
        )

    @api.model
    def _rebuild(self):
        """Make the whole ledger again from the event log (``_refresh`` of
        every subscription with events). Returns the number of rows."""
        self.env["isp.subscription.event"].flush_model()
        self.env.cr.execute(f"DELETE FROM {TABLE}")
        self.env.cr.execute(
            f"INSERT INTO {TABLE} ({self._insert_columns()}) {self._rows_query()}",
            {"subscription_ids": None},
        )
        rows = self.env.cr.rowcount
        _logger.info("MRR ledger rebuilt from the event log: %s rows", rows)
        return rows

    @api.model
    def _refresh(self, subscription_ids):
        """Rebuild the ledger rows of ``subscription_ids`` from their events.

        Concurrency: the subscription's head row is updated first, so two
        transactions refreshing the same subscription are serialized (the
        second waits, then fails with a serialization error and is retried
        by Odoo under REPEATABLE READ, or reads the first one's events under
        READ COMMITTED); different subscriptions never share a row."""
        ids = sorted(set(subscription_ids))
        if not ids:
            return
        self.env["isp.subscription.event"].flush_model()
        cr = self.env.cr
        cr.execute(
            f"""
            INSERT INTO {HEAD} (subscription_id, version)
                 SELECT unnest(%(ids)s::int[]), 1
            ON CONFLICT (subscription_id)
              DO UPDATE SET version = {HEAD}.version + 1
            """,
            {"ids": ids},
        )
        cr.execute(
            f"DELETE FROM {TABLE} WHERE subscription_id = ANY(%(ids)s)", {"ids": ids}
        )
        cr.execute(
            f"INSERT INTO {TABLE} ({self._insert_columns()}) {self._rows_query()}",
            {"subscription_ids": ids},
        )

    @api.model
    def _compare_with_log(self, subscription_ids=None):
        """The ledger rows of ``subscription_ids`` (all when None) that differ
        from the event log replayed now (``_rows_query``): ``(stored only,
        replayed only)``, two sets of row tuples, empty when the ledger is
        the log's. Writes nothing."""
        self.env["isp.subscription.event"].flush_model()
        ids = sorted(set(subscription_ids)) if subscription_ids is not None else None
        cr = self.env.cr
        columns = self._insert_columns()
        cr.execute(
            f"""SELECT {columns} FROM {TABLE}
                 WHERE %(subscription_ids)s::int[] IS NULL
                    OR subscription_id = ANY(%(subscription_ids)s::int[])""",
            {"subscription_ids": ids},
        )
        stored = set(cr.fetchall())
        cr.execute(self._rows_query(), {"subscription_ids": ids})
        replayed = set(cr.fetchall())
        return stored - replayed, replayed - stored

    def _insert_columns(self):
        return ", ".join(
            [
                "subscription_id",
                "currency_id",
                "month",
                "company_id",
                "plan_id",
                "tail",
                "logged",
                "net",
                "net_company",
                "mrr_end",
                "mrr_end_company",
                *movement_columns(),
            ]
        )

    def _rows_query(self):
        """The ledger rows of the subscriptions ``%(subscription_ids)s`` (all
        when NULL), columns in ``_insert_columns``'s order."""

        def movement(suffix, amount):
            return ",\n".join(
                f"COALESCE(sum({'-' if kind in FALLS else ''}{amount}) "
                f"FILTER (WHERE e.mrr_movement = '{kind}'), 0) AS {kind}_mrr{suffix}"
                for kind in MOVEMENTS
            )

        grid_movements = ",\n".join(
            f"COALESCE(mv.{name}, 0) AS {name}" for name in movement_columns()
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
                       {movement("", "e.mrr_change")},
                       {movement("_company", "e.mrr_change_company")}
                  FROM isp_subscription_event e
                 WHERE %(subscription_ids)s::int[] IS NULL
                    OR e.subscription_id = ANY(%(subscription_ids)s::int[])
              GROUP BY 1, 2, 3
            ),
            span AS (
                -- from the first movement to the last event while the MRR is
                -- not zero (the report carries the last row on), else to the
                -- last movement
                SELECT subscription_id, currency_id,
                       min(month) FILTER (WHERE moved) AS first_month,
                       sum(net) != 0 AS live,
                       CASE WHEN sum(net) = 0 THEN max(month) FILTER (WHERE moved)
                            ELSE max(month)
                       END AS last_month
                  FROM mv
              GROUP BY 1, 2
                HAVING bool_or(moved)
            ),
            grid AS (
                SELECT s.subscription_id, s.currency_id, m::date AS month,
                       s.live AND m::date = s.last_month AS tail,
                       mv.subscription_id IS NOT NULL AS logged,
                       mv.plan_id AS month_plan_id,
                       count(mv.plan_id) OVER sub_months AS plan_group,
                       COALESCE(mv.net, 0) AS net,
                       COALESCE(mv.net_company, 0) AS net_company,
                       sum(COALESCE(mv.net, 0)) OVER sub_months AS mrr_end,
                       sum(COALESCE(mv.net_company, 0)) OVER sub_months
                           AS mrr_end_company,
                       {grid_movements}
                  FROM span s
            CROSS JOIN generate_series(s.first_month, s.last_month, '1 month') m
             LEFT JOIN mv ON mv.subscription_id = s.subscription_id
                         AND mv.currency_id = s.currency_id AND mv.month = m::date
                WINDOW sub_months AS (
                    PARTITION BY s.subscription_id, s.currency_id ORDER BY m)
            )
            SELECT g.subscription_id, g.currency_id, g.month, sub.company_id,
                   max(g.month_plan_id) OVER (
                       PARTITION BY g.subscription_id, g.currency_id, g.plan_group
                   ) AS plan_id,
                   g.tail, g.logged, g.net, g.net_company, g.mrr_end, g.mrr_end_company,
                   {", ".join(f"g.{name}" for name in movement_columns())}
              FROM grid g
              JOIN isp_subscription sub ON sub.id = g.subscription_id
        """
