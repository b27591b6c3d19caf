# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError

STAFF = "isp_billing.group_isp_user,account.group_account_invoice"


class IspPaymentRiskMixin(models.AbstractModel):
    """The risk columns shared by invoices and subscriptions, written by the
    scoring job only (``isp.payment.risk.service._write_scores``) and shown
    to staff only (never to the subscriber on the portal)."""

    _name = "isp.payment.risk.mixin"
    _description = "Payment-risk columns"

    isp_risk_state = fields.Selection(
        [("scored", "Scored"), ("none", "No score")],
        string="Risk status",
        readonly=True,
        copy=False,
        groups=STAFF,
    )
    isp_risk_probability = fields.Float(
        string="Risk of late payment",
        readonly=True,
        copy=False,
        aggregator="avg",
        groups=STAFF,
        help="Probability that it is paid after its due date plus the grace "
        "days, from what was known on its issue date.",
    )
    isp_risk_days = fields.Integer(
        string="Expected days to pay",
        readonly=True,
        copy=False,
        aggregator="avg",
        groups=STAFF,
        help="Days from the issue date to the payment the model expects.",
    )
    isp_risk_reason_data = fields.Json(readonly=True, copy=False, groups=STAFF)
    isp_risk_reasons = fields.Text(
        string="Why",
        compute="_compute_isp_risk_reasons",
        groups=STAFF,
    )
    isp_risk_model_id = fields.Many2one(
        "isp.payment.risk.model",
        string="Risk model",
        readonly=True,
        copy=False,
        groups=STAFF,
    )
    isp_risk_date = fields.Date(
        string="Risk scored on", readonly=True, copy=False, groups=STAFF
    )

    @api.depends("isp_risk_state", "isp_risk_reason_data")
    def _compute_isp_risk_reasons(self):
        Model = self.env["isp.payment.risk.model"]
        for record in self:
            record.isp_risk_reasons = Model._reasons_text(
                record.isp_risk_state,
                record.isp_risk_reason_data,
                record.isp_risk_model_id,
            )

    def _isp_risk_check_write(self, vals_list):
        """The risk columns are the scoring job's (it writes them in SQL):
        nobody writes them through the ORM, over RPC or otherwise, whatever
        their rights on the invoice or subscription (README: Access)."""
        if self.env.su:
            return
        risk = {
            name
            for name, field in self._fields.items()
            if name.startswith("isp_risk_") and field.groups == STAFF
        }
        written = sorted(set().union(*(risk & set(vals) for vals in vals_list)))
        if written:
            raise AccessError(
                self.env._(
                    "The payment risk is written by the scoring job only (%(fields)s).",
                    fields=", ".join(written),
                )
            )
