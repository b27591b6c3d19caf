# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""isp.radius.username: every username a subscription has is Odoo's (its rows
in FreeRADIUS were written by Odoo)."""


def migrate(cr, version):
    cr.execute(
        """INSERT INTO isp_radius_username (
               username, company_id, subscription_id, create_date, write_date)
           SELECT radius_username, company_id, id, now() AT TIME ZONE 'UTC',
                  now() AT TIME ZONE 'UTC'
             FROM isp_subscription
            WHERE radius_username IS NOT NULL AND company_id IS NOT NULL
           ON CONFLICT (username, company_id) DO NOTHING"""
    )
