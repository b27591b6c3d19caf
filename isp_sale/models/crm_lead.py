# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .res_partner import SUMMARY_GROUPS


class CrmLead(models.Model):
    _inherit = "crm.lead"

    isp_sale_subscription_count = fields.Integer(
        related="partner_id.isp_sale_subscription_count", groups=SUMMARY_GROUPS
    )
    isp_sale_currency_id = fields.Many2one(
        related="partner_id.isp_sale_currency_id", groups=SUMMARY_GROUPS
    )
    isp_sale_balance = fields.Monetary(
        related="partner_id.isp_sale_balance",
        currency_field="isp_sale_currency_id",
        groups=SUMMARY_GROUPS,
    )
    isp_sale_amount_overdue = fields.Monetary(
        related="partner_id.isp_sale_amount_overdue",
        currency_field="isp_sale_currency_id",
        groups=SUMMARY_GROUPS,
    )
    isp_sale_summary = fields.Html(
        related="partner_id.isp_sale_summary", groups=SUMMARY_GROUPS
    )

    def action_isp_sale_summary(self):
        """*Subscriptions* smart button of the lead: its customer's internet
        service (see ``res.partner.action_isp_sale_summary``)."""
        self.ensure_one()
        self.check_access("read")
        return self.partner_id.action_isp_sale_summary()
