# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_radius_dsn = fields.Char(
        string="FreeRADIUS database",
        groups="base.group_system",
        help="libpq connection string of FreeRADIUS's SQL database, e.g. "
        "'host=radius-db port=5432 dbname=radius user=odoo password=...'.",
    )
    isp_radius_suspend_policy = fields.Selection(
        [
            ("reject", "Reject the login"),
            ("walled_garden", "Walled garden"),
        ],
        string="Suspended subscribers",
        default="reject",
        required=True,
    )
    isp_radius_garden_mbps = fields.Float(
        string="Walled garden speed (Mbps)", default=0.25, digits=(12, 2)
    )
    isp_radius_throttle_mbps = fields.Float(
        string="Speed when slowed down for non-payment (Mbps)",
        default=1.0,
        digits=(12, 2),
        help="The dunning ladder's throttle step: download and upload speed "
        "until the overdue invoices are paid.",
    )
    isp_radius_near_cap_percent = fields.Integer(
        string="Near the data cap at (%)",
        default=80,
        help="Share of the period's allowance (plan + top-ups) from which the "
        "subscriber gets the usage alert e-mail and the portal offers a data "
        "top-up.",
    )
    isp_radius_garden_pool = fields.Char(
        string="Walled garden address pool", help="Framed-Pool of suspended logins."
    )
    isp_radius_garden_address_list = fields.Char(
        string="Walled garden address list",
        help="MikroTik address list (Mikrotik-Address-List) of suspended logins.",
    )
    isp_radius_interim_interval = fields.Integer(
        string="Accounting interim interval (s)", default=300
    )
    isp_radius_stale_minutes = fields.Integer(
        string="Stale session after (min)",
        default=15,
        help="An open session without accounting for this long is closed.",
    )
    isp_radius_coa_enabled = fields.Boolean(
        string="Send CoA / Disconnect",
        default=True,
        help="Tell live sessions of plan changes and suspensions. Off in a "
        "neutralised copy of the database: nothing is sent to any NAS.",
    )
    isp_radius_coa_timeout = fields.Integer(string="CoA timeout (s)", default=2)
    isp_radius_coa_retries = fields.Integer(string="CoA tries", default=2)
    isp_radius_last_reconcile = fields.Char(
        string="Last reconciliation", readonly=True, copy=False
    )
    isp_radius_import_watermark = fields.Datetime(
        string="Accounting imported until", readonly=True, copy=False
    )
    # radacct.radacctid is a bigint: a numeric column, exact.
    isp_radius_import_max_id = fields.Float(
        string="Last radacct id imported",
        digits=(20, 0),
        readonly=True,
        copy=False,
        help="The highest radacct id any import has read: only sessions up to "
        "it can have a row in Odoo's session ledger.",
    )

    @api.constrains("isp_radius_near_cap_percent")
    def _check_isp_radius_near_cap_percent(self):
        for company in self:
            if not 1 <= company.isp_radius_near_cap_percent <= 100:
                raise ValidationError(
                    self.env._("Near the data cap: a share from 1 to 100 %.")
                )
