# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date


class _PreviewDone(Exception):
    """Raised to roll a preview's savepoint back."""


class IspBillingWizard(models.TransientModel):
    """Run the billing job by hand, for every subscription with work up to a
    reference date or for chosen ones, or preview what it would do without
    writing anything."""

    _name = "isp.billing.wizard"
    _description = "Run or preview ISP billing"

    scope = fields.Selection(
        [("due", "All due subscriptions"), ("selected", "Selected subscriptions")],
        required=True,
        default="due",
    )
    subscription_ids = fields.Many2many(
        "isp.subscription",
        string="Subscriptions",
        domain=[("state", "in", ("active", "suspended"))],
    )
    billing_date = fields.Date(
        string="Reference date",
        required=True,
        default=fields.Date.context_today,
        help="Scheduled plan changes and terminations dated on or before this day "
        "are applied, and periods starting on or before it are billed, in date "
        "order, as daily runs would have. The documents are dated on this day.",
    )
    line_ids = fields.One2many(
        "isp.billing.wizard.line", "wizard_id", string="Preview", readonly=True
    )
    error_text = fields.Text(string="Skipped", readonly=True)
    previewed = fields.Boolean(readonly=True)
    currency_id = fields.Many2one(related="line_ids.currency_id")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if (
            "subscription_ids" in fields_list
            and self.env.context.get("active_model") == "isp.subscription"
            and self.env.context.get("active_ids")
        ):
            res["subscription_ids"] = [
                Command.set(self.env.context.get("active_ids", []))
            ]
            res["scope"] = "selected"
        return res

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _subscriptions(self):
        self.ensure_one()
        if self.scope == "selected":
            if not self.subscription_ids:
                raise UserError(self.env._("Select the subscriptions to bill."))
            return self.subscription_ids
        return self.env["isp.billing.run"]._due_subscriptions(self.billing_date)

    def _skipped(self, subs, billed):
        """What the run leaves aside, and why."""
        reasons = []
        labels = dict(subs._fields["state"]._description_selection(self.env))
        for sub in subs - billed:
            if sub.billing_exception:
                why = self.env._(
                    "billing exception: %(reason)s",
                    reason=sub.billing_exception_reason or "-",
                )
            elif sub.state not in ("active", "suspended"):
                why = self.env._("%(state)s: not billed", state=labels[sub.state])
            elif sub.next_invoice_date:
                why = self.env._(
                    "nothing due: next period starts on %(date)s",
                    date=format_date(self.env, sub.next_invoice_date),
                )
            else:
                why = self.env._("nothing due")
            reasons.append(f"{sub.display_name}: {why}")
        return reasons

    def action_preview(self):
        """Run in a savepoint, read what would be invoiced, roll back."""
        self.ensure_one()
        self.check_access("write")
        subs = self._subscriptions()
        lines, skipped = [], []
        try:
            with self.env.cr.savepoint():
                moves = self.env["isp.billing.run"]._bill(subs, self.billing_date)
                for move in moves:
                    products = move.invoice_line_ids.filtered(
                        lambda aml: aml.display_type == "product"
                    )
                    lines.append(
                        {
                            "partner_id": move.partner_id.id,
                            "origin": move.invoice_origin,
                            "move_type": move.move_type,
                            "name": "\n".join(
                                f"{line.name.splitlines()[0]}: "
                                f"{line.quantity:g} x {line.price_unit:.2f}"
                                for line in products
                            ),
                            "period_start": min(
                                products.filtered("isp_period_start").mapped(
                                    "isp_period_start"
                                ),
                                default=False,
                            ),
                            "period_end": max(
                                products.filtered("isp_period_end").mapped(
                                    "isp_period_end"
                                ),
                                default=False,
                            ),
                            "amount_untaxed": move.amount_untaxed,
                            "amount_tax": move.amount_tax,
                            "amount_total": move.amount_total,
                            "currency_id": move.currency_id.id,
                        }
                    )
                skipped = self._skipped(subs, moves.line_ids.isp_subscription_id)
                raise _PreviewDone()
        except _PreviewDone:
            pass
        self.write(
            {
                "line_ids": [Command.clear()] + [Command.create(v) for v in lines],
                "error_text": "\n".join(skipped) or False,
                "previewed": True,
            }
        )
        return self._reopen()

    def action_bill(self):
        self.ensure_one()
        self.check_access("write")
        subs = self._subscriptions()
        moves = self.env["isp.billing.run"]._bill(subs, self.billing_date)
        if not moves:
            skipped = self._skipped(subs, moves.line_ids.isp_subscription_id)
            raise UserError(
                "\n".join(skipped)
                or self.env._("Nothing is due: every period is billed.")
            )
        return moves._isp_action_view()
