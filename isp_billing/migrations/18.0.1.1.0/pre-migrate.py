# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: the billed-period key becomes a partial unique index (credited
periods give their key up); the model's init() creates the index."""


def migrate(cr, version):
    cr.execute(
        "ALTER TABLE isp_subscription_period "
        "DROP CONSTRAINT IF EXISTS isp_subscription_period_period_unique"
    )
