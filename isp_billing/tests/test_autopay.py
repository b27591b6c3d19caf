# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Auto-pay with saved payment methods of Odoo's demo provider (payment_demo,
installed in the test database only): charged when issued, retried on a
schedule, never twice, then the ladder takes over."""

import psycopg2
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestAutopay(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        bank = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1
        )
        cls.provider = (
            cls.env.ref("payment.payment_provider_demo")
            .sudo()
            .copy(
                {"company_id": cls.company.id, "state": "test", "name": "Card (test)"}
            )
        )
        cls.provider.journal_id = bank
        cls.method = cls.env.ref("payment_demo.payment_method_demo")
        Step = cls.env["isp.dunning.step"]
        if not Step.search([("company_id", "=", cls.company.id)]):
            Step._ensure_default_ladders()

    def _token(self, state, partner=None):
        return (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.method.id,
                    "partner_id": (partner or self.customer).id,
                    "payment_details": "4242",
                    "provider_ref": f"demo-{state}",
                    "demo_simulated_state": state,
                }
            )
        )

    def _issue(self, token):
        with freeze_time("2026-11-01 09:00:00"):
            sub = self._active_subscription(
                self.plan_home, self.d("2026-11-01"), anchor=self.d("2026-11-01")
            )
            sub.action_autopay_enable(token)
            invoice = self._bill(sub, self.d("2026-11-01"))
        return sub, invoice

    def run_autopay(self, day):
        with freeze_time(f"{day} 10:00:00"):
            return self.env["isp.autopay.attempt"]._cron_autopay(today=self.d(day))

    def test_charged_when_issued(self):
        sub, invoice = self._issue(self._token("done"))
        attempt = sub.autopay_attempt_ids
        self.assertEqual((attempt.state, attempt.attempt), ("scheduled", 0))
        self.assertEqual(self.run_autopay("2026-11-01"), 1)
        self.assertEqual(attempt.state, "done")
        # 2,999.00 charged once, invoice paid
        self.assertEqual(attempt.transaction_id.amount, 2999.0)
        self.assertEqual(attempt.transaction_id.state, "done")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(attempt.transaction_id.payment_id.amount, 2999.0)
        # running again charges nothing
        self.assertEqual(self.run_autopay("2026-11-02"), 0)
        txs = self.env["payment.transaction"].search(
            [("invoice_ids", "in", invoice.ids)]
        )
        self.assertEqual(len(txs), 1)

    def test_declined_is_retried_then_reminders_take_over(self):
        sub, invoice = self._issue(self._token("error"))
        self.run_autopay("2026-11-01")
        # retries at +1, +3, +5 days from the first charge
        attempts = sub.autopay_attempt_ids.sorted("attempt")
        self.assertEqual(attempts.mapped("state"), ["failed", "scheduled"])
        self.assertEqual(attempts[1].scheduled_date, self.d("2026-11-02"))
        # the ladder waits while a retry is scheduled (due date 1 Nov, +3 step)
        with freeze_time("2026-11-01 11:00:00"):
            self.assertEqual(
                self.env["isp.dunning.step"]._cron_dunning(today=self.d("2026-11-01")),
                0,
            )
        self.assertEqual(self.run_autopay("2026-11-01"), 0, "not before its day")
        self.run_autopay("2026-11-02")
        self.run_autopay("2026-11-04")
        self.run_autopay("2026-11-06")
        attempts = sub.autopay_attempt_ids.sorted("attempt")
        self.assertEqual(
            [(a.attempt, str(a.scheduled_date), a.state) for a in attempts],
            [
                (0, "2026-11-01", "failed"),
                (1, "2026-11-02", "failed"),
                (2, "2026-11-04", "failed"),
                (3, "2026-11-06", "failed"),
            ],
        )
        self.assertEqual(self.run_autopay("2026-11-30"), 0, "no fifth attempt")
        self.assertEqual(invoice.amount_residual, 2999.0)
        # now the ladder acts: +3 step (and the due-day one, passed)
        with freeze_time("2026-11-06 11:00:00"):
            self.assertEqual(
                self.env["isp.dunning.step"]._cron_dunning(today=self.d("2026-11-06")),
                1,
            )

    def test_paid_meanwhile_is_not_charged(self):
        sub, invoice = self._issue(self._token("error"))
        self.run_autopay("2026-11-01")
        with freeze_time("2026-11-01 12:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 2999.0})._create_payments()
        sub.autopay_token_id.demo_simulated_state = "done"
        self.run_autopay("2026-11-02")
        retry = sub.autopay_attempt_ids.filtered(lambda a: a.attempt == 1)
        self.assertEqual(retry.state, "cancelled")
        self.assertFalse(retry.transaction_id, "no charge")
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("partner_id", "=", self.customer.id)]
            ),
            1,
        )

    def test_one_attempt_per_invoice_and_number(self):
        sub, invoice = self._issue(self._token("done"))
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.env["isp.autopay.attempt"].sudo().create(
                {
                    "invoice_id": invoice.id,
                    "attempt": 0,
                    "scheduled_date": self.d("2026-11-01"),
                }
            )

    def test_other_company_cannot_read_attempts(self):
        sub, invoice = self._issue(self._token("done"))
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        clerk = new_test_user(
            self.env,
            login="isp_clerk_other",
            groups="isp_billing.group_isp_user",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        Attempt = (
            self.env["isp.autopay.attempt"]
            .with_user(clerk)
            .with_context(allowed_company_ids=[other_company.id])
        )
        self.assertTrue(sub.autopay_attempt_ids)
        self.assertFalse(Attempt.search([("invoice_id", "=", invoice.id)]))
        with self.assertRaises(AccessError):
            Attempt.browse(sub.autopay_attempt_ids.ids).read(["state"])

    def test_needs_the_customers_own_method(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        other = self._token("done", partner=self.customer_2)
        with self.assertRaisesRegex(UserError, "not the customer's"):
            sub.action_autopay_enable(other)
        with self.assertRaisesRegex(ValidationError, "needs a saved payment method"):
            sub.autopay = True

    def test_retry_days_are_set_in_the_settings(self):
        settings = Form(self.env["res.config.settings"])
        settings.isp_autopay_retry_days = "2,4"
        settings.save().execute()
        self.assertEqual(self.env.company.isp_autopay_retry_days, "2,4")
        for bad in ("1,3,x", "5,3", "0,2", "1,,2", "-1"):
            with self.assertRaisesRegex(ValidationError, "increasing order"):
                self.env.company.isp_autopay_retry_days = bad
