# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The training job works in bounded steps that resume across cron runs
(README, rule 12): the model trained over several runs, one of them
crashed, is the one trained in one go."""

from odoo.tests import tagged

from .common import PaymentRiskCommon


class Crash(Exception):
    """The cron worker dies before its transaction is committed."""


@tagged("post_install", "-at_install")
class TestPaymentRiskResume(PaymentRiskCommon):
    def _run(self):
        """One call of the training job as Odoo's cron runs it: its progress
        record in the context. ``(done, remaining)``."""
        cron = self.env.ref("isp_payment_risk.ir_cron_isp_payment_risk_train")
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": cron.id, "done": 0, "remaining": 0}
        )
        self.env["isp.payment.risk.service"].with_context(
            ir_cron_progress_id=progress.id
        )._cron_train(date_ref=self.TODAY)
        self.env.invalidate_all()
        return progress.done, progress.remaining

    def _training(self):
        return self.env["isp.payment.risk.model"]._in_training(self.company)

    def test_resumed_training_is_the_one_trained_in_one_go(self):
        Model = self.env["isp.payment.risk.model"].sudo()
        # 13 invoices a step: one of the 4 subscriptions (13 invoices each)
        # per run of the job
        self.env["ir.config_parameter"].set_param(
            "isp_payment_risk.train_step_invoices", "13"
        )
        # the other companies (the demo data's) are trained on that day already
        Service = self.env["isp.payment.risk.service"]
        for company in Service._companies() - self.company:
            Model.create(
                {
                    "company_id": company.id,
                    "version": 1,
                    "state": "refused",
                    "as_of": self.TODAY,
                }
            )
        runs, states = 0, []
        while True:
            training = self._training()
            if training and training.subscriptions_read == 2:
                # the third run crashes before it commits: nothing of it
                # stays, the next run does it again from the same point
                parts = training.part_ids.ids
                with self.assertRaises(Crash), self.env.cr.savepoint():
                    self._run()
                    self.assertEqual(self._training().subscriptions_read, 3)
                    raise Crash
                self.env.invalidate_all()
                self.assertEqual(training.subscriptions_read, 2)
                self.assertEqual(training.resume_after, self.subs[1].id)
                self.assertEqual(training.part_ids.ids, parts)
            done, remaining = self._run()
            runs += 1
            training = self._training() or Model._current(self.company)
            states.append((training.state, training.phase, done))
            self.assertGreater(done, 0)
            if not remaining:
                break
            self.assertLess(runs, 50)
        resumed = Model._current(self.company)
        self.assertEqual(resumed.state, "ready")
        self.assertFalse(resumed.sudo().part_ids)
        # one subscription a run, then the evaluation, then the fit
        self.assertEqual(
            states,
            [
                ("training", "extract", 1),
                ("training", "extract", 1),
                ("training", "extract", 1),
                ("training", "extract", 1),
                ("training", "fit", 1),
                ("ready", False, 1),
            ],
        )
        # trained on that day: the job does not start again
        self.assertEqual(self._run(), (0, 0))
        self.assertEqual(Model._current(self.company), resumed)
        # in one go: the same rows, figures and fitted score, byte for byte
        self.env["ir.config_parameter"].set_param(
            "isp_payment_risk.train_step_invoices", "100000"
        )
        once = self.env["isp.payment.risk.service"]._train(self.company, self.TODAY)
        self.assertEqual(once.version, resumed.version + 1)
        for field in ("invoice_count", "date_from", "date_to", "late_share", "kind"):
            self.assertEqual(once[field], resumed[field], field)
        self.assertEqual(once.report, resumed.report)
        self.assertEqual(once.sudo().checksum, resumed.sudo().checksum)
        self.assertEqual(
            once.sudo().attachment_id.raw, resumed.sudo().attachment_id.raw
        )
