# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspSubscriptionPeriod(models.Model):
    """One row per billed period: the database refuses a second row for the same
    subscription and period start, so a period is billed at most once whatever
    runs the billing job, how often, and how many at a time."""

    _name = "isp.subscription.period"
    _description = "ISP Billed Period"
    _order = "date_start desc, id desc"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    date_start = fields.Date(required=True)
    date_end = fields.Date(required=True, help="First day after the period.")
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, ondelete="restrict", index=True
    )

    _sql_constraints = [
        (
            "period_unique",
            "unique(subscription_id, date_start)",
            "This period of the subscription is already billed.",
        ),
        (
            "period_dates",
            "check(date_start < date_end)",
            "A billed period must end after it starts.",
        ),
    ]
