# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .isp_radius_usage import human_bytes, human_duration


class IspRadiusSession(models.Model):
    """Odoo's copy of a RADIUS accounting session that was open (or closed
    within the import's overlap) when it was imported: its totals are what the
    next import subtracts, so each byte is counted once. Sessions that were
    already closed for good when first read are added to the usage without a
    row here (their history stays in ``radacct``).

    A ledger written by the import's SQL, never by users: no create/write
    audit columns (``_log_access = False``)."""

    _name = "isp.radius.session"
    _description = "RADIUS session"
    _order = "date_start desc, id desc"
    _rec_name = "session_id"
    _log_access = False

    # The unique index (company_id, unique_id) serves company lookups.
    company_id = fields.Many2one("res.company", required=True)
    unique_id = fields.Char(required=True, help="radacct.acctuniqueid")
    username = fields.Char(required=True, index=True)
    subscription_id = fields.Many2one(
        "isp.subscription", index=True, ondelete="set null"
    )
    nas_ip = fields.Char(string="NAS")
    session_id = fields.Char(string="Session")
    framed_ip = fields.Char(string="IP address")
    date_start = fields.Datetime(string="Started")
    date_update = fields.Datetime(string="Last update")
    date_stop = fields.Datetime(string="Stopped")
    bytes_in = fields.Float(string="Upload (bytes)", digits=(20, 0))
    bytes_out = fields.Float(string="Download (bytes)", digits=(20, 0))
    session_time = fields.Float(string="Online (s)", digits=(20, 0))
    terminate_cause = fields.Char(string="Terminate cause")
    online = fields.Boolean(compute="_compute_online", search="_search_online")
    upload_display = fields.Char(string="Upload", compute="_compute_display")
    download_display = fields.Char(string="Download", compute="_compute_display")
    session_time_display = fields.Char(string="Time online", compute="_compute_display")

    _sql_constraints = [
        (
            "unique_id_company_unique",
            "unique(company_id, unique_id)",
            "One row per accounting session.",
        ),
    ]

    @api.depends("bytes_in", "bytes_out", "session_time")
    @api.depends_context("lang")
    def _compute_display(self):
        for session in self:
            session.upload_display = human_bytes(self.env, session.bytes_in)
            session.download_display = human_bytes(self.env, session.bytes_out)
            session.session_time_display = human_duration(
                self.env, session.session_time
            )

    def _compute_online(self):
        for session in self:
            session.online = not session.date_stop

    def _search_online(self, operator, value):
        online = (operator == "=") == bool(value)
        return [("date_stop", "=" if online else "!=", False)]
