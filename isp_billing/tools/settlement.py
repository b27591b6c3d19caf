# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The settlement date stored on the invoices (``account.move.isp_date_paid``,
README, *Collections and aging definitions*), written set-based in SQL: for
the moves that existed before the field (the 18.0.1.8.0 migration, the
install on a database with invoices) and for books written in SQL (the
benchmark's generator). The ORM keeps it afterwards
(``account.move._compute_isp_date_paid``): the same value.

Plain functions on a cursor: the migration runs them before the field is in
the registry."""

from odoo.tools.sql import column_exists, create_column

# The day each move was settled: the latest ``max_date`` of the
# reconciliations of its receivable lines (``payment_term``, the lines a
# payment is matched with, on their debit side), once it is paid or in
# payment; no row while it is not.
SETTLED_DAYS = """
    SELECT line.move_id, MAX(apr.max_date) AS date_paid
      FROM account_partial_reconcile apr
      JOIN account_move_line line ON line.id = apr.debit_move_id
      JOIN account_move move ON move.id = line.move_id
     WHERE line.display_type = 'payment_term'
       AND move.payment_state IN ('paid', 'in_payment')
     GROUP BY line.move_id
"""


def fill_date_paid(cr):
    """Write every move's settlement date (``NULL`` for those not settled)
    where the stored one differs; returns the number of moves written."""
    cr.execute(
        f"""
        UPDATE account_move target
           SET isp_date_paid = fill.date_paid
          FROM (SELECT invoice.id, settled.date_paid
                  FROM account_move invoice
                  LEFT JOIN ({SETTLED_DAYS}) settled ON settled.move_id = invoice.id
                 WHERE invoice.isp_date_paid IS DISTINCT FROM settled.date_paid
               ) fill
         WHERE target.id = fill.id
        """
    )
    return cr.rowcount


def create_date_paid_column(cr):
    """Add the column and fill it, so the ORM does not compute it move by
    move for the moves that exist; nothing when it exists already."""
    if column_exists(cr, "account_move", "isp_date_paid"):
        return 0
    create_column(cr, "account_move", "isp_date_paid", "date")
    return fill_date_paid(cr)
