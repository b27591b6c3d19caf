# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class _PreviewDone(Exception):
    """Raised to roll a preview's savepoint back."""


class IspBillingWizard(models.TransientModel):
    """Run the billing job by hand for chosen subscriptions, or preview what it
    would invoice without writing anything."""

    _name = "isp.billing.wizard"
    _description = "Run or preview ISP billing"

    subscription_ids = fields.Many2many(
        "isp.subscription",
        string="Subscriptions",
        required=True,
        domain=[("state", "in", ("active", "suspended"))],
    )
    billing_date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="Periods starting on or before this date are billed.",
    )
    line_ids = fields.One2many(
        "isp.billing.wizard.line", "wizard_id", string="Preview", readonly=True
    )
    error_text = fields.Text(string="Problems", readonly=True)
    previewed = fields.Boolean(readonly=True)
    currency_id = fields.Many2one(related="line_ids.currency_id")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if (
            "subscription_ids" in fields_list
            and self.env.context.get("active_model") == "isp.subscription"
        ):
            res["subscription_ids"] = [
                Command.set(self.env.context.get("active_ids", []))
            ]
        return res

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_preview(self):
        """Bill in a savepoint, read what would be invoiced, roll back."""
        self.ensure_one()
        subs = self.subscription_ids
        lines, errors = [], []
        try:
            with self.env.cr.savepoint():
                moves = subs._bill_due_periods(self.billing_date)
                for move in moves:
                    for line in move.invoice_line_ids.filtered(
                        lambda aml: aml.display_type == "product"
                    ):
                        lines.append(
                            {
                                "subscription_id": line.isp_subscription_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                                "price_subtotal": line.price_subtotal,
                                "price_total": line.price_total,
                                "currency_id": move.currency_id.id,
                                "move_type": move.move_type,
                            }
                        )
                errors = [
                    f"{sub.display_name}: {sub.billing_exception_reason}"
                    for sub in subs
                    if sub.billing_exception and sub.billing_exception_reason
                ]
                raise _PreviewDone()
        except _PreviewDone:
            pass
        self.write(
            {
                "line_ids": [Command.clear()] + [Command.create(v) for v in lines],
                "error_text": "\n".join(errors) or False,
                "previewed": True,
            }
        )
        return self._reopen()

    def action_bill(self):
        self.ensure_one()
        moves = self.subscription_ids._bill_due_periods(self.billing_date)
        if not moves:
            failed = self.subscription_ids.filtered("billing_exception")
            if failed:
                raise UserError(
                    "\n".join(
                        f"{sub.display_name}: {sub.billing_exception_reason}"
                        for sub in failed
                    )
                )
            raise UserError(self.env._("Nothing is due: every period is billed."))
        return moves._isp_action_view()
