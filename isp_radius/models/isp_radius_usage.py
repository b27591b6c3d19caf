# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

BYTES_PER_GB = 10**9


class IspRadiusUsage(models.Model):
    """Data used per RADIUS username and day, imported from FreeRADIUS's
    accounting (``radacct``) by a set-based SQL import.

    Written only by the import's SQL: no create/write audit columns
    (``_log_access = False``), as for other high-volume technical tables."""

    _name = "isp.radius.usage"
    _description = "RADIUS usage per day"
    _order = "date desc, username"
    _rec_name = "username"
    _log_access = False

    # The unique index (company_id, username, date) serves company and
    # username lookups.
    company_id = fields.Many2one("res.company", required=True)
    username = fields.Char(required=True)
    subscription_id = fields.Many2one(
        "isp.subscription",
        index=True,
        ondelete="set null",
        help="Empty: the username matches no subscription (reported, kept).",
    )
    date = fields.Date(required=True, index=True)
    # Float on a numeric column: byte counts outgrow 32-bit integers.
    bytes_in = fields.Float(string="Upload (bytes)", digits=(20, 0), aggregator="sum")
    bytes_out = fields.Float(
        string="Download (bytes)", digits=(20, 0), aggregator="sum"
    )
    session_time = fields.Float(string="Online (s)", digits=(20, 0), aggregator="sum")
    total_gb = fields.Float(
        string="Total (GB)",
        digits=(16, 3),
        aggregator="sum",
        readonly=True,
        help="Upload plus download, 1 GB = 10^9 bytes.",
    )

    _sql_constraints = [
        (
            "username_day_unique",
            "unique(company_id, username, date)",
            "One usage row per username and day.",
        ),
    ]
