# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Paybill (C2B): URL registration, confirmations matched by account number,
the unmatched queue, validation, bad input."""

import hashlib
import json

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IspMpesaCommon

CTRL_LOGGER = "odoo.addons.isp_mpesa.controllers.main"
PROVIDER_LOGGER = "odoo.addons.isp_mpesa.models.payment_provider"
LEDGER_LOGGER = "odoo.addons.isp_mpesa.models.isp_mpesa_payment"
INBOX_LOGGER = "odoo.addons.isp_mpesa.models.isp_mpesa_callback"


@tagged("post_install", "-at_install")
class TestPaybill(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Two months billed in advance, unpaid: October then November.
        cls.sub = cls._active_subscription(
            cls.plan_home,
            cls.d("2026-10-01"),
            anchor=cls.d("2026-10-01"),
        )

    def setUp(self):
        super().setUp()
        self.provider.action_mpesa_register_c2b()
        self.october = self._bill(self.sub, self.d("2026-10-01"))
        self.november = self._bill(self.sub, self.d("2026-11-01"))

    def ledger(self, receipt):
        return self.env["isp.mpesa.payment"].search([("name", "=", receipt)])

    def test_registration(self):
        registration = self.sim.registrations[-1]
        self.assertEqual(
            registration["ConfirmationURL"],
            f"{self.odoo_url}/payment/daraja/c2b/confirm/{self.token}",
        )
        self.assertEqual(registration["ResponseType"], "Completed")
        self.assertEqual(self.provider.mpesa_c2b_registered_version, "v2")
        self.assertNotIn("mpesa", registration["ConfirmationURL"].lower())

    def test_registration_falls_back_to_the_other_version(self):
        self.sim.c2b_reject_version = "v2"
        self.provider.action_mpesa_register_c2b()
        self.assertEqual(self.provider.mpesa_c2b_registered_version, "v1")
        self.assertEqual(self.provider.mpesa_c2b_version, "v1")

    def test_production_registration_is_one_time(self):
        # setUp registered once already
        self.sim.c2b_production_mode = True
        with (
            mute_logger(PROVIDER_LOGGER),
            self.assertRaisesRegex(UserError, "Urls are already registered"),
        ):
            self.provider.action_mpesa_register_c2b()

    def test_account_number_pays_oldest_first_any_case_and_spacing(self):
        # 4,000.00 against 2,999.00 (Oct) + 2,999.00 (Nov): October paid,
        # November 2,999.00 - 1,001.00 = 1,998.00 left.
        typed = (
            " "
            + self.sub.account_number.lower()[:3]
            + " "
            + self.sub.account_number[3:]
        )
        result = self.c2b_pay(typed, 4000, msisdn="254712345678")
        self.assertEqual(result["confirmation"].status, 200)
        self.assertEqual(
            result["confirmation"].json(), {"ResultCode": 0, "ResultDesc": "Success"}
        )
        self.assertEqual(self.october.amount_residual, 0.0)
        self.assertEqual(self.november.amount_residual, 1998.0)
        entry = self.ledger(result["trans_id"])
        self.assertEqual(
            (entry.state, entry.channel, entry.amount), ("matched", "c2b", 4000.0)
        )
        self.assertEqual(entry.partner_id, self.customer)
        self.assertEqual(entry.msisdn, "2547*****678")
        self.assertEqual(entry.transaction_id.payment_id.amount, 4000.0)

    def test_confirmation_answers_first_the_job_records_it(self):
        """The confirmation claims the receipt and answers; the payments job,
        triggered at once, matches the account and makes the payment."""
        cron = self.env.ref("isp_mpesa.ir_cron_mpesa_post_process")
        Trigger = self.env["ir.cron.trigger"].sudo()
        # none pending (a kept database may hold one from an earlier run)
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        result = self.c2b_pay(self.sub.account_number, 3500, post_process=False)
        self.assertEqual(result["confirmation"].status, 200)
        entry = self.ledger(result["trans_id"])
        self.assertEqual((entry.state, entry.amount), ("received", 3500.0))
        self.assertFalse(entry.transaction_id)
        self.assertFalse(self.payments_of())
        self.assertEqual(self.october.amount_residual, 2999.0)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)
        # the same confirmation again meanwhile: still one receipt
        again = self._post(
            self.confirm_url(), result["confirmation"].payload, post_process=False
        )
        self.assertEqual(again.status_code, 200)
        self.assertEqual(len(self.ledger(result["trans_id"])), 1)

        self.run_post_processing()
        # 3,500.00 against 2,999.00 (Oct) + 2,999.00 (Nov): October paid,
        # November 2,999.00 - 501.00 = 2,498.00 left
        self.assertEqual((entry.state, entry.partner_id), ("matched", self.customer))
        self.assertEqual(self.payments_of().amount, 3500.0)
        self.assertEqual(entry.transaction_id.payment_id, self.payments_of())
        self.assertEqual(self.october.amount_residual, 0.0)
        self.assertEqual(self.november.amount_residual, 2498.0)
        self.run_post_processing()  # nothing left: nothing more
        self.assertEqual(len(self.payments_of()), 1)

    def test_confirmation_is_kept_and_answered_nothing_else(self):
        """In the request, the confirmation is only kept: no receipt, no
        account matched, until the payments job processes it."""
        result = self.c2b_pay(
            self.sub.account_number, 2999, post_process=False, process=False
        )
        self.assertEqual(
            result["confirmation"].json(), {"ResultCode": 0, "ResultDesc": "Success"}
        )
        kept = self.inbox()
        self.assertEqual(
            [(c.kind, c.key, c.state) for c in kept],
            [("c2b", result["trans_id"], "new")],
        )
        self.assertFalse(self.ledger(result["trans_id"]))
        self.run_post_processing()
        self.assertEqual(kept.state, "done")
        self.assertEqual(self.ledger(result["trans_id"]).state, "matched")
        self.assertEqual(self.payments_of().amount, 2999.0)
        self.assertEqual(self.october.amount_residual, 0.0)

    def test_callback_that_cannot_be_processed_is_marked_failed(self):
        """A kept callback the job cannot process (here its body was damaged
        in the database) is marked *Failed* with the error and logged; the
        callbacks after it are processed; once repaired, *Process again*."""
        damaged = self.env["isp.mpesa.callback"]._mpesa_store(
            self.provider, "c2b", "DMG1234567", '{"TransID": "DMG1234567"}'
        )
        later = self.c2b_pay(
            self.sub.account_number, 1000, post_process=False, process=False
        )
        with self.assertLogs(INBOX_LOGGER, "ERROR") as logs:
            self.run_post_processing()
        self.assertIn(f"callback {damaged.id} (DMG1234567)", logs.output[0])
        self.assertEqual(damaged.state, "failed")
        self.assertIn("TransAmount", damaged.error)
        self.assertFalse(self.ledger("DMG1234567"))
        # the one after it: 2,999.00 - 1,000.00 = 1,999.00 left on October
        self.assertEqual(self.ledger(later["trans_id"]).state, "matched")
        self.assertEqual(self.october.amount_residual, 1999.0)

        damaged.sudo().body = json.dumps(
            self.c2b_body("DMG1234567", "500.00", self.sub.account_number)
        )
        damaged.action_process_again()
        self.assertEqual((damaged.state, damaged.error), ("new", False))
        self.run_post_processing()
        # 1,999.00 - 500.00 = 1,499.00
        self.assertEqual(damaged.state, "done")
        self.assertEqual(self.ledger("DMG1234567").amount, 500.0)
        self.assertEqual(self.october.amount_residual, 1499.0)
        self.assertEqual(len(self.payments_of()), 2)

    def test_job_takes_ten_per_call_and_calls_itself_back(self):
        """Run by Odoo's cron worker, the job records ten receipts per call
        and, while more wait, asks to run again at once."""
        for __ in range(12):
            self.c2b_pay(self.sub.account_number, 100, post_process=False)
        cron = self.env.ref("isp_mpesa.ir_cron_mpesa_post_process")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        waiting = self.env["isp.mpesa.payment"].search([("state", "=", "received")])
        self.assertEqual(len(waiting), 12)

        def run_as_cron():
            self.env.flush_all()
            with self.registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {}).ref(
                    "isp_mpesa.ir_cron_mpesa_post_process"
                ).method_direct_trigger()
            self.env.invalidate_all()

        run_as_cron()
        # ten payments of 100.00: October 2,999.00 - 1,000.00 = 1,999.00
        self.assertEqual(len(self.payments_of()), 10)
        self.assertEqual(self.october.amount_residual, 1999.0)
        self.assertEqual(waiting.mapped("state").count("received"), 2)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)

        run_as_cron()
        # the last two: 1,999.00 - 200.00 = 1,799.00; nothing left to call for
        self.assertEqual(len(self.payments_of()), 12)
        self.assertEqual(self.october.amount_residual, 1799.0)
        self.assertEqual(set(waiting.mapped("state")), {"matched"})
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)

    def test_unknown_account_waits_for_the_job_then_the_queue(self):
        result = self.c2b_pay("NOBODY-42", 150, post_process=False)
        entry = self.ledger(result["trans_id"])
        self.assertEqual(entry.state, "received")
        with self.assertRaisesRegex(UserError, "already applied"):
            entry.action_assign()  # not the accountant's before the job ran
        self.run_post_processing()
        self.assertEqual(entry.state, "unmatched")
        self.assertEqual(entry.note, "No subscription or invoice with this account.")
        self.assertFalse(self.payments_of())

    def test_excess_stays_as_customer_credit(self):
        # 7,000.00 - 2 × 2,999.00 = 1,002.00 of credit
        self.c2b_pay(self.sub.account_number, "7000.00")
        self.assertEqual(self.october.amount_residual, 0.0)
        self.assertEqual(self.november.amount_residual, 0.0)
        self.assertAlmostEqual(self.customer.credit, -1002.0, places=2)

    def test_subscription_found_by_the_receipt_that_paid_it(self):
        """Subscriptions → search *M-PESA receipt*: the subscription whose
        invoice the receipt paid, whatever the case or part typed."""
        other = self._active_subscription(
            self.plan_home, self.d("2026-10-01"), partner=self.customer_2
        )
        self._bill(other, self.d("2026-10-01"))
        receipt = self.c2b_pay(self.sub.account_number, 2999)["trans_id"]
        Sub = self.env["isp.subscription"]
        self.assertEqual(Sub.search([("mpesa_receipt", "=", receipt)]), self.sub)
        self.assertEqual(
            Sub.search([("mpesa_receipt", "ilike", receipt.lower()[2:])]), self.sub
        )
        self.assertFalse(Sub.search([("mpesa_receipt", "=", "NOSUCHRCPT")]))
        with self.assertRaisesRegex(UserError, "Unsupported search"):
            Sub.search([("mpesa_receipt", "in", [receipt])])

    def test_invoice_number_pays_that_invoice_first(self):
        typed = self.november.name.lower().replace("/", "/ ")
        self.c2b_pay(typed, 2999)
        self.assertEqual(self.november.amount_residual, 0.0)
        self.assertEqual(self.october.amount_residual, 2999.0)

    def test_duplicate_confirmation_is_one_payment(self):
        result = self.c2b_pay(self.sub.account_number, 2999)
        again = self._post(self.confirm_url(), result["confirmation"].payload)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), {"ResultCode": 0, "ResultDesc": "Success"})
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(self.november.amount_residual, 2999.0)

    def test_unknown_account_is_queued_then_assigned_in_two_clicks(self):
        result = self.c2b_pay("WRONG-ACC-9", 2999, msisdn_mode="hashed")
        self.assertEqual(result["confirmation"].status, 200)
        entry = self.ledger(result["trans_id"])
        self.assertEqual(entry.state, "unmatched")
        self.assertFalse(self.payments_of())
        self.assertEqual(entry.msisdn_hash, hashlib.sha256(b"254708374149").hexdigest())
        # the accountant picks the customer and clicks Assign
        with self.assertRaisesRegex(UserError, "Choose the customer"):
            entry.action_assign()
        entry.partner_id = self.customer
        entry.action_assign()
        self.assertEqual(entry.state, "assigned")
        self.assertEqual(self.october.amount_residual, 0.0)
        self.assertEqual(self.payments_of().amount, 2999.0)
        with self.assertRaisesRegex(UserError, "already applied"):
            entry.action_assign()

    def test_validation(self):
        self.sim.c2b_validation_enabled = True
        accepted = self.c2b_pay("NO-SUCH-ACC", 100)
        self.assertTrue(accepted["accepted"], "accepted and queued by default")
        self.assertEqual(accepted["validation"].json()["ResultCode"], "0")

        self.provider.mpesa_c2b_reject_unknown = True
        refused = self.c2b_pay("NO-SUCH-ACC", 100)
        self.assertFalse(refused["accepted"])
        self.assertEqual(refused["validation"].json()["ResultCode"], "C2B00012")
        self.assertIsNone(refused["confirmation"])
        known = self.c2b_pay(self.sub.account_number, 100)
        self.assertTrue(known["accepted"])
        self.assertEqual(self.october.amount_residual, 2899.0)

    def test_bad_confirmations_change_nothing(self):
        good = self.c2b_body("QWE1234567", "2999.00", self.sub.account_number)
        cases = [
            (self.confirm_url("not-the-token"), good, False, 403),
            (self.confirm_url(), "{", True, 400),
            (self.confirm_url(), "", True, 400),
            (self.confirm_url(), {**good, "TransID": ""}, False, 400),
            (self.confirm_url(), {**good, "TransAmount": "abc"}, False, 400),
            (self.confirm_url(), {**good, "TransAmount": "-5"}, False, 400),
            (self.validate_url("not-the-token"), good, False, 403),
        ]
        with mute_logger(CTRL_LOGGER):
            for url, body, raw, status in cases:
                with self.subTest(url=url[-12:], body=str(body)[:40]):
                    self.assertEqual(self._post(url, body, raw=raw).status_code, status)
        self.assertFalse(self.env["isp.mpesa.payment"].search([]))
        self.assertFalse(self.inbox())  # nothing kept for the job either
        self.assertFalse(self.payments_of())
        self.assertEqual(self.october.amount_residual, 2999.0)

    def test_ip_allow_list(self):
        self.provider.mpesa_allowed_ips = "196.201.212.0/24, 196.201.213.44"
        body = self.c2b_body("ALW1234567", "10", self.sub.account_number)
        with mute_logger(CTRL_LOGGER):
            self.assertEqual(self._post(self.confirm_url(), body).status_code, 403)
        self.assertFalse(self.ledger("ALW1234567"))
        self.assertFalse(self.inbox())
        self.provider.mpesa_allowed_ips = "127.0.0.0/8"
        self.assertEqual(self._post(self.confirm_url(), body).status_code, 200)
        self.assertEqual(self.ledger("ALW1234567").state, "matched")
        with self.assertRaisesRegex(Exception, "allow-list is not valid"):
            self.provider.mpesa_allowed_ips = "not-an-ip"
