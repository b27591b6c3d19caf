# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The dunning ladder: each step on its day, once; paid invoices stop it;
late runs catch up; suspension, reconnection, promise to pay."""

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestDunning(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_dunning()
        cls.late_fee = cls._isp_product("Late payment fee", 200.0)
        cls.reconnection_fee = cls._isp_product("Reconnection fee", 500.0)

    def run_ladder(self, day):
        with freeze_time(f"{day} 08:00:00"):
            return self.env["isp.dunning.step"]._cron_dunning(today=self.d(day))

    def sms_to(self, number):
        return self.env["sms.sms"].search([("number", "=", number)], order="id")

    def mails_to(self, partner):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", partner.ids)], order="id"
        )

    def logs(self, invoice):
        return (
            self.env["isp.dunning.log"]
            .search([("invoice_id", "=", invoice.id)])
            .sorted(lambda lg: lg.step_id.days)
        )

    def test_default_ladder(self):
        self.assertEqual(
            [(s.days, s.channel, s.action) for s in self.steps],
            [
                (-3, "both", "none"),
                (0, "sms", "none"),
                (3, "both", "none"),
                (7, "sms", "suspend"),
                (30, "none", "terminate"),
            ],
        )

    def test_each_step_on_its_day_once(self):
        sub, invoice = self._dunning_subscription()
        number = "+254712345678"
        self.assertEqual(self.run_ladder("2026-11-12"), 0, "4 days before: nothing")

        self.assertEqual(self.run_ladder("2026-11-13"), 1)  # due - 3
        self.assertEqual(len(self.sms_to(number)), 1)
        self.assertIn(invoice.name, self.sms_to(number).body)
        self.assertIn(sub.account_number, self.sms_to(number).body)
        reminder = self.mails_to(self.customer)
        self.assertEqual(len(reminder), 1)
        self.assertIn("is due on", reminder.subject)
        self.assertEqual(self.run_ladder("2026-11-13"), 0, "re-run: nothing again")
        self.assertEqual(self.run_ladder("2026-11-15"), 0)

        self.run_ladder("2026-11-16")  # due day: SMS only
        self.assertEqual(len(self.sms_to(number)), 2)
        self.assertEqual(len(self.mails_to(self.customer)), 1)
        self.assertIn("due today", self.sms_to(number)[-1].body)

        self.run_ladder("2026-11-19")  # +3: email and SMS
        self.assertEqual(len(self.sms_to(number)), 3)
        self.assertEqual(len(self.mails_to(self.customer)), 2)
        self.assertEqual(sub.state, "active")

        self.run_ladder("2026-11-23")  # +7: suspension with SMS
        self.assertEqual(sub.state, "suspended")
        self.assertEqual(sub.suspension_kind, "nonpayment")
        self.assertIn("service suspended", self.sms_to(number)[-1].body)
        self.assertEqual(len(self.sms_to(number)), 4)

        self.run_ladder("2026-12-16")  # +30: termination
        self.assertEqual(sub.state, "terminated")
        self.assertEqual(
            [
                (lg.step_id.days, lg.sms_state, lg.action_done)
                for lg in self.logs(invoice)
            ],
            [
                (-3, "queued", False),
                (0, "queued", False),
                (3, "queued", False),
                (7, "queued", "suspend"),
                (30, False, "terminate"),
            ],
        )
        self.assertEqual(set(sub.dunning_log_ids.ids), set(self.logs(invoice).ids))

    def test_pay_now_link_opens_the_invoice_in_the_portal(self):
        __, invoice = self._dunning_subscription()
        __, other = self._dunning_subscription(partner=self.customer_2)
        invoice.access_token = False  # never e-mailed before
        modified = (invoice.is_manually_modified, other.is_manually_modified)

        self.run_ladder("2026-11-13")  # due - 3: the first e-mail of both
        self.assertTrue(invoice.access_token)
        self.assertTrue(other.access_token)
        self.assertNotEqual(invoice.access_token, other.access_token)
        body = self.mails_to(self.customer).body_html
        self.assertIn(f"/my/invoices/{invoice.id}?access_token=", body)
        self.assertIn(f"access_token={invoice.access_token}", body)
        self.assertEqual(
            (invoice.is_manually_modified, other.is_manually_modified), modified
        )
        # the next reminder keeps the link the subscriber already has
        token = invoice.access_token
        self.run_ladder("2026-11-19")
        self.assertEqual(invoice.access_token, token)
        self.assertIn(
            f"access_token={token}", self.mails_to(self.customer)[-1].body_html
        )

    def test_payment_stops_the_ladder_and_reconnects(self):
        self.company.isp_reconnection_fee_product_id = self.reconnection_fee
        sub, invoice = self._dunning_subscription()
        self.run_ladder("2026-11-23")
        self.assertEqual(sub.state, "suspended")
        with freeze_time("2026-11-24 10:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 2999.0})._create_payments()
        self.assertEqual(sub.state, "active")
        # the reconnection fee waits for the next invoice
        fee_line = sub.line_ids.filtered(
            lambda line: line.product_id == self.reconnection_fee
        )
        self.assertEqual((fee_line.line_type, fee_line.price_unit), ("once", 500.0))
        self.assertEqual(self.run_ladder("2026-12-16"), 0, "paid: no termination")
        self.assertEqual(sub.state, "active")
        with freeze_time("2026-12-01 09:00:00"):
            december = self._bill(sub, self.d("2026-12-01"))
        # December 2,999.00 + reconnection fee 500.00
        self.assertEqual(december.amount_total, 3499.0)

    def test_throttle_step_until_paid(self):
        # the +3 step slows the service down instead of only reminding
        self.steps.filtered(lambda s: s.days == 3).action = "throttle"
        sub, invoice = self._dunning_subscription()
        self.run_ladder("2026-11-19")
        self.assertTrue(sub.throttled)
        self.assertEqual(sub.state, "active")
        step3 = self.logs(invoice).filtered(lambda lg: lg.step_id.days == 3)
        self.assertEqual(step3.action_done, "throttle")
        self.assertIn("Slowed down for non-payment", sub.message_ids[0].body)
        # half paid: still overdue, still slow
        with freeze_time("2026-11-20 10:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 1500.0})._create_payments()
        self.assertTrue(sub.throttled)
        # the rest (2,999.00 - 1,500.00 = 1,499.00): full speed again
        with freeze_time("2026-11-21 10:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 1499.0})._create_payments()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertFalse(sub.throttled)
        self.assertIn("Full speed again", sub.message_ids[0].body)

    def test_late_run_catches_up_with_one_message(self):
        sub, invoice = self._dunning_subscription()
        self.steps.filtered(lambda s: s.days == 3).fee_product_id = self.late_fee
        self.assertEqual(self.run_ladder("2026-11-25"), 1)
        logs = self.logs(invoice)
        self.assertEqual([lg.step_id.days for lg in logs], [-3, 0, 3, 7])
        self.assertEqual(sub.state, "suspended")
        sms = self.sms_to("+254712345678")
        self.assertEqual(len(sms), 1, "only the latest step speaks")
        self.assertIn("service suspended", sms.body)
        self.assertFalse(self.mails_to(self.customer))
        self.assertEqual(
            logs.mapped("note")[:3], ["Passed: a later step was due too."] * 3
        )
        fee = sub.line_ids.filtered(lambda line: line.product_id == self.late_fee)
        self.assertEqual(len(fee), 1, "the fee of a passed step is still charged")

    def test_no_number_or_opted_out_is_skipped_with_a_reason(self):
        sub, invoice = self._dunning_subscription(partner=self.customer_2)  # no phone
        self.run_ladder("2026-11-13")
        log = self.logs(invoice)
        self.assertEqual(log.sms_state, "skipped")
        self.assertIn("No valid mobile number", log.note)
        self.assertEqual(log.email_state, "queued", "the email still goes")
        self.assertEqual(len(self.mails_to(self.customer_2)), 1)

        sub2, invoice2 = self._dunning_subscription()
        self.env["phone.blacklist"].sudo().add("+254712345678")
        self.run_ladder("2026-11-13")
        self.assertEqual(self.logs(invoice2).sms_state, "skipped")
        self.assertIn("opted out", self.logs(invoice2).note)
        self.assertFalse(self.sms_to("+254712345678"))

    def test_each_step_claimed_once(self):
        sub, invoice = self._dunning_subscription()
        step = self.steps[0]
        Run = self.env["isp.dunning.run"]
        first = Run._claim([(invoice.id, step.id, self.d("2026-11-13"))])
        second = Run._claim([(invoice.id, step.id, self.d("2026-11-13"))])
        self.assertEqual(len(first), 1)
        self.assertEqual(second, [])

    def test_promise_to_pay(self):
        sub, invoice = self._dunning_subscription()
        self.run_ladder("2026-11-23")
        self.assertEqual(sub.state, "suspended")
        with freeze_time("2026-11-24 10:00:00"):
            sub.action_promise_to_pay()
            self.assertEqual(sub.state, "active")
            self.assertEqual(sub.promise_until, self.d("2026-12-01"))
            with self.assertRaisesRegex(UserError, "already made this billing period"):
                sub.action_promise_to_pay()
        self.assertIn("promise", sub.event_ids.mapped("event_type"))
        # the ladder waits during the promise
        self.assertEqual(self.run_ladder("2026-11-30"), 0)
        self.assertEqual(sub.state, "active")
        # promise broken: suspended again
        self.run_ladder("2026-12-02")
        self.assertEqual(sub.state, "suspended")
        self.assertEqual(sub.state_reason, "Promise to pay ended unpaid")

    def test_promise_refused_when_off_or_nothing_due(self):
        self.company.isp_promise_days = 0
        sub, invoice = self._dunning_subscription()
        with self.assertRaisesRegex(UserError, "not offered"):
            sub.action_promise_to_pay()
