# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IspSubscriptionChangePlan(models.TransientModel):
    _name = "isp.subscription.change.plan"
    _description = "Change the plan of an ISP subscription"

    subscription_id = fields.Many2one("isp.subscription", required=True)
    current_plan_id = fields.Many2one(related="subscription_id.plan_id")
    new_plan_id = fields.Many2one(
        "product.product",
        string="New plan",
        required=True,
        domain="[('isp_is_plan', '=', True), ('id', '!=', current_plan_id)]",
    )
    date = fields.Date(
        string="Effective on",
        required=True,
        help="First day on the new plan. Inside a period already billed, the unused "
        "part of the old plan is credited and the new plan charged for the rest of "
        "the period. A future date schedules the change.",
    )
    reason = fields.Char()
    date_ref = fields.Date(
        string="Reference date",
        required=True,
        default=fields.Date.context_today,
        help="The day the change is made: a later effective date schedules it, and "
        "the adjustment document is dated on this day.",
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        sub = self.env["isp.subscription"].browse(
            res.get("subscription_id") or self.env.context.get("active_id")
        )
        if sub.exists():
            res["subscription_id"] = sub.id
            res.setdefault("date", sub._today())
            res.setdefault("date_ref", sub._today())
        return res

    def action_confirm(self):
        self.ensure_one()
        self.check_access("write")
        move = self.subscription_id._change_plan(
            self.new_plan_id, self.date, self.reason, date_ref=self.date_ref
        )
        if move:
            return move._isp_action_view()
        return {"type": "ir.actions.act_window_close"}
