# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where the ISP can connect a line: coverage areas of a company, each a list
of rules on the service address (country, state, cities, zip codes). The
matching rule is written in isp_sale/README.md (*Coverage*)."""

from odoo import api, fields, models


class IspCoverageArea(models.Model):
    _name = "isp.coverage.area"
    _inherit = "isp.coverage.mixin"
    _description = "ISP coverage area"
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    rule_ids = fields.One2many(
        "isp.coverage.rule",
        "area_id",
        string="Rules",
        copy=True,
        help="The area covers an address when one of its rules matches it.",
    )
    note = fields.Text(string="Notes")

    # ------------------------------------------------------------------
    # Matching (writes nothing)
    # ------------------------------------------------------------------

    def _isp_match(self, address):
        """Whether one of this area's rules matches ``address``."""
        self.ensure_one()
        return any(rule._isp_match(address) for rule in self.rule_ids)

    @api.model
    def _isp_coverage(self, address, companies):
        """The coverage of ``address`` by the active areas of ``companies``
        (every company's when empty), read as the superuser. Writes nothing.

        :param dict address: ``country_id``, ``state_id`` (records, maybe
            empty), ``city``, ``zip`` (strings or False)
        :return: ``(state, area)``: ``("none", empty)`` when there is no
            area; ``("unknown", empty)`` when the address has no country,
            or neither a city nor a zip code; ``("covered", area)`` for the
            first area (by sequence, then name) with a rule that matches;
            else ``("not_covered", empty)``
        """
        domain = [("company_id", "in", companies.ids)] if companies else []
        areas = self.sudo().with_context(active_test=True).search(domain)
        if not areas:
            return "none", self.browse()
        if not address.get("country_id") or not (
            (address.get("city") or "").strip() or (address.get("zip") or "").strip()
        ):
            return "unknown", self.browse()
        for area in areas:
            if area._isp_match(address):
                return "covered", area.with_env(self.env)
        return "not_covered", self.browse()
