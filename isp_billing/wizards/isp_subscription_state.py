# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IspSubscriptionStateWizard(models.TransientModel):
    """Suspend, reactivate or terminate subscriptions with a reason."""

    _name = "isp.subscription.state.wizard"
    _description = "Change the state of ISP subscriptions"

    subscription_ids = fields.Many2many("isp.subscription", required=True)
    action = fields.Selection(
        [
            ("suspend", "Suspend"),
            ("reactivate", "Reactivate"),
            ("terminate", "Terminate"),
        ],
        required=True,
    )
    reason = fields.Char(required=True)
    suspension_kind = fields.Selection(
        [("manual", "By hand"), ("nonpayment", "Non-payment")],
        string="Suspension kind",
        default="manual",
        help="Non-payment: the subscription is reconnected by itself as soon as its "
        "overdue invoices are paid.",
    )
    date = fields.Date(
        string="Termination date",
        default=fields.Date.context_today,
        help="First day without service. A future date schedules the termination.",
    )
    date_ref = fields.Date(
        string="Reference date",
        required=True,
        default=fields.Date.context_today,
        help="The day the termination is made: a later termination date schedules "
        "it, and the termination document is dated on this day.",
    )
    credit = fields.Boolean(
        string="Credit unused days",
        help="Issue a credit note for the days already billed after the termination "
        "date.",
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        ids = self.env.context.get("active_ids")
        if ids and self.env.context.get("active_model") == "isp.subscription":
            res["subscription_ids"] = [fields.Command.set(ids)]
        res.setdefault("credit", self.env.company.isp_termination_credit)
        return res

    def action_confirm(self):
        self.ensure_one()
        self.check_access("write")
        subs = self.subscription_ids
        if self.action == "suspend":
            subs.action_suspend(self.reason, kind=self.suspension_kind or "manual")
        elif self.action == "reactivate":
            subs.action_reactivate(self.reason)
        else:
            subs.action_terminate(
                self.date, self.reason, credit=self.credit, date_ref=self.date_ref
            )
        return {"type": "ir.actions.act_window_close"}
