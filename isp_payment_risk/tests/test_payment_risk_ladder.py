# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A dunning step limited by the payment risk: it runs for the invoices at
or above its threshold only, and can only send messages."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import PaymentRiskCommon


@tagged("post_install", "-at_install")
class TestPaymentRiskLadder(PaymentRiskCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_dunning()
        cls.subs.action_activate()
        cls.friendly = cls.env["isp.dunning.step"].create(
            {
                "name": "Friendly reminder: due in 5 days",
                "company_id": cls.company.id,
                "days": -5,
                "channel": "email",
                "mail_template_id": cls.env.ref(
                    "isp_billing.mail_template_isp_dunning_reminder"
                ).id,
                "isp_risk_threshold": 0.5,
            }
        )

    def _logs(self, invoice, step):
        return self.env["isp.dunning.log"].search(
            [("invoice_id", "=", invoice.id), ("step_id", "=", step.id)]
        )

    def test_the_step_runs_for_risky_invoices_only(self):
        """Scored on 10 November: the late payers' open invoices (risk 93 %)
        get the friendly reminder on 15 November (due 20 November minus 5
        days); the punctual ones' (risk 7 %) and an invoice without a score
        are logged *Not sent*, once, and the next step (due in 3 days, no
        threshold) reaches every invoice."""
        self._train_and_score()
        unscored = self._risk_invoice(
            self.punctual_1, self.d("2026-11-05"), self.d("2026-11-20"), 500.0
        )
        mails_before = self.env["mail.mail"].sudo().search_count([])
        Run = self.env["isp.dunning.run"]
        Run._cron_dunning(date_ref=self.d("2026-11-15"))
        for sub in (self.late_1, self.late_2):
            log = self._logs(self.invoices[sub][-1], self.friendly)
            self.assertEqual(log.state, "done")
            self.assertEqual(log.email_state, "queued")
        for sub in (self.punctual_1, self.punctual_2):
            log = self._logs(self.invoices[sub][-1], self.friendly)
            self.assertEqual(log.state, "skipped")
            self.assertFalse(log.email_state)
            self.assertEqual(
                log.note, "Not sent: risk of late payment 7 %, below the step's 50 %."
            )
            self.assertEqual(log.subscription_id, sub)
            self.assertEqual(log.company_id, self.company)
        log = self._logs(unscored, self.friendly)
        self.assertEqual(log.state, "skipped")
        self.assertEqual(log.note, "Not sent: the invoice has no risk score.")
        self.assertEqual(
            self.env["mail.mail"].sudo().search_count([]) - mails_before, 2
        )
        # Run again: nothing new; then the next step for all five.
        Run._cron_dunning(date_ref=self.d("2026-11-15"))
        self.assertEqual(
            self.env["isp.dunning.log"].search_count(
                [("step_id", "=", self.friendly.id)]
            ),
            5,
        )
        reminder = self.steps.filtered(lambda s: s.days == -3)
        Run._cron_dunning(date_ref=self.d("2026-11-17"))
        for invoice in (*self.open_invoices, unscored):
            self.assertEqual(self._logs(invoice, reminder).state, "done")
        self.assertEqual(
            (self.subs | unscored.isp_subscription_ids).mapped("state"),
            ["active"] * 4,
        )

    def test_a_risk_step_only_sends_messages(self):
        """A step with a risk threshold cannot suspend, throttle, terminate
        or charge a fee; the threshold is a probability."""
        fee = self._isp_product("Late fee", 100.0)
        for vals in (
            {"action": "suspend"},
            {"action": "throttle"},
            {"action": "terminate"},
            {"fee_product_id": fee.id},
        ):
            with self.assertRaisesRegex(ValidationError, "can only send messages"):
                self.friendly.write(vals)
            self.assertEqual(self.friendly.action, "none")
            self.assertFalse(self.friendly.fee_product_id)
        suspension = self.steps.filtered(lambda s: s.action == "suspend")
        with self.assertRaisesRegex(ValidationError, "can only send messages"):
            suspension.isp_risk_threshold = 0.3
        self.assertEqual(suspension.isp_risk_threshold, 0.0)
        with self.assertRaisesRegex(ValidationError, "between 0 % and 100 %"):
            self.friendly.isp_risk_threshold = 1.5
        self.assertEqual(self.friendly.isp_risk_threshold, 0.5)
