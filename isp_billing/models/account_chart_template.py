# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """A company given its chart (and so its sales journal) after the
        add-on is installed hashes its subscription invoices from the start."""
        res = super()._post_load_data(template_code, company, template_data)
        company._isp_secure_invoice_journal()
        return res
