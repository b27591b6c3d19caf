# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: *Monthly recurring* (stored) is 0 for drafts and terminated
subscriptions; rows written before the rule keep their old amount until
recomputed, and would count in the list, pivot and graph totals."""


def migrate(cr, version):
    cr.execute(
        "UPDATE isp_subscription SET recurring_monthly = 0 "
        "WHERE state IN ('draft', 'terminated') AND recurring_monthly != 0"
    )
