# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A customer's balance and overdue amount on the partner form and the ISP
customers list: the one balance of its subscriptions (``_isp_balance``)."""

from odoo import api, fields, models

from ..const import OPEN_ITEMS_GROUPS


class ResPartner(models.Model):
    _inherit = "res.partner"

    isp_balance_currency_id = fields.Many2one(
        "res.currency",
        string="Balance currency",
        compute="_compute_isp_balance",
        groups=",".join(OPEN_ITEMS_GROUPS),
    )
    isp_balance = fields.Monetary(
        string="Balance due",
        currency_field="isp_balance_currency_id",
        compute="_compute_isp_balance",
        groups=",".join(OPEN_ITEMS_GROUPS),
        help="What the customer owes in the current company, in the currency of "
        "its subscriptions: open invoices minus open credit notes and "
        "unallocated payments (the balance shown on its subscriptions, the "
        "portal and the statement).",
    )
    isp_amount_overdue = fields.Monetary(
        string="Overdue",
        currency_field="isp_balance_currency_id",
        compute="_compute_isp_balance",
        groups=",".join(OPEN_ITEMS_GROUPS),
        help="What is left to pay on the customer's open invoices of that "
        "balance past their due date.",
    )

    def _isp_balance_subscription(self):
        """The subscription whose company and currency the customer's balance
        is read in: one of its commercial partner's subscriptions in the
        current company, preferably in the company's currency (the balance
        is the customer's, whichever of its subscriptions gives it)."""
        self.ensure_one()
        subs = self.env["isp.subscription"].search(
            [
                ("partner_id", "child_of", self.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
            ],
            order="id",
        )
        in_company_currency = subs.filtered(
            lambda sub: sub.currency_id == self.env.company.currency_id
        )
        return (in_company_currency or subs)[:1]

    @api.depends_context("company")
    def _compute_isp_balance(self):
        today = fields.Date.context_today(self)
        for partner in self:
            sub = partner._isp_balance_subscription() if partner.id else None
            if not sub:
                partner.isp_balance_currency_id = self.env.company.currency_id
                partner.isp_balance = partner.isp_amount_overdue = 0.0
                continue
            overdue = sub._isp_balance_invoices().filtered(
                lambda move: move.invoice_date_due < today
            )
            partner.isp_balance_currency_id = sub.currency_id
            partner.isp_balance = sub._isp_balance()
            partner.isp_amount_overdue = sub.currency_id.round(
                sum(overdue.mapped("amount_residual"))
            )

    def action_view_isp_open_items(self):
        """*Balance* smart button: the customer's open invoices, credit notes
        and unallocated payments behind its balance."""
        self.ensure_one()
        Subscription = self.env["isp.subscription"]
        Subscription._isp_check_open_items_access()
        self.check_access("read")
        sub = self._isp_balance_subscription()
        title = self.env._("Open items of %(customer)s", customer=self.name)
        if not sub:
            return {
                "type": "ir.actions.act_window",
                "name": title,
                "res_model": "account.move.line",
                "view_mode": "list",
                "domain": [("id", "=", False)],
            }
        return sub._isp_open_items_action(title)
