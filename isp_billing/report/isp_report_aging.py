# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Receivables aging as of any date: the service that computes it.

Built on Odoo's journal items (see README, *Collections and aging
definitions*): a receivable item's residual as of a date is its amount less
the partial reconciliations dated on or before that date, i.e. its residual
today (``amount_residual_currency``) plus the reconciliations dated after
it, so that only the items open today or matched since are read; a customer's open
credits (credit notes, unallocated payments) are set against its open debts
oldest due first, as the product allocates them (``_isp_allocate_balance``),
so the buckets add up to the customer's one balance (``_isp_balance``)."""

from odoo import api, fields, models
from odoo.tools import SQL

# (bucket key, first day past due, last day past due or None)
AGING_BUCKETS = (
    ("current", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)


class IspReportAging(models.AbstractModel):
    _name = "isp.report.aging"
    _description = "ISP receivables aging (service)"

    @api.model
    def _aging_date(self):
        """The as-of date of the aging: ``isp_aging_date`` in the context,
        else today in the user's time zone."""
        value = self.env.context.get("isp_aging_date")
        return fields.Date.to_date(value) if value else fields.Date.context_today(self)

    @api.model
    def _aging_sql(self, date_at, company_ids):
        """The rows of the aging as of ``date_at`` in ``company_ids``: one per
        open debit item (invoice instalment) with what is left of it after
        the customer's open credits, and one per customer and currency whose
        credits exceed its debts (negative, *current*). Columns: id,
        date_at, company_id, partner_id (commercial), currency_id, move_id,
        move_line_id, date_due, days_overdue, bucket, amount_residual and
        one amount column per bucket."""
        date_at = fields.Date.to_date(date_at)
        bucket_case = SQL(
            """CASE WHEN days <= 0 THEN 'current'
                    WHEN days <= 30 THEN '1_30'
                    WHEN days <= 60 THEN '31_60'
                    WHEN days <= 90 THEN '61_90'
                    ELSE 'over_90' END"""
        )
        return SQL(
            """
            WITH later AS (
                -- matched after the date: not yet as of it
                SELECT apr.debit_move_id AS line_id,
                       SUM(apr.debit_amount_currency) AS amount
                  FROM account_partial_reconcile apr
                 WHERE apr.max_date > %(date_at)s
                 GROUP BY apr.debit_move_id
                UNION ALL
                SELECT apr.credit_move_id, -SUM(apr.credit_amount_currency)
                  FROM account_partial_reconcile apr
                 WHERE apr.max_date > %(date_at)s
                 GROUP BY apr.credit_move_id
            ),
            later_sums AS (
                SELECT line_id, SUM(amount) AS amount FROM later GROUP BY line_id
            ),
            candidates AS (
                -- the items open today, and those settled after the date
                SELECT aml.id
                  FROM account_move_line aml
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE account.account_type = 'asset_receivable'
                   AND aml.reconciled IS NOT TRUE AND aml.parent_state = 'posted'
                   AND aml.company_id IN %(company_ids)s
                   AND aml.date <= %(date_at)s
                UNION
                SELECT line_id FROM later_sums
            ),
            items AS (
                SELECT aml.id AS line_id,
                       aml.move_id,
                       aml.company_id,
                       partner.commercial_partner_id AS partner_id,
                       aml.currency_id,
                       COALESCE(aml.date_maturity, aml.date) AS date_due,
                       aml.date,
                       aml.amount_residual_currency + COALESCE(ls.amount, 0)
                         AS residual
                  FROM candidates
                  JOIN account_move_line aml ON aml.id = candidates.id
                  JOIN account_account account ON account.id = aml.account_id
                  JOIN res_partner partner ON partner.id = aml.partner_id
                  LEFT JOIN later_sums ls ON ls.line_id = aml.id
                 WHERE account.account_type = 'asset_receivable'
                   AND aml.parent_state = 'posted'
                   AND aml.company_id IN %(company_ids)s
                   AND aml.date <= %(date_at)s
            ),
            debts AS (
                SELECT items.*,
                       SUM(residual) OVER (
                           PARTITION BY company_id, partner_id, currency_id
                           ORDER BY date_due, date, line_id
                       ) - residual AS before
                  FROM items
                 WHERE residual > 0
            ),
            credits AS (
                SELECT company_id, partner_id, currency_id,
                       -SUM(residual) AS credit, MIN(line_id) AS line_id
                  FROM items
                 WHERE residual < 0
                 GROUP BY company_id, partner_id, currency_id
            ),
            debt_totals AS (
                SELECT company_id, partner_id, currency_id, SUM(residual) AS debt
                  FROM debts
                 GROUP BY company_id, partner_id, currency_id
            ),
            net AS (
                SELECT d.line_id AS id, d.company_id, d.partner_id, d.currency_id,
                       d.move_id, d.line_id AS move_line_id, d.date_due,
                       %(date_at)s - d.date_due AS days,
                       d.residual - LEAST(
                           d.residual, GREATEST(COALESCE(c.credit, 0) - d.before, 0)
                       ) AS amount
                  FROM debts d
                  LEFT JOIN credits c
                         ON c.company_id = d.company_id
                        AND c.partner_id = d.partner_id
                        AND c.currency_id = d.currency_id
                UNION ALL
                SELECT -c.line_id, c.company_id, c.partner_id, c.currency_id,
                       NULL, NULL, %(date_at)s, 0,
                       COALESCE(t.debt, 0) - c.credit
                  FROM credits c
                  LEFT JOIN debt_totals t
                         ON t.company_id = c.company_id
                        AND t.partner_id = c.partner_id
                        AND t.currency_id = c.currency_id
                 WHERE c.credit > COALESCE(t.debt, 0)
            )
            SELECT id, %(date_at)s AS date_at, company_id, partner_id, currency_id,
                   move_id, move_line_id, date_due, days AS days_overdue,
                   %(bucket)s AS bucket,
                   amount AS amount_residual,
                   CASE WHEN days <= 0 THEN amount ELSE 0 END
                     AS amount_current,
                   CASE WHEN days BETWEEN 1 AND 30 THEN amount ELSE 0 END
                     AS amount_1_30,
                   CASE WHEN days BETWEEN 31 AND 60 THEN amount ELSE 0 END
                     AS amount_31_60,
                   CASE WHEN days BETWEEN 61 AND 90 THEN amount ELSE 0 END
                     AS amount_61_90,
                   CASE WHEN days > 90 THEN amount ELSE 0 END
                     AS amount_over_90
              FROM net
             WHERE amount != 0
            """,
            date_at=date_at,
            company_ids=tuple(company_ids) or (0,),
            bucket=bucket_case,
        )

    @api.model
    def _prepare_aging(
        self, date_at=None, domain=None, groupby=("partner_id", "currency_id")
    ):
        """The aged balance as of ``date_at`` (default: today), without
        writing: one dict per group of ``groupby`` with ``amount_<bucket>``
        for each bucket of ``AGING_BUCKETS``, ``amount_residual`` (their sum)
        and the group's values (ids). Read through the report model, so the
        caller's access rights and companies apply."""
        date_at = fields.Date.to_date(date_at) if date_at else self._aging_date()
        Line = self.env["isp.report.aging.line"].with_context(isp_aging_date=date_at)
        measures = ["amount_residual"] + [
            f"amount_{key}" for key, _lo, _hi in AGING_BUCKETS
        ]
        rows = []
        for values in Line._read_group(
            domain or [], list(groupby), [f"{m}:sum" for m in measures]
        ):
            row = {
                name: value.id if isinstance(value, models.BaseModel) else value
                for name, value in zip(groupby, values[: len(groupby)], strict=False)
            }
            row.update(zip(measures, values[len(groupby) :], strict=True))
            rows.append(row)
        return rows
