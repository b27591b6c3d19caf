# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .res_partner import SUMMARY_GROUPS

COVERAGE_STATES = [
    ("covered", "Covered"),
    ("not_covered", "Not covered"),
    ("unknown", "Unknown address"),
    ("none", "Not checked"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    isp_coverage_state = fields.Selection(
        COVERAGE_STATES,
        string="Coverage",
        compute="_compute_isp_coverage",
        store=True,
        index=True,
        help="Whether the coverage areas of the lead's company cover its "
        "address: covered by an area; not covered; unknown address (no "
        "country, or neither a city nor a zip code); not checked (the "
        "company has no coverage area).",
    )
    isp_coverage_area_id = fields.Many2one(
        "isp.coverage.area",
        string="Coverage area",
        compute="_compute_isp_coverage",
        store=True,
        index="btree_not_null",
        ondelete="set null",
    )

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

    @api.depends("country_id", "state_id", "city", "zip", "company_id")
    def _compute_isp_coverage(self):
        Area = self.env["isp.coverage.area"]
        for lead in self:
            lead.isp_coverage_state, lead.isp_coverage_area_id = Area._isp_coverage(
                lead._isp_coverage_address(), lead.company_id
            )

    def _isp_coverage_address(self):
        """The service address of the lead, as coverage reads it."""
        self.ensure_one()
        return {
            "country_id": self.country_id,
            "state_id": self.state_id,
            "city": self.city,
            "zip": self.zip,
        }

    @api.model
    def _isp_coverage_recompute(self, companies):
        """Recompute the stored coverage of every lead (archived ones too) of
        ``companies`` and of no company, after their coverage areas changed."""
        leads = (
            self.sudo()
            .with_context(active_test=False)
            .search(
                ["|", ("company_id", "=", False), ("company_id", "in", companies.ids)]
            )
        )
        for name in ("isp_coverage_state", "isp_coverage_area_id"):
            self.env.add_to_compute(self._fields[name], leads)

    def action_isp_sale_summary(self):
        """*Subscriptions* smart button of the lead: its customer's internet
        service (see ``res.partner.action_isp_sale_summary``)."""
        self.ensure_one()
        self.check_access("read")
        return self.partner_id.action_isp_sale_summary()
