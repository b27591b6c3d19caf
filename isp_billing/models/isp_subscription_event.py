# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

EVENT_TYPES = [
    ("new", "New"),
    ("upgrade", "Upgrade"),
    ("downgrade", "Downgrade"),
    ("plan_change", "Plan change (same price)"),
    ("suspension", "Suspension"),
    ("reactivation", "Reactivation"),
    ("termination", "Termination"),
    ("promise", "Promise to pay"),
]


class IspSubscriptionEvent(models.Model):
    """Append-only log of what happened to subscriptions, for reports (MRR
    movements, churn, suspensions). Rows are never changed nor deleted."""

    _name = "isp.subscription.event"
    _description = "ISP Subscription Event"
    _order = "event_date desc, id desc"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(
        related="subscription_id.partner_id", store=True, string="Customer"
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="subscription_id.currency_id", store=True)
    event_type = fields.Selection(
        EVENT_TYPES, string="Event type", required=True, index=True
    )
    event_date = fields.Date(string="Event date", required=True, index=True)
    reason = fields.Char()
    user_id = fields.Many2one(
        "res.users", string="By", default=lambda self: self.env.user, required=True
    )
    old_plan_id = fields.Many2one("product.product", string="Previous plan")
    new_plan_id = fields.Many2one("product.product", string="Plan")
    recurring_monthly = fields.Monetary(
        string="Monthly recurring after",
        help="MRR of the subscription after the event.",
    )

    def write(self, vals):
        raise UserError(self.env._("Subscription events cannot be changed."))

    @api.ondelete(at_uninstall=True)
    def _unlink_never(self):
        raise UserError(self.env._("Subscription events cannot be deleted."))
