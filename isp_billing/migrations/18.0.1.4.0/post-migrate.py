# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.4.0 (issue #15): the subscription invoices' journal keeps Odoo's
hash chain (*Secure Posted Entries with Hash*); existing databases turn it
on and hash the invoices already posted there. Promise-to-pay events get
their last day (``promise_until``)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].search([])._isp_secure_invoice_journal()
    # Promises made before 18.0.1.4.0 kept their last day in the text only:
    # it was the promise date plus the company's promise days.
    cr.execute(
        """
        UPDATE isp_subscription_event event
           SET promise_until = event.event_date + company.isp_promise_days
          FROM res_company company
         WHERE company.id = event.company_id
           AND event.event_type = 'promise'
           AND event.promise_until IS NULL
        """
    )
