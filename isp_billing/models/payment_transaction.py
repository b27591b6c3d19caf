# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    isp_subscription_id = fields.Many2one(
        "isp.subscription",
        string="Balance of subscription",
        readonly=True,
        index="btree_not_null",
        help="Set when the transaction pays the customer's whole balance "
        "(Pay now on the subscription page).",
    )

    def _post_process(self):
        """Once a balance payment is recorded, the customer's open credit
        notes and unallocated payments are reconciled too, oldest invoice
        first, so that the invoices the balance covered are all paid."""
        res = super()._post_process()
        for tx in self.filtered(
            lambda tx: tx.state == "done" and tx.isp_subscription_id and tx.payment_id
        ):
            tx.isp_subscription_id.sudo()._isp_allocate_balance()
        return res
