# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.7.0: the stored MRR ledger (``isp.mrr.ledger``) the MRR report
reads. Its table is created when the module loads; it is filled here from the
event log, after the earlier migrations have completed the log's movements."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["isp.mrr.ledger"]._rebuild()
