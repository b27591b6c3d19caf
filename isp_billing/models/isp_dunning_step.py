# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IspDunningStep(models.Model):
    """One rung of a company's dunning ladder: on a day relative to an
    invoice's due date, remind (email, SMS) and act on the service."""

    _name = "isp.dunning.step"
    _description = "Dunning step"
    _order = "company_id, days, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    days = fields.Integer(
        required=True,
        help="Days relative to the invoice's due date: -3 is three days before, "
        "0 the due date, 7 a week after.",
    )
    channel = fields.Selection(
        [
            ("none", "No message"),
            ("email", "Email"),
            ("sms", "SMS"),
            ("both", "Email and SMS"),
        ],
        required=True,
        default="both",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email template",
        domain="[('model', '=', 'account.move')]",
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS template",
        domain="[('model', '=', 'account.move')]",
    )
    action = fields.Selection(
        [
            ("none", "None"),
            ("throttle", "Throttle"),
            ("suspend", "Suspend"),
            ("terminate", "Terminate"),
        ],
        required=True,
        default="none",
        help="What happens to the invoice's subscriptions. Throttle is applied "
        "by the network add-on (isp_radius) when it is installed.",
    )
    fee_product_id = fields.Many2one(
        "product.product",
        string="Fee",
        help="Charged once on the subscription's next invoice (e.g. a late fee).",
    )

    # === the default ladder === #

    @api.model
    def _default_ladder_values(self, company):
        ref = self.env.ref
        return [
            {
                "name": self.env._("Reminder: due in 3 days"),
                "days": -3,
                "channel": "both",
                "mail_template_id": ref(
                    "isp_billing.mail_template_isp_dunning_reminder"
                ).id,
                "sms_template_id": ref(
                    "isp_billing.sms_template_isp_dunning_reminder"
                ).id,
            },
            {
                "name": self.env._("Due today"),
                "days": 0,
                "channel": "sms",
                "sms_template_id": ref("isp_billing.sms_template_isp_dunning_due").id,
            },
            {
                "name": self.env._("Overdue: 3 days"),
                "days": 3,
                "channel": "both",
                "mail_template_id": ref(
                    "isp_billing.mail_template_isp_dunning_overdue"
                ).id,
                "sms_template_id": ref(
                    "isp_billing.sms_template_isp_dunning_overdue"
                ).id,
            },
            {
                "name": self.env._("Suspension"),
                "days": 7,
                "channel": "sms",
                "action": "suspend",
                "sms_template_id": ref(
                    "isp_billing.sms_template_isp_dunning_suspended"
                ).id,
            },
            {
                "name": self.env._("Termination"),
                "days": 30,
                "channel": "none",
                "action": "terminate",
            },
        ]

    @api.model
    def _ensure_default_ladders(self):
        """Give every company without a ladder the default one."""
        companies = self.env["res.company"].search([])
        have = self.with_context(active_test=False).search([]).company_id
        for company in companies - have:
            self.create(
                [
                    {**vals, "company_id": company.id}
                    for vals in self._default_ladder_values(company)
                ]
            )
        return True

    @api.model
    def _cron_dunning(self, today=None, batch_size=500, date_ref=None):
        """The dunning job (``ISP: dunning ladder``): see
        :meth:`isp.dunning.run._cron_dunning`."""
        return self.env["isp.dunning.run"]._cron_dunning(
            date_ref=date_ref or today, batch_size=batch_size
        )
