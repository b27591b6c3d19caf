# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import formatLang

BYTES_PER_GB = 10**9
# Decimal units, as the allowances (1 GB = 10^9 bytes).
BYTE_UNITS = (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def human_bytes(env, count):
    """``count`` bytes in the largest decimal unit it reaches, two decimals in
    the user's language: ``1.54 GB``, ``812.30 MB``, ``512 B``."""
    count = count or 0.0
    for unit, size in BYTE_UNITS:
        if abs(count) >= size:
            return f"{formatLang(env, count / size, digits=2)} {unit}"
    return f"{formatLang(env, count, digits=0)} B"


def human_duration(env, seconds):
    """``seconds`` online as hours and minutes (``2 h 05 min``), or days and
    hours from one day on (``3 d 4 h``)."""
    minutes = int(seconds or 0) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return env._("%(days)s d %(hours)s h", days=days, hours=hours)
    return env._("%(hours)s h %(minutes)02d min", hours=hours, minutes=minutes)


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

    username = fields.Char(required=True)
    subscription_id = fields.Many2one(
        "isp.subscription",
        index=True,
        ondelete="set null",
        help="Empty: the username matches no subscription (reported, kept).",
    )
    # A usage row's company is its subscription's. Only a row without one
    # stores the company whose RADIUS database it came from: the import
    # inserts hundreds of thousands of rows at once, and a stored company on
    # every row is a second foreign-key check per row (a third of the cost
    # of the insert, docs/benchmarks.md).
    unmatched_company_id = fields.Many2one(
        "res.company",
        string="Company of the unmatched username",
        readonly=True,
        help="Set only when the username matches no subscription.",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        search="_search_company_id",
        help="The subscription's company, or the company whose RADIUS "
        "database reported an unmatched username.",
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
    upload_display = fields.Char(string="Upload", compute="_compute_display")
    download_display = fields.Char(string="Download", compute="_compute_display")
    session_time_display = fields.Char(string="Time online", compute="_compute_display")

    # One row per subscription (or unmatched username and company) and day;
    # the import finds rows by username and day, the first two columns.
    _sql_constraints = [
        (
            "username_day_unique",
            "unique nulls not distinct "
            "(username, date, subscription_id, unmatched_company_id)",
            "One usage row per username and day.",
        ),
    ]

    @api.depends("bytes_in", "bytes_out", "session_time")
    @api.depends_context("lang")
    def _compute_display(self):
        for usage in self:
            usage.upload_display = human_bytes(self.env, usage.bytes_in)
            usage.download_display = human_bytes(self.env, usage.bytes_out)
            usage.session_time_display = human_duration(self.env, usage.session_time)

    @api.depends("subscription_id.company_id", "unmatched_company_id")
    def _compute_company_id(self):
        for usage in self:
            usage.company_id = (
                usage.subscription_id.company_id or usage.unmatched_company_id
            )

    def _search_company_id(self, operator, value):
        return [
            "|",
            "&",
            ("subscription_id", "!=", False),
            ("subscription_id.company_id", operator, value),
            "&",
            ("subscription_id", "=", False),
            ("unmatched_company_id", operator, value),
        ]
