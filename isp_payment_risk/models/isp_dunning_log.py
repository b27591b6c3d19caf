# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IspDunningLog(models.Model):
    _inherit = "isp.dunning.log"

    state = fields.Selection(
        selection_add=[("skipped", "Not sent: risk below the step's threshold")],
        ondelete={"skipped": "set default"},
    )
