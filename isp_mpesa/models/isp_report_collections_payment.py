# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Money by channel: M-PESA payments are *M-PESA STK* (pushed to the
subscriber's phone) or *M-PESA paybill* (a paybill confirmation, C2B), as the
receipt that made them says."""

from odoo import fields, models


class IspReportCollectionsPayment(models.Model):
    _inherit = "isp.report.collections.payment"

    channel = fields.Selection(
        selection_add=[
            ("mpesa_stk", "M-PESA STK push"),
            ("mpesa_paybill", "M-PESA paybill"),
            ("card",),
        ],
        ondelete={
            "mpesa_stk": lambda records: None,
            "mpesa_paybill": lambda records: None,
        },
    )

    def _channel_sql(self):
        # A receipt first reported by a paybill confirmation (C2B) is paybill;
        # STK pushes (also those later confirmed by C2B: "both") are STK.
        return f"""
            CASE WHEN provider.code = 'mpesa' THEN
                     CASE WHEN EXISTS (
                              SELECT 1 FROM isp_mpesa_payment receipt
                               WHERE receipt.transaction_id = tx.id
                                 AND receipt.channel = 'c2b')
                          THEN 'mpesa_paybill' ELSE 'mpesa_stk' END
                 ELSE {super()._channel_sql()} END
        """
