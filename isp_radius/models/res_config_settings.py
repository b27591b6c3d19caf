# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_radius_dsn = fields.Char(related="company_id.isp_radius_dsn", readonly=False)
    isp_radius_suspend_policy = fields.Selection(
        related="company_id.isp_radius_suspend_policy", readonly=False
    )
    isp_radius_garden_mbps = fields.Float(
        related="company_id.isp_radius_garden_mbps", readonly=False
    )
    isp_radius_throttle_mbps = fields.Float(
        related="company_id.isp_radius_throttle_mbps", readonly=False
    )
    isp_radius_near_cap_percent = fields.Integer(
        related="company_id.isp_radius_near_cap_percent", readonly=False
    )
    isp_radius_garden_pool = fields.Char(
        related="company_id.isp_radius_garden_pool", readonly=False
    )
    isp_radius_garden_address_list = fields.Char(
        related="company_id.isp_radius_garden_address_list", readonly=False
    )
    isp_radius_interim_interval = fields.Integer(
        related="company_id.isp_radius_interim_interval", readonly=False
    )
    isp_radius_stale_minutes = fields.Integer(
        related="company_id.isp_radius_stale_minutes", readonly=False
    )
    isp_radius_coa_enabled = fields.Boolean(
        related="company_id.isp_radius_coa_enabled", readonly=False
    )
    isp_radius_coa_timeout = fields.Integer(
        related="company_id.isp_radius_coa_timeout", readonly=False
    )
    isp_radius_coa_retries = fields.Integer(
        related="company_id.isp_radius_coa_retries", readonly=False
    )
    isp_radius_last_reconcile = fields.Char(
        related="company_id.isp_radius_last_reconcile"
    )

    def action_isp_radius_test_connection(self):
        """Connect to the FreeRADIUS database and check its standard tables.
        Administrators (Settings) only: it uses the connection string."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only administrators can test the FreeRADIUS connection.")
            )
        self.ensure_one()
        self.execute()
        with self.env["isp.radius"]._radius_connection(self.company_id) as cursor:
            cursor.execute(
                """SELECT count(*) FROM information_schema.tables
                    WHERE table_name IN ('radcheck', 'radreply', 'radusergroup',
                                         'radgroupcheck', 'radgroupreply',
                                         'radacct', 'nas')"""
            )
            found = cursor.fetchone()[0]
        if found != 7:
            raise UserError(
                self.env._(
                    "Connected, but this is not FreeRADIUS's SQL schema: %(found)s of "
                    "its 7 tables found.",
                    found=found,
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Connected to the FreeRADIUS database."),
            },
        }

    def action_isp_radius_reconcile(self):
        """Save the settings, run the reconciliation job now and show its outcome
        for the current company. ISP managers and administrators only; only
        administrators' settings are saved first."""
        user = self.env.user
        if not (
            user.has_group("isp_billing.group_isp_manager")
            or user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._(
                    "Only ISP managers and administrators can reconcile FreeRADIUS."
                )
            )
        self.ensure_one()
        if self.env.is_admin():
            self.execute()
        # Settings records are the administrators' (ACL): an ISP manager's
        # call reads the company through sudo, one of the caller's companies.
        company = self.sudo().company_id
        if company not in self.env.user.company_ids:
            raise AccessError(
                self.env._("You cannot reconcile another company's FreeRADIUS.")
            )
        if not company.isp_radius_dsn:
            raise UserError(
                self.env._(
                    "No FreeRADIUS database is set for %(company)s.",
                    company=company.name,
                )
            )
        self.env["isp.subscription"].sudo()._radius_reconcile_company(company)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("FreeRADIUS reconciliation"),
                "message": company.isp_radius_last_reconcile or "",
                # Reload the settings to show the new "Last reconciliation".
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
