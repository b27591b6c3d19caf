# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""isp.radius.usage: the company is the subscription's (computed); only rows
without a subscription store theirs, in ``unmatched_company_id``. Move it there
and drop ``company_id`` (its foreign key and the old unique key go with it) before
the module's update adds the new key (username, date, subscription,
unmatched company)."""


def migrate(cr, version):
    cr.execute(
        """ALTER TABLE isp_radius_usage
               ADD COLUMN IF NOT EXISTS unmatched_company_id integer"""
    )
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'isp_radius_usage' AND column_name = 'company_id'"""
    )
    if cr.fetchone():
        cr.execute(
            """UPDATE isp_radius_usage SET unmatched_company_id = company_id
                WHERE subscription_id IS NULL"""
        )
        cr.execute("ALTER TABLE isp_radius_usage DROP COLUMN company_id")
