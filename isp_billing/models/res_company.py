# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


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
        help="Send every posted subscription invoice by email with its portal "
        "link, through Odoo's invoice sending.",
    )
    isp_invoice_sending = fields.Selection(
        [
            ("pdf", "PDF attached (Odoo's sending)"),
            ("link", "Portal link; PDF made on first download"),
        ],
        string="Invoice e-mails",
        required=True,
        default="link",
        help="PDF attached: Odoo's sending renders each invoice's PDF and attaches "
        "it (about one invoice a second). Portal link: the e-mail goes out at once "
        "with the link to the invoice; its PDF is made the first time someone "
        "opens it (portal, Print, Send) and kept as the invoice's PDF.",
    )
    isp_promise_days = fields.Integer(
        string="Promise to pay: days",
        default=7,
        help="A subscriber (portal) or staff can extend service by this many days, "
        "once per billing period; the dunning ladder waits meanwhile. 0: off.",
    )
    isp_reconnection_fee_product_id = fields.Many2one(
        "product.product",
        string="Reconnection fee",
        help="Charged once on the next invoice when a subscription suspended for "
        "non-payment is reconnected.",
    )
    # === SMS === #
    isp_sms_gateway = fields.Selection(
        [
            ("odoo", "Odoo SMS (IAP)"),
            ("africastalking", "Africa's Talking"),
        ],
        string="SMS gateway",
        required=True,
        default="odoo",
        help="Odoo SMS: Odoo's paid SMS service (IAP credits). Africa's Talking: "
        "straight to your own Africa's Talking account, with your own sender ID.",
    )
    isp_sms_at_username = fields.Char(
        string="Africa's Talking username",
        help="The username of your Africa's Talking app; 'sandbox' for the "
        "sandbox app.",
    )
    isp_sms_at_api_key = fields.Char(
        string="Africa's Talking API key",
        groups="base.group_system",
        copy=False,
    )
    isp_sms_sender_id = fields.Char(
        string="SMS sender ID",
        help="Your registered alphanumeric sender ID or short code. Empty: "
        "Africa's Talking's default sender.",
    )
    isp_sms_at_base_url = fields.Char(
        string="Africa's Talking API URL",
        default="https://api.africastalking.com",
        help="https://api.africastalking.com (live) or "
        "https://api.sandbox.africastalking.com (sandbox).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        if self.env.ref(
            "isp_billing.sms_template_isp_dunning_reminder", raise_if_not_found=False
        ):
            self.env["isp.dunning.step"].sudo()._ensure_default_ladders()
        return companies
