# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.8.0: the settlement date stored on the invoices
(``account.move.isp_date_paid``) that the *Invoices paid* report reads. The
column is added and filled here, in one SQL statement from the
reconciliations, before the module loads: the ORM would otherwise compute it
move by move for every existing move."""

from odoo.addons.isp_billing.tools.settlement import create_date_paid_column


def migrate(cr, version):
    create_date_paid_column(cr)
