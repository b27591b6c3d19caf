# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Money by channel (issue #15): an STK push and a paybill payment, through
the Daraja simulator, land in *M-PESA STK push* and *M-PESA paybill*."""

from odoo.tests import tagged

from .common import IspMpesaCommon


@tagged("post_install", "-at_install")
class TestCollectionsChannel(IspMpesaCommon):
    def test_stk_and_paybill_channels(self):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-10-01"), anchor=self.d("2026-10-01")
        )
        self.provider.action_mpesa_register_c2b()
        october = self._bill(sub, self.d("2026-10-01"))
        self._request_payment(october)
        self.deliver()
        self.assertEqual(october.amount_residual, 0.0)
        self.c2b_pay(sub.account_number, 1500, msisdn="254712345678")
        payments = self.payments_of()
        Report = self.env["isp.report.collections.payment"]
        rows = Report.search([("payment_id", "in", payments.ids)])
        self.assertEqual(
            sorted((row.channel, row.amount) for row in rows),
            [("mpesa_paybill", 1500.0), ("mpesa_stk", 2999.0)],
        )
        today = self.env["isp.report.aging"]._aging_date()
        money = self.env["isp.report.collections"]._prepare_money_by_channel(
            "2000-01-01", today
        )[self.kes.id]
        self.assertEqual(money["amounts"]["mpesa_stk"], 2999.0)
        self.assertEqual(money["amounts"]["mpesa_paybill"], 1500.0)
