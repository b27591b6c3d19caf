# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


def _company_amount(string):
    """An amount in the company's currency (``company_currency_id``)."""
    return fields.Monetary(
        string=string, currency_field="company_currency_id", readonly=True
    )


class IspReportMrrMeasures(models.AbstractModel):
    """The amounts both MRR reports show, one definition for the two:
    ``isp.report.mrr`` (a row per subscription, currency and month) and
    ``isp.report.mrr.month`` (the same summed per company, currency and
    month). MRR at start and at end and each movement, in the row's currency
    and in the company's; the falls positive (README, "Analytics
    definitions"). The reports' SQL views fill the columns."""

    _name = "isp.report.mrr.measures"
    _description = "ISP MRR report amounts"

    currency_id = fields.Many2one("res.currency", readonly=True)
    company_currency_id = fields.Many2one(
        "res.currency", string="Company currency", readonly=True
    )
    mrr_start = fields.Monetary(string="MRR at start", readonly=True)
    new_mrr = fields.Monetary(string="New", readonly=True)
    expansion_mrr = fields.Monetary(string="Expansion", readonly=True)
    contraction_mrr = fields.Monetary(string="Contraction", readonly=True)
    churn_mrr = fields.Monetary(string="Churn", readonly=True)
    reactivation_mrr = fields.Monetary(string="Reactivation", readonly=True)
    transfer_in_mrr = fields.Monetary(string="Transfer in", readonly=True)
    transfer_out_mrr = fields.Monetary(string="Transfer out", readonly=True)
    mrr_end = fields.Monetary(string="MRR at end", readonly=True)
    mrr_start_company = _company_amount("MRR at start (company currency)")
    new_mrr_company = _company_amount("New (company currency)")
    expansion_mrr_company = _company_amount("Expansion (company currency)")
    contraction_mrr_company = _company_amount("Contraction (company currency)")
    churn_mrr_company = _company_amount("Churn (company currency)")
    reactivation_mrr_company = _company_amount("Reactivation (company currency)")
    transfer_in_mrr_company = _company_amount("Transfer in (company currency)")
    transfer_out_mrr_company = _company_amount("Transfer out (company currency)")
    mrr_end_company = _company_amount("MRR at end (company currency)")
