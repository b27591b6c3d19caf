# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Searches of the subscriptions list that need more than a field."""

import re

from odoo import fields, models
from odoo.exceptions import UserError


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    isp_phone = fields.Char(
        string="Phone",
        compute="_compute_isp_phone",
        search="_search_isp_phone",
        help="Search only: the customer's phone or mobile, typed as people write "
        "it (0712 345 678, +254 712 345 678) or any part of it.",
    )

    def _compute_isp_phone(self):
        for sub in self:
            sub.isp_phone = sub.partner_id.mobile or sub.partner_id.phone

    def _search_isp_phone(self, operator, value):
        """Phone numbers are stored in E.164 (``+254712345678``): the typed
        number is reduced to its digits, without a national trunk ``0``,
        and looked for in the customer's phone and mobile (and Odoo's
        sanitized phone, for numbers other modules stored as written)."""
        if operator not in ("ilike", "=") or not isinstance(value, str):
            raise UserError(self.env._("Unsupported search."))
        digits = re.sub(r"\D", "", value)
        if digits.startswith("0"):
            digits = digits[1:]
        if not digits:
            return [("id", "=", False)]
        return [
            "|",
            "|",
            ("partner_id.phone", "ilike", digits),
            ("partner_id.mobile", "ilike", digits),
            ("partner_id.phone_sanitized", "ilike", digits),
        ]
