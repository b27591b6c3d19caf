# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspBillingWizardLine(models.TransientModel):
    _name = "isp.billing.wizard.line"
    _description = "ISP billing preview line"

    wizard_id = fields.Many2one("isp.billing.wizard", required=True, ondelete="cascade")
    subscription_id = fields.Many2one("isp.subscription", readonly=True)
    move_type = fields.Selection(
        [("out_invoice", "Invoice"), ("out_refund", "Credit note")], readonly=True
    )
    name = fields.Text(string="Description", readonly=True)
    quantity = fields.Float(readonly=True)
    price_unit = fields.Float(string="Unit price", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    price_subtotal = fields.Monetary(string="Untaxed", readonly=True)
    price_total = fields.Monetary(string="Total", readonly=True)
