# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ipaddress

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class IspRadiusNas(models.Model):
    """A NAS (router, BRAS, hotspot controller) that asks FreeRADIUS and takes
    CoA / Disconnect requests. Synced to FreeRADIUS's ``nas`` table."""

    _name = "isp.radius.nas"
    _description = "RADIUS NAS"
    _order = "name"

    name = fields.Char(required=True)
    ip_address = fields.Char(string="IP address", required=True)
    secret = fields.Char(
        string="Shared secret", required=True, groups="isp_billing.group_isp_manager"
    )
    nas_type = fields.Selection(
        [("mikrotik", "MikroTik"), ("cisco", "Cisco"), ("other", "Other")],
        string="Type",
        default="other",
        required=True,
    )
    coa_port = fields.Integer(string="CoA port", default=3799, required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "ip_company_unique",
            "unique(ip_address, company_id)",
            "A NAS with this IP address already exists.",
        ),
    ]

    @api.constrains("ip_address", "coa_port")
    def _check_address(self):
        for nas in self:
            try:
                ipaddress.ip_address(nas.ip_address)
            except ValueError as error:
                raise ValidationError(
                    self.env._("%(ip)s is not an IP address.", ip=nas.ip_address)
                ) from error
            if not 0 < nas.coa_port < 65536:
                raise ValidationError(self.env._("The CoA port must be 1 to 65535."))
