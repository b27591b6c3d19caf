# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The last day of a promise to pay, on its event: what the promise-to-pay
kept rate is measured against (README, *Collections and aging
definitions*)."""

from odoo import fields, models


class IspSubscriptionEvent(models.Model):
    _inherit = "isp.subscription.event"

    promise_until = fields.Date(
        string="Promised by",
        readonly=True,
        help="Promise to pay: the last day of service it gave; the promise is "
        "kept when what it covered is paid by the end of that day.",
    )
