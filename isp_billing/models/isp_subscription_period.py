# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models


class IspSubscriptionPeriod(models.Model):
    """One row per billed period: the database refuses a second row for the same
    subscription and period start, so a period is billed at most once whatever
    runs the billing job, how often, and how many at a time.

    A period whose every day was credited back (a plan change to another period
    length, a termination with credit) is marked *credited* and gives its key
    up: the new rhythm may start a period on the same day."""

    _name = "isp.subscription.period"
    _description = "ISP Billed Period"
    _order = "date_start desc, id desc"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    date_start = fields.Date(string="From", required=True)
    date_end = fields.Date(
        string="Until (excluded)", required=True, help="First day after the period."
    )
    date_last = fields.Date(
        string="Last day",
        compute="_compute_date_last",
        help="The last day the period covers (the day before its end).",
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, ondelete="restrict", index=True
    )
    credited = fields.Boolean(
        readonly=True,
        help="Every day of this period was credited back (plan change to another "
        "period length, termination with credit).",
    )
    credit_move_id = fields.Many2one(
        "account.move",
        string="Credited by",
        readonly=True,
        ondelete="restrict",
        help="The credit note of the unused days (empty when it rounded to zero).",
    )

    _sql_constraints = [
        (
            "period_dates",
            "check(date_start < date_end)",
            "A billed period must end after it starts.",
        ),
    ]

    @api.depends("date_end")
    def _compute_date_last(self):
        for period in self:
            period.date_last = period.date_end and period.date_end - timedelta(days=1)

    def init(self):
        # The exactly-once key: (subscription, period start) among the periods
        # not credited back. A partial unique index, which _sql_constraints
        # cannot declare.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS isp_subscription_period_billed_unique
                ON isp_subscription_period (subscription_id, date_start)
             WHERE credited IS NOT TRUE
            """
        )

    def _mark_credited(self, credit_move):
        """Mark these periods credited back by ``credit_move`` (may be empty)."""
        self.sudo().write({"credited": True, "credit_move_id": credit_move.id})
