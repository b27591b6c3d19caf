# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Africa's Talking HTTP client alone (no ``sms.sms``), against the local
Africa's Talking simulator of the repository's tests/."""

from odoo.tests import BaseCase, tagged

from odoo.addons.isp_billing.tools.africastalking_api import (
    AfricasTalkingApi,
    GatewayUnavailable,
)

from .test_sms_gateway import sms_gateway_simulator_module


@tagged("post_install", "-at_install")
class TestAfricasTalkingApi(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        simulator = sms_gateway_simulator_module().SmsGatewaySimulator
        cls.sim = simulator(username="kenya-isp", api_key="at-key-123")
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)

    def setUp(self):
        super().setUp()
        if not self.sim.is_up:
            self.sim.up()
        self.sim.reset()
        self.api = AfricasTalkingApi(
            self.sim.base_url + "/", "kenya-isp", "at-key-123", "KENYAISP"
        )

    def test_answers_by_number(self):
        """One request for all numbers; each number's entries by its digits,
        a number sent twice has two."""
        self.sim.number_status["+254700000403"] = 403
        numbers = ["+254712345678", "+254700000403", "+254712345678"]
        status, by_number = self.api.send_sms(numbers, "Habari")
        self.assertEqual(status, "ok")
        self.assertEqual(len(self.sim.requests), 1)
        self.assertEqual(self.sim.sent_to("+254712345678"), ["Habari", "Habari"])
        self.assertEqual(sorted(by_number), ["254700000403", "254712345678"])
        self.assertEqual(len(by_number["254712345678"]), 2)
        outcomes = [
            AfricasTalkingApi.recipient_outcome(recipient)
            for recipient in by_number["254700000403"] + by_number["254712345678"]
        ]
        self.assertEqual(
            outcomes,
            [
                ("error", "sms_number_format", "403 InvalidPhoneNumber"),
                ("sent", False, "101 Success"),
                ("sent", False, "101 Success"),
            ],
        )
        self.assertTrue(by_number["254712345678"][0]["messageId"])

    def test_recipient_outcome(self):
        outcome = AfricasTalkingApi.recipient_outcome
        self.assertEqual(
            outcome({"statusCode": 500, "status": "InternalServerError"}),
            ("retry", False, "500 InternalServerError"),
        )
        self.assertEqual(
            outcome({"statusCode": 406, "status": "UserInBlacklist"}),
            ("error", "sms_blacklist", "406 UserInBlacklist"),
        )
        self.assertEqual(
            outcome({"statusCode": "x"}), ("error", "unknown", "0"), "unreadable"
        )

    def test_refused_credentials(self):
        api = AfricasTalkingApi(self.sim.base_url, "kenya-isp", "wrong-key")
        self.assertEqual(api.send_sms(["+254712345678"], "Habari"), ("auth", None))
        self.assertFalse(self.sim.messages)

    def test_gateway_unavailable(self):
        self.sim.http_error = 503
        with self.assertRaisesRegex(GatewayUnavailable, "^HTTP 503$"):
            self.api.send_sms(["+254712345678"], "Habari")
        self.sim.http_error = None
        self.sim.down()
        with self.assertRaisesRegex(GatewayUnavailable, "^ConnectionError$"):
            self.api.send_sms(["+254712345678"], "Habari")
