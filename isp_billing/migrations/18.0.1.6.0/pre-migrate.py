# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.6.0: *Invoice e-mails* (``res.company.isp_invoice_sending``). New
companies send the portal link and make the PDF on first download; companies
that existed before keep what they had: the PDF attached by Odoo's sending."""


def migrate(cr, version):
    cr.execute(
        "ALTER TABLE res_company ADD COLUMN IF NOT EXISTS isp_invoice_sending varchar"
    )
    cr.execute(
        "UPDATE res_company SET isp_invoice_sending = 'pdf' "
        "WHERE isp_invoice_sending IS NULL"
    )
