# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools

from ..models.isp_mrr_ledger import MONTHS_CTE as MONTHS
from ..models.isp_mrr_ledger import TABLE as LEDGER
from ..models.isp_mrr_ledger import movement_columns


class IspReportMrrMonth(models.Model):
    """The MRR report (``isp.report.mrr``) summed per company, currency and
    month, read from the MRR ledger without building a row per subscription:
    the ledger's rows of the month plus the subscriptions carried on from
    their last row (``tail``), counted and summed per month of that row.

    ``isp.report.mrr`` reads its grouped sums here when nothing asks for a
    subscription's own values (see its ``_read_group``): same figures, same
    groups, ``nb_rows`` its row count."""

    _name = "isp.report.mrr.month"
    _inherit = "isp.report.mrr.measures"
    _description = "ISP MRR by month"
    _auto = False
    _order = "month desc"
    _depends = {"isp.subscription.event": ["event_date"]}

    month = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    nb_rows = fields.Integer(string="Rows", readonly=True)

    def _query(self):
        columns = movement_columns()
        moves = ",\n".join(f"sum(l.{name}) AS {name}" for name in columns)
        zeros = ",\n".join(f"0::numeric AS {name}" for name in columns)
        measures = ",\n".join(f"sum(r.{name}) AS {name}" for name in columns)
        return f"""
            WITH {MONTHS},
            tails AS (
                SELECT t.company_id, t.currency_id, t.month, count(*) AS nb_rows,
                       sum(t.mrr_end) AS mrr_end,
                       sum(t.mrr_end_company) AS mrr_end_company
                  FROM {LEDGER} t
                 WHERE t.tail
              GROUP BY 1, 2, 3
            ),
            rows AS (
                -- every row of the month: its MRR at end
                SELECT l.company_id, l.currency_id, l.month, count(*) AS nb_rows,
                       0::numeric AS net, 0::numeric AS net_company,
                       sum(l.mrr_end) AS mrr_end,
                       sum(l.mrr_end_company) AS mrr_end_company,
                       {zeros}
                  FROM {LEDGER} l
              GROUP BY 1, 2, 3
                 UNION ALL
                -- the rows of the month with events: its movements
                SELECT l.company_id, l.currency_id, l.month, 0,
                       sum(l.net), sum(l.net_company), 0::numeric, 0::numeric,
                       {moves}
                  FROM {LEDGER} l
                 WHERE l.logged
              GROUP BY 1, 2, 3
                 UNION ALL
                -- the subscriptions carried on after their last row
                SELECT t.company_id, t.currency_id, m.month, sum(t.nb_rows),
                       0::numeric, 0::numeric, sum(t.mrr_end),
                       sum(t.mrr_end_company), {zeros}
                  FROM months m
                  JOIN tails t ON t.month < m.month
              GROUP BY 1, 2, 3
            )
            SELECT (r.company_id::bigint * 10000000 + r.currency_id * 10000
                    + (extract(year FROM r.month)::int - 1900) * 12
                    + extract(month FROM r.month)::int)::bigint AS id,
                   r.month, r.company_id, r.currency_id,
                   company.currency_id AS company_currency_id,
                   sum(r.nb_rows)::int AS nb_rows,
                   sum(r.mrr_end) - sum(r.net) AS mrr_start,
                   sum(r.mrr_end) AS mrr_end,
                   sum(r.mrr_end_company) - sum(r.net_company) AS mrr_start_company,
                   sum(r.mrr_end_company) AS mrr_end_company,
                   {measures}
              FROM rows r
         LEFT JOIN res_company company ON company.id = r.company_id
          GROUP BY r.company_id, r.currency_id, r.month, company.currency_id
        """

    def init(self):
        self.env["isp.mrr.ledger"]._ledger_init()
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS ({self._query()})"
        )
