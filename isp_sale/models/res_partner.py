# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What sales and support staff see of a customer's internet service on the
customer and lead forms, without the ISP rights: the subscriptions, the
balance, the overdue amount and the payment history, computed as the
superuser in the caller's allowed companies and shown read-only."""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_amount, format_date

# Who sees the ISP summary of a customer: sales staff, ISP staff and
# accountants (the support staff of an ISP has one of these roles).
SUMMARY_GROUPS = (
    "sales_team.group_sale_salesman,isp_billing.group_isp_user,"
    "account.group_account_invoice"
)
PAYMENTS_SHOWN = 10


class ResPartner(models.Model):
    _inherit = "res.partner"

    isp_sale_subscription_count = fields.Integer(
        string="Internet subscriptions",
        compute="_compute_isp_sale_summary",
        groups=SUMMARY_GROUPS,
    )
    isp_sale_currency_id = fields.Many2one(
        "res.currency",
        string="Internet balance currency",
        compute="_compute_isp_sale_summary",
        groups=SUMMARY_GROUPS,
    )
    isp_sale_balance = fields.Monetary(
        string="Internet balance",
        currency_field="isp_sale_currency_id",
        compute="_compute_isp_sale_summary",
        groups=SUMMARY_GROUPS,
        help="What the customer owes for the internet service in the current "
        "company (the balance of its subscriptions: open invoices minus open "
        "credit notes and unallocated payments).",
    )
    isp_sale_amount_overdue = fields.Monetary(
        string="Internet overdue",
        currency_field="isp_sale_currency_id",
        compute="_compute_isp_sale_summary",
        groups=SUMMARY_GROUPS,
        help="What is left to pay on the open invoices of that balance past "
        "their due date.",
    )
    isp_sale_payment_count = fields.Integer(
        string="Internet payments",
        compute="_compute_isp_sale_summary",
        groups=SUMMARY_GROUPS,
    )
    isp_sale_summary = fields.Html(
        string="Internet service",
        compute="_compute_isp_sale_summary",
        sanitize=False,
        groups=SUMMARY_GROUPS,
        help="The customer's subscriptions and latest payments.",
    )

    def _isp_sale_subscriptions(self):
        """The customer's subscriptions (its commercial partner's, contacts
        included) in the caller's allowed companies, as the superuser."""
        self.ensure_one()
        return (
            self.env["isp.subscription"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.commercial_partner_id.id),
                    ("company_id", "in", self.env.companies.ids),
                ],
                order="id",
            )
        )

    def _isp_sale_payments(self):
        """The customer's posted customer payments in the caller's allowed
        companies, newest first, as the superuser."""
        self.ensure_one()
        return (
            self.env["account.payment"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.commercial_partner_id.id),
                    ("company_id", "in", self.env.companies.ids),
                    ("partner_type", "=", "customer"),
                    ("payment_type", "=", "inbound"),
                    ("state", "in", ("in_process", "paid")),
                ],
                order="date desc, id desc",
            )
        )

    @api.depends_context("company", "allowed_company_ids")
    def _compute_isp_sale_summary(self):
        today = fields.Date.context_today(self)
        for partner in self:
            subs = partner._isp_sale_subscriptions() if partner.id else None
            payments = partner._isp_sale_payments() if partner.id else None
            balance_sub = (
                partner.sudo()._isp_balance_subscription() if partner.id else None
            )
            partner.isp_sale_subscription_count = len(subs or [])
            partner.isp_sale_payment_count = len(payments or [])
            if balance_sub:
                overdue = balance_sub._isp_balance_invoices().filtered(
                    lambda move: move.invoice_date_due < today
                )
                partner.isp_sale_currency_id = balance_sub.currency_id
                partner.isp_sale_balance = balance_sub._isp_balance()
                partner.isp_sale_amount_overdue = balance_sub.currency_id.round(
                    sum(overdue.mapped("amount_residual"))
                )
            else:
                partner.isp_sale_currency_id = self.env.company.currency_id
                partner.isp_sale_balance = partner.isp_sale_amount_overdue = 0.0
            partner.isp_sale_summary = (
                partner._isp_sale_render_summary(subs, payments) if subs else False
            )

    def _isp_sale_render_summary(self, subs, payments):
        """The read-only HTML of the summary: one row per subscription, one
        per payment (the latest ``PAYMENTS_SHOWN``). Every value is escaped."""
        _ = self.env._
        labels = dict(subs._fields["state"]._description_selection(self.env))
        rows = Markup("").join(
            Markup(
                "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td class='text-end'>%s</td><td>%s</td></tr>"
            )
            % (
                sub.account_number or "",
                sub.plan_id.display_name or "",
                labels[sub.state],
                sub._isp_sale_service_address(),
                format_amount(self.env, sub.recurring_total, sub.currency_id),
                format_date(self.env, sub.next_invoice_date)
                if sub.state in ("active", "suspended")
                else "",
            )
            for sub in subs
        )
        html = Markup(
            "<table class='table table-sm o_isp_sale_subscriptions'><thead><tr>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "<th class='text-end'>%s</th><th>%s</th></tr></thead><tbody>%s"
            "</tbody></table>"
        ) % (
            _("Account"),
            _("Plan"),
            _("State"),
            _("Service address"),
            _("Per period"),
            _("Next invoice"),
            rows,
        )
        if not payments:
            return html + Markup("<p class='text-muted'>%s</p>") % _("No payment yet.")
        payment_rows = Markup("").join(
            Markup(
                "<tr><td>%s</td><td class='text-end'>%s</td><td>%s</td><td>%s</td></tr>"
            )
            % (
                format_date(self.env, payment.date),
                format_amount(self.env, payment.amount, payment.currency_id),
                payment.journal_id.name or "",
                payment.memo or payment.name or "",
            )
            for payment in payments[:PAYMENTS_SHOWN]
        )
        return html + Markup(
            "<table class='table table-sm o_isp_sale_payments'><thead><tr>"
            "<th>%s</th><th class='text-end'>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>%s</tbody></table>"
        ) % (
            _("Paid on"),
            _("Amount"),
            _("Journal"),
            _("Reference"),
            payment_rows,
        )

    def action_isp_sale_summary(self):
        """The smart buttons of sales staff: the customer's internet service
        (subscriptions, balance, overdue, payments) in a read-only dialog.
        ISP staff open the subscriptions themselves."""
        self.ensure_one()
        user = self.env.user
        if not self.env.su and not any(
            user.has_group(group) for group in SUMMARY_GROUPS.split(",")
        ):
            raise AccessError(
                self.env._(
                    "Only sales, ISP and accounting staff may see a customer's "
                    "internet service (%(user)s).",
                    user=user.name,
                )
            )
        self.check_access("read")
        view = self.env.ref("isp_sale.res_partner_view_form_isp_sale_summary")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Internet service of %(customer)s", customer=self.name),
            "res_model": "res.partner",
            "res_id": self.commercial_partner_id.id,
            "views": [(view.id, "form")],
            "target": "new",
            "context": {"create": False, "edit": False},
        }
