# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The M-PESA tiles of the ISP dashboard, on payments made through the
Daraja simulator: each figure counted by hand, each click-through listing
exactly the records counted."""

from odoo.tests import tagged

from .common import IspMpesaCommon

INBOX_LOGGER = "odoo.addons.isp_mpesa.models.isp_mpesa_callback"


@tagged("post_install", "-at_install")
class TestDashboardMpesa(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("mpdash")

    def test_unmatched_payments_and_failed_callbacks(self):
        """Two paybill payments to accounts nobody has (150.00 + 250.00 =
        400.00 to assign), one matched to a subscriber (not counted), one
        callback whose body was damaged (failed)."""
        self.provider.action_mpesa_register_c2b()
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self.c2b_pay("NOBODY-1", 150)
        self.c2b_pay("NOBODY-2", 250)
        self.c2b_pay(sub.account_number, 1000)
        self.env["isp.mpesa.callback"]._mpesa_store(
            self.provider, "c2b", "DMG7654321", '{"TransID": "DMG7654321"}'
        )
        with self.assertLogs(INBOX_LOGGER, "ERROR"):
            self.run_post_processing()
        dashboard = self.env["isp.dashboard"].with_user(self.isp_user)
        for filters in ({}, {"plan_id": self.plan_business.id}):
            tiles = {
                tile["key"]: tile
                for tile in dashboard.get_dashboard_data(filters)["tiles"]
            }
            unmatched = tiles["mpesa_unmatched"]
            self.assertEqual(unmatched["value"], 2)
            self.assertEqual(unmatched["amount"], 400.0)
            self.assertFalse(unmatched["by_plan"])
            self.assertEqual(tiles["mpesa_failed_callbacks"]["value"], 1)
            for key in ("mpesa_unmatched", "mpesa_failed_callbacks"):
                action = tiles[key]["action"]
                records = (
                    self.env[action["res_model"]]
                    .with_user(self.isp_user)
                    .search(action["domain"])
                )
                self.assertEqual(len(records), tiles[key]["value"], key)
            self.assertEqual(
                sorted(records.mapped("key")), ["DMG7654321"], "the failed one"
            )
