# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_autopay_retry_days = fields.Char(
        string="Auto-pay retries",
        default="1,3,5",
        help="Days after the first charge of an invoice when a declined auto-pay "
        "is tried again, comma-separated. After the last one, reminders take over.",
    )

    @api.constrains("isp_autopay_retry_days")
    def _check_isp_autopay_retry_days(self):
        for company in self:
            text = (company.isp_autopay_retry_days or "").strip()
            if not text:
                continue
            parts = [part.strip() for part in text.split(",")]
            days = [int(part) for part in parts if re.fullmatch(r"[0-9]{1,3}", part)]
            if len(days) != len(parts) or not all(days) or days != sorted(set(days)):
                raise ValidationError(
                    self.env._(
                        "Auto-pay retries must be days after the first charge, in "
                        "increasing order and separated by commas (e.g. 1,3,5), "
                        "not %(value)s.",
                        value=text,
                    )
                )
