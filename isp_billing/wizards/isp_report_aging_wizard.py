# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import AccessError


class IspReportAgingWizard(models.TransientModel):
    """*ISP → Reporting → Receivables aging*: choose the as-of date, then open
    the aging (pivot, list) or print the aged balance (PDF)."""

    _name = "isp.report.aging.wizard"
    _description = "Receivables aging: as of"

    date_at = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="What customers owed at the end of this day: items posted and "
        "payments matched on or before it; days past due counted to it.",
    )

    def _check_aging_access(self):
        if not self.env["isp.report.aging.line"].has_access("read"):
            raise AccessError(
                self.env._("Only accounting users may see the receivables aging.")
            )

    def action_open(self):
        self.ensure_one()
        self._check_aging_access()
        return self.env["isp.report.aging.line"]._isp_action(self.date_at)

    def action_print(self):
        self.ensure_one()
        self._check_aging_access()
        return self.env.ref("isp_billing.action_report_isp_aged_balance").report_action(
            self, data={"date_at": fields.Date.to_string(self.date_at)}
        )
