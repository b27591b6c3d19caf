# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class IspCoverageMixin(models.AbstractModel):
    """What the coverage areas and their rules share: the leads' stored
    coverage follows them. Creating, changing or deleting an area or a rule
    recomputes it for the leads of the companies the records belonged to
    before the change and belong to after it (``crm.lead``
    ``_isp_coverage_recompute``). The inheriting model has a ``company_id``."""

    _name = "isp.coverage.mixin"
    _description = "ISP coverage that the leads follow"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["crm.lead"]._isp_coverage_recompute(records.company_id)
        return records

    def write(self, vals):
        companies = self.company_id
        res = super().write(vals)
        self.env["crm.lead"]._isp_coverage_recompute(companies | self.company_id)
        return res

    def unlink(self):
        companies = self.company_id
        res = super().unlink()
        self.env["crm.lead"]._isp_coverage_recompute(companies)
        return res
