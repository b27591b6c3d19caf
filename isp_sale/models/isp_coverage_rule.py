# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import api, fields, models


def normalize_city(city):
    """A city as compared: case-insensitive, spaces trimmed and collapsed."""
    return " ".join((city or "").split()).casefold()


def normalize_zip(code):
    """A zip code as compared: upper case, without spaces."""
    return re.sub(r"\s+", "", code or "").upper()


def split_list(text):
    """The items of a list typed as comma- or line-separated text."""
    return [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]


class IspCoverageRule(models.Model):
    _name = "isp.coverage.rule"
    _inherit = "isp.coverage.mixin"
    _description = "ISP coverage rule"
    _order = "area_id, sequence, id"

    area_id = fields.Many2one(
        "isp.coverage.area", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="area_id.company_id", store=True, index=True, precompute=True
    )
    sequence = fields.Integer(default=10)
    country_id = fields.Many2one("res.country", required=True)
    state_id = fields.Many2one(
        "res.country.state",
        string="State",
        domain="[('country_id', '=', country_id)]",
        help="Only addresses in this state (any state when empty).",
    )
    cities = fields.Text(
        help="Only addresses in one of these cities, separated by commas or "
        "lines (any city when empty). Compared without case and extra spaces.",
    )
    zip_codes = fields.Text(
        string="Zip codes",
        help="Only addresses with one of these zip codes, separated by commas "
        "or lines (any zip code when empty). A code ending in * is a prefix: "
        "00* covers 00100 and 00200. Compared without case and spaces.",
    )

    @api.onchange("country_id")
    def _onchange_country_id(self):
        if self.state_id.country_id != self.country_id:
            self.state_id = False

    def _isp_match(self, address):
        """Whether this rule matches ``address`` (see
        ``isp.coverage.area._isp_coverage``): the address is in the rule's
        country and, for each criterion the rule sets, its state is the
        rule's, its city one of the rule's cities, its zip code one of the
        rule's codes (or starts with a code ending in ``*``). A criterion
        the address has no value for is not met."""
        self.ensure_one()
        if address.get("country_id") != self.country_id:
            return False
        if self.state_id and address.get("state_id") != self.state_id:
            return False
        cities = {normalize_city(city) for city in split_list(self.cities)}
        if cities and normalize_city(address.get("city")) not in cities:
            return False
        codes = [normalize_zip(code) for code in split_list(self.zip_codes)]
        if codes:
            value = normalize_zip(address.get("zip"))
            return bool(value) and any(
                value.startswith(code[:-1]) if code.endswith("*") else value == code
                for code in codes
            )
        return True
