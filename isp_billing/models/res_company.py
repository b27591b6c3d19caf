# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_journal_id = fields.Many2one(
        "account.journal",
        string="ISP invoices journal",
        domain="[('type', '=', 'sale'), ('company_id', '=', id)]",
        help="Sales journal of subscription invoices. Empty: the company's first "
        "sales journal.",
    )
    isp_termination_credit = fields.Boolean(
        string="Credit unused days on termination",
        default=True,
        help="When a subscription ends inside a period it already paid for, issue a "
        "credit note for the unused days.",
    )
    isp_send_invoices = fields.Boolean(
        string="Email new invoices",
        default=True,
        help="Send every posted subscription invoice by email with its PDF and portal "
        "link, through Odoo's invoice sending.",
    )
