# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError

DONE = "1_done"


class ProjectTask(models.Model):
    _inherit = "project.task"

    isp_subscription_count = fields.Integer(
        string="ISP subscriptions", compute="_compute_isp_subscriptions"
    )
    isp_subscription_summary = fields.Char(
        string="ISP subscription",
        compute="_compute_isp_subscriptions",
        help="The subscription(s) this installation task activates when done.",
    )

    def _isp_sale_subscriptions(self):
        """The subscriptions of these tasks' order lines (the lines the
        confirmed order put on a subscription), as the superuser."""
        lines = self.sudo().sale_line_id
        return (
            self.env["isp.subscription.line"]
            .sudo()
            .search([("sale_line_id", "in", lines.ids)])
            .subscription_id
        )

    def _compute_isp_subscriptions(self):
        subs = self._isp_sale_subscriptions()
        labels = dict(subs._fields["state"]._description_selection(self.env))
        for task in self:
            mine = subs.filtered(
                lambda sub, task=task: (
                    task.sudo().sale_line_id in sub.line_ids.sale_line_id
                )
            )
            task.isp_subscription_count = len(mine)
            task.isp_subscription_summary = ", ".join(
                f"{sub.account_number} ({labels[sub.state]})" for sub in mine
            )

    def write(self, vals):
        closing = self.browse()
        if vals.get("state") == DONE:
            closing = self.filtered(lambda task: task.state != DONE)
        res = super().write(vals)
        if closing:
            closing._isp_sale_subscriptions()._isp_sale_activate_from_tasks(closing)
        return res

    def action_isp_sale_activate(self):
        """*Activate* (the technician's button on the installation task):
        mark the task done, which activates its draft subscriptions today."""
        self.check_access("write")
        if not self._isp_sale_subscriptions().filtered(lambda s: s.state == "draft"):
            raise UserError(
                self.env._("This task has no ISP subscription waiting for activation.")
            )
        self.write({"state": DONE})
        return True
