# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_autopay_retry_days = fields.Char(
        string="Auto-pay retries",
        default="1,3,5",
        help="Days after the first charge of an invoice when a declined auto-pay "
        "is tried again, comma-separated. After the last one, reminders take over.",
    )
