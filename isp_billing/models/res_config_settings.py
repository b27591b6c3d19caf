# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_journal_id = fields.Many2one(
        related="company_id.isp_journal_id", readonly=False
    )
    isp_termination_credit = fields.Boolean(
        related="company_id.isp_termination_credit", readonly=False
    )
    isp_send_invoices = fields.Boolean(
        related="company_id.isp_send_invoices", readonly=False
    )
    isp_invoice_sending = fields.Selection(
        related="company_id.isp_invoice_sending", readonly=False
    )
    isp_promise_days = fields.Integer(
        related="company_id.isp_promise_days", readonly=False
    )
    isp_reconnection_fee_product_id = fields.Many2one(
        related="company_id.isp_reconnection_fee_product_id", readonly=False
    )
    isp_autopay_retry_days = fields.Char(
        related="company_id.isp_autopay_retry_days", readonly=False
    )
    isp_sms_gateway = fields.Selection(
        related="company_id.isp_sms_gateway", readonly=False
    )
    isp_sms_at_username = fields.Char(
        related="company_id.isp_sms_at_username", readonly=False
    )
    isp_sms_at_api_key = fields.Char(
        related="company_id.isp_sms_at_api_key",
        readonly=False,
        groups="base.group_system",
    )
    isp_sms_sender_id = fields.Char(
        related="company_id.isp_sms_sender_id", readonly=False
    )
    isp_sms_at_base_url = fields.Char(
        related="company_id.isp_sms_at_base_url", readonly=False
    )
