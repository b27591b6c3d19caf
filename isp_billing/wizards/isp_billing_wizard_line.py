# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspBillingWizardLine(models.TransientModel):
    """One document the billing run would post (the preview)."""

    _name = "isp.billing.wizard.line"
    _description = "ISP billing preview document"

    wizard_id = fields.Many2one("isp.billing.wizard", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    origin = fields.Char(string="Subscriptions", readonly=True)
    move_type = fields.Selection(
        [("out_invoice", "Invoice"), ("out_refund", "Credit note")],
        string="Document type",
        readonly=True,
    )
    name = fields.Text(string="Lines", readonly=True)
    period_start = fields.Date(string="From", readonly=True)
    period_end = fields.Date(string="Until (excluded)", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_untaxed = fields.Monetary(string="Untaxed", readonly=True)
    amount_tax = fields.Monetary(string="Taxes", readonly=True)
    amount_total = fields.Monetary(string="Total", readonly=True)
