# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SMS of the dunning ladder through a company's own Africa's Talking account,
against the local Africa's Talking simulator of the repository's tests/."""

import logging
import sys
from pathlib import Path

from freezegun import freeze_time

from odoo.tests import tagged

from .common import IspBillingCommon

REPO_TESTS = Path(__file__).resolve().parents[2] / "tests"
SMS_LOGGER = "odoo.addons.isp_billing.models.sms_sms"
NUMBER = "+254712345678"  # the customer's "0712 345 678"


def sms_gateway_simulator_module():
    """The Africa's Talking simulator of the repository's tests/."""
    if str(REPO_TESTS) not in sys.path:
        sys.path.insert(0, str(REPO_TESTS))
    import sms_gateway_simulator  # noqa: PLC0415

    return sms_gateway_simulator


@tagged("post_install", "-at_install")
class TestSmsGateway(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        simulator = sms_gateway_simulator_module().SmsGatewaySimulator
        cls.sim = simulator(username="kenya-isp", api_key="at-key-123")
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        cls.company.write(
            {
                "isp_sms_gateway": "africastalking",
                "isp_sms_at_username": "kenya-isp",
                "isp_sms_at_api_key": "at-key-123",
                "isp_sms_sender_id": "KENYAISP",
                "isp_sms_at_base_url": cls.sim.base_url,
            }
        )
        cls._setup_dunning()
        # The queue job runs in the main company, which keeps Odoo's SMS (IAP):
        # each SMS goes through its own company's gateway all the same.
        cls.main_company = cls.env.ref("base.main_company")
        cls.main_company.isp_sms_gateway = "odoo"

    def setUp(self):
        super().setUp()
        if not self.sim.is_up:
            self.sim.up()
        self.sim.reset()

    # --- helpers ----------------------------------------------------------------

    def _customer(self, name, mobile, **vals):
        return self.env["res.partner"].create(
            {
                "name": name,
                "email": f"{name.split()[0].lower()}@example.com",
                "country_id": self.kenya.id,
                "mobile": mobile,
                **vals,
            }
        )

    def run_ladder(self, day):
        with freeze_time(f"{day} 08:00:00"):
            return self.env["isp.dunning.step"]._cron_dunning(today=self.d(day))

    def run_sms_queue(self):
        """What the job *SMS: SMS Queue Manager* does, as it runs: superuser,
        main company."""
        self.env["sms.sms"].sudo().with_company(self.main_company)._process_queue()

    def sms_to(self, number):
        return self.env["sms.sms"].search([("number", "=", number)], order="id")

    def outcome(self, sms):
        return (sms.state, sms.failure_type, sms.isp_gateway_status)

    # --- tests --------------------------------------------------------------------

    def test_ladder_sms_sent_through_africastalking(self):
        """The reminder goes to Africa's Talking with the company's account and
        sender ID; the gateway's answer becomes the SMS's state."""
        sub, invoice = self._dunning_subscription()
        self.run_ladder("2026-11-13")
        sms = self.sms_to(NUMBER)
        self.assertEqual((sms.state, sms.isp_company_id), ("outgoing", self.company))
        self.assertFalse(self.sim.requests, "queued, not sent by the ladder itself")

        self.run_sms_queue()

        (message,) = self.sim.messages
        self.assertEqual(message.username, "kenya-isp")
        self.assertEqual(message.to, ["+254712345678"])
        self.assertEqual(message.sender, "KENYAISP")
        self.assertEqual(
            message.message,
            f"Kenya ISP Ltd: invoice {invoice.name} due 11/16/2026. "
            f"Balance 2,999.00 KSh. Account {sub.account_number}.",
        )
        (request,) = self.sim.requests
        self.assertEqual(request.path, "/version1/messaging")
        self.assertEqual(request.headers["apikey"], "at-key-123")
        self.assertEqual(request.headers["accept"], "application/json")
        self.assertEqual(
            request.headers["content-type"], "application/x-www-form-urlencoded"
        )
        self.assertEqual(self.outcome(sms), ("pending", False, "101 Success"))
        self.assertTrue(sms.isp_gateway_message_id.startswith("ATXid_"))
        self.assertTrue(sms.to_delete, "sent SMS are cleaned up, as with IAP")
        log = self.env["isp.dunning.log"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(log.sms_state, "sent")
        self.run_sms_queue()
        self.assertEqual(len(self.sim.requests), 1, "sent once")

    def test_per_recipient_statuses(self):
        """Each number gets its own status from the gateway: invalid number,
        opted out at the network, no credit are errors with the reason."""
        self.sim.number_status["+254700000403"] = 403
        self.sim.blacklist.add("+254700000406")
        customers = [
            self._customer("Amina Hassan", "+254700000403"),
            self._customer("Baraka Mwangi", "+254700000406"),
            self.customer,
            self._customer("Chebet Koech", "+254733000405"),
        ]
        for partner in customers:
            self._dunning_subscription(partner=partner)
        self.sim.balance = 0.8  # one SMS
        self.run_ladder("2026-11-13")
        self.run_sms_queue()
        self.assertEqual(
            [self.outcome(self.sms_to(p.phone_sanitized)) for p in customers],
            [
                ("error", "sms_number_format", "403 InvalidPhoneNumber"),
                ("error", "sms_blacklist", "406 UserInBlacklist"),
                ("pending", False, "101 Success"),
                ("error", "sms_credit", "405 InsufficientBalance"),
            ],
        )
        self.assertEqual(len(self.sim.messages), 4, "one request per text")
        # the dunning history says what became of each reminder
        logs = self.env["isp.dunning.log"].search(
            [("partner_id", "in", [p.id for p in customers])]
        )
        self.assertEqual(
            [
                (lg.sms_state, lg.note)
                for p in customers
                for lg in logs.filtered(lambda lg, p=p: lg.partner_id == p)
            ],
            [
                ("failed", "SMS not delivered: 403 InvalidPhoneNumber"),
                ("failed", "SMS not delivered: 406 UserInBlacklist"),
                ("sent", False),
                ("failed", "SMS not delivered: 405 InsufficientBalance"),
            ],
        )
        self.run_sms_queue()
        self.assertEqual(len(self.sim.messages), 4, "errors are not retried")

    def test_gateway_down_retried_then_sent_and_email_still_goes(self):
        sub, invoice = self._dunning_subscription()
        self.sim.down()
        self.run_ladder("2026-11-13")  # email and SMS
        log = self.env["isp.dunning.log"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual((log.email_state, log.sms_state), ("queued", "queued"))
        mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", self.customer.ids)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing", "the email does not wait for SMS")

        # logging.INFO, not "INFO": Odoo names level 25 "INFO".
        with self.assertLogs(SMS_LOGGER, logging.INFO) as logs:
            self.run_sms_queue()
        sms = self.sms_to(NUMBER)
        self.assertEqual(
            (sms.state, sms.isp_send_attempts, sms.isp_gateway_status),
            ("outgoing", 1, "ConnectionError"),
        )
        self.assertEqual(
            [r.levelno for r in logs.records], [logging.INFO], "no warning for a retry"
        )
        self.assertIn("stay in the queue (attempt 1 of 5)", logs.output[0])

        self.assertEqual(log.sms_state, "queued", "retried: still queued")

        self.sim.up()
        self.run_sms_queue()
        self.assertEqual(self.outcome(sms), ("pending", False, "101 Success"))
        self.assertEqual(log.sms_state, "sent")
        self.assertEqual(self.sim.sent_to(NUMBER), [sms.body])

    def test_gateway_server_error_gives_up_after_five_runs(self):
        self._dunning_subscription()
        self.sim.http_error = 503
        self.run_ladder("2026-11-13")
        sms = self.sms_to(NUMBER)
        for attempt in range(1, 5):
            self.run_sms_queue()
            self.assertEqual((sms.state, sms.isp_send_attempts), ("outgoing", attempt))
        self.assertEqual(sms.isp_gateway_status, "HTTP 503")
        with self.assertLogs(SMS_LOGGER, "WARNING") as logs:
            self.run_sms_queue()
        self.assertEqual(
            self.outcome(sms),
            ("error", "sms_server", "HTTP 503: gave up after 5 attempts"),
        )
        self.assertIn("1 SMS given up after 5 attempts", logs.output[0])
        self.assertEqual(len(self.sim.requests), 5)
        self.run_sms_queue()
        self.assertEqual(len(self.sim.requests), 5, "given up: not sent again")

        # Staff resend it once the gateway is back: a fresh set of attempts.
        self.sim.http_error = None
        sms.resend_failed()
        self.assertEqual(self.outcome(sms), ("pending", False, "101 Success"))

    def test_gateway_internal_error_per_recipient_is_retried(self):
        self._dunning_subscription()
        self.sim.number_status[NUMBER] = 500
        self.run_ladder("2026-11-13")
        self.run_sms_queue()
        sms = self.sms_to(NUMBER)
        self.assertEqual(
            (sms.state, sms.isp_send_attempts, sms.isp_gateway_status),
            ("outgoing", 1, "500 InternalServerError"),
        )
        del self.sim.number_status[NUMBER]
        self.run_sms_queue()
        self.assertEqual(self.outcome(sms), ("pending", False, "101 Success"))

    def test_bad_api_key(self):
        self._dunning_subscription()
        self.company.isp_sms_at_api_key = "wrong-key"
        self.run_ladder("2026-11-13")
        self.run_sms_queue()
        self.assertEqual(
            self.outcome(self.sms_to(NUMBER)),
            (
                "error",
                "sms_acc",
                "HTTP 401: Africa's Talking refused the username or API key",
            ),
        )
        self.assertFalse(self.sim.messages)

    def test_odoo_sms_untouched(self):
        """Gateway *Odoo SMS*: the SMS goes to IAP as before, never to the
        simulator (IAP is unavailable in tests: Odoo marks it a server error)."""
        self.company.isp_sms_gateway = "odoo"
        self._dunning_subscription()
        self.run_ladder("2026-11-13")
        self.run_sms_queue()
        sms = self.sms_to(NUMBER)
        self.assertFalse(self.sim.requests)
        self.assertEqual(
            (
                sms.state,
                sms.failure_type,
                sms.isp_gateway_status,
                sms.isp_send_attempts,
            ),
            ("error", "sms_server", False, 0),
        )

    def test_sms_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"])
        kiswahili = self._customer("Juma Omondi", "+254722000111", lang="sw")
        sub_sw, invoice_sw = self._dunning_subscription(partner=kiswahili)
        sub_en, invoice_en = self._dunning_subscription()
        self.run_ladder("2026-11-16")  # due today
        self.assertEqual(
            self.sms_to("+254722000111").body,
            f"Kenya ISP Ltd: 2,999.00 KSh inadaiwa leo (ankara {invoice_sw.name}). "
            f"Akaunti {sub_sw.account_number}.",
        )
        self.assertEqual(
            self.sms_to(NUMBER).body,
            f"Kenya ISP Ltd: 2,999.00 KSh due today (invoice {invoice_en.name}). "
            f"Account {sub_en.account_number}.",
        )

    def test_neutralized_copy_sends_nothing_through_africastalking(self):
        """`odoo neutralize` (the add-ons' data/neutralize.sql) leaves a staging
        copy no key nor endpoint of the ISP's own SMS account: the queued
        reminder would go to Odoo's IAP, whose token the iap module disables."""
        from odoo.modules.neutralize import get_neutralization_queries  # noqa: PLC0415

        sub, invoice = self._dunning_subscription()
        self.run_ladder("2026-11-13")
        sms = self.sms_to(NUMBER)
        self.env.flush_all()
        for query in get_neutralization_queries(["isp_billing"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertEqual(self.company.isp_sms_gateway, "odoo")
        self.assertFalse(self.company.isp_sms_at_api_key)
        self.assertFalse(self.company.isp_sms_at_base_url)
        self.assertEqual(sms._isp_sms_company(), self.company)
        # Sending it now takes Odoo's IAP path (not run here: it is outside),
        # never Africa's Talking: nothing reached the simulator.
        self.assertFalse(self.sim.requests)
