# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspDunningLog(models.Model):
    """What the dunning ladder did, once per invoice and step (append-only)."""

    _name = "isp.dunning.log"
    _description = "Dunning history"
    _order = "date desc, id desc"

    invoice_id = fields.Many2one(
        "account.move", required=True, readonly=True, ondelete="cascade", index=True
    )
    step_id = fields.Many2one(
        "isp.dunning.step", required=True, readonly=True, ondelete="restrict"
    )
    subscription_id = fields.Many2one(
        "isp.subscription", readonly=True, index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one("res.partner", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(required=True, readonly=True)
    state = fields.Selection([("done", "Done")], default="done", readonly=True)
    email_state = fields.Selection(
        [("queued", "Queued"), ("skipped", "Skipped")], string="Email", readonly=True
    )
    sms_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("failed", "Not delivered"),
            ("skipped", "Skipped"),
        ],
        string="SMS",
        readonly=True,
        help="Queued, then what the SMS provider answered: sent, or not "
        "delivered (the reason in the note).",
    )
    action_done = fields.Selection(
        [
            ("throttle", "Throttled"),
            ("suspend", "Suspended"),
            ("terminate", "Terminated"),
        ],
        string="Action",
        readonly=True,
    )
    note = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "invoice_step_unique",
            "unique(invoice_id, step_id)",
            "A dunning step runs once per invoice.",
        )
    ]
