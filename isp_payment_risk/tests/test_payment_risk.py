# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment risk in the database: the extraction matches the records it was
built from, training refuses short histories, scores and explains, never
acts, and only staff see it."""

import base64
from datetime import timedelta
from unittest.mock import patch

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, tagged

from ..riskcore import features as F
from .common import PaymentRiskCommon


@tagged("post_install", "-at_install")
class TestPaymentRiskExtraction(PaymentRiskCommon):
    def test_histories_are_the_records_of_the_database(self):
        """The invoices (dates, due dates, amounts, the day each was
        settled), auto-pay charges, promises and upgrades read from the
        database are those written, and give the same features as the same
        history written by hand."""
        sub = self.late_1
        invoices = self.invoices[sub]
        attempt_day = self.d("2026-06-06")
        self.env["isp.autopay.attempt"].sudo().create(
            [
                {
                    "invoice_id": invoices[7].id,
                    "subscription_id": sub.id,
                    "scheduled_date": attempt_day,
                    "attempt": 1,
                    "state": "failed",
                },
                {
                    "invoice_id": invoices[7].id,
                    "subscription_id": sub.id,
                    "scheduled_date": attempt_day + timedelta(days=1),
                    "attempt": 2,
                    "state": "scheduled",
                },
            ]
        )
        Event = self.env["isp.subscription.event"].sudo()
        Event.create(
            {
                "subscription_id": sub.id,
                "event_type": "promise",
                "event_date": self.d("2026-07-22"),
                "promise_until": self.d("2026-07-29"),
            }
        )
        Event.create(
            {
                "subscription_id": sub.id,
                "event_type": "upgrade",
                "event_date": self.d("2026-08-01"),
            }
        )
        history = self.service._histories([sub.id])[sub.id]
        expected = {
            "id": sub.id,
            "start": self.FIRST,
            "invoices": [
                {
                    "id": inv.id,
                    "date": inv.invoice_date,
                    "due": inv.invoice_date + timedelta(days=15),
                    "amount": 2999.0,
                    "paid": (inv.invoice_date + timedelta(days=25))
                    if n < self.MONTHS - 1
                    else None,
                }
                for n, inv in enumerate(invoices)
            ],
            # the scheduled (not yet run) attempt is not a result
            "autopay": [(attempt_day, True)],
            "promises": [(self.d("2026-07-22"), self.d("2026-07-29"))],
            "upgrades": [self.d("2026-08-01")],
        }
        self.assertEqual(history, expected)
        for inv in expected["invoices"]:
            self.assertEqual(
                F.features(history, inv, 0), F.features(expected, inv, 0), inv["date"]
            )
        # The promise of 22 July covered the invoice due on 20 July, paid on
        # the 30th: broken, known on the invoice of 5 August.
        august = expected["invoices"][9]
        vector = dict(zip(F.FEATURES, F.features(history, august, 0), strict=True))
        self.assertEqual(vector["promises_broken_180"], 1.0)
        self.assertEqual(vector["autopay_fail_90"], 1.0)
        self.assertEqual(vector["days_since_upgrade"], 4.0)

    def test_training_rows_in_sql_are_those_of_the_features(self):
        """The training rows computed set-based in SQL are, bit for bit, the
        pure features (``riskcore.features``) of the histories read from the
        database: every feature, label and day to pay, for several days and
        grace days, with auto-pay results, promises kept, broken and
        covering nothing, upgrades, a second invoice on the same day of
        another amount and an invoice paid in two parts."""
        late, punctual = self.late_1, self.punctual_1
        inv_punctual = self.invoices[punctual]
        self.env["isp.autopay.attempt"].sudo().create(
            [
                {
                    "invoice_id": inv_punctual[n].id,
                    "subscription_id": punctual.id,
                    "scheduled_date": inv_punctual[n].invoice_date
                    + timedelta(days=offset),
                    "attempt": attempt,
                    "state": state,
                }
                for n in (2, 3, 6)
                for attempt, (offset, state) in enumerate(
                    [(0, "failed"), (1, "failed"), (3, "done"), (5, "scheduled")],
                    start=1,
                )
            ]
        )
        Event = self.env["isp.subscription.event"].sudo()
        for sub, made, until in [
            (late, "2026-03-22", "2026-03-29"),  # broken: paid on the 30th
            (late, "2026-04-20", "2026-04-30"),  # kept: paid on the 30th
            (late, "2026-05-02", "2026-05-03"),  # covered nothing
            (punctual, "2026-06-01", "2026-06-10"),  # covered nothing
        ]:
            Event.create(
                {
                    "subscription_id": sub.id,
                    "event_type": "promise",
                    "event_date": self.d(made),
                    "promise_until": self.d(until),
                }
            )
        for sub, day in [(punctual, "2026-02-01"), (late, "2026-07-01")]:
            Event.create(
                {
                    "subscription_id": sub.id,
                    "event_type": "upgrade",
                    "event_date": self.d(day),
                }
            )
        extra = self._risk_invoice(
            late, self.d("2026-06-05"), self.d("2026-06-20"), 4500.0
        )
        self._pay(extra, self.d("2026-06-19"))
        split = self._risk_invoice(
            punctual, self.d("2026-01-17"), self.d("2026-02-01"), 1000.0
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=split.ids
        ).create(
            {
                "payment_date": self.d("2026-01-20"),
                "journal_id": self.bank.id,
                "amount": 400.0,
                "payment_difference_handling": "open",
            }
        )._create_payments()
        self._pay(split, self.d("2026-02-03"))
        self.env.flush_all()
        ids = self.subs.ids
        # set-based: no feature is computed invoice by invoice in Python
        with patch.object(F, "features", side_effect=AssertionError("per invoice")):
            self.service._rows(ids, 0, self.TODAY)
        checked = 0
        for as_of, grace in [
            (self.d("2026-11-25"), 0),
            (self.TODAY, 0),
            (self.TODAY, 5),
            (self.d("2026-06-21"), 0),
            (self.d("2026-02-02"), 2),
        ]:
            rows = self.service._rows(ids, grace, as_of)
            histories = self.service._histories(ids)
            X, y, days, dates, groups = [], [], [], [], []
            for sub_id in sorted(histories):
                for inv, vector, is_late, d in F.labelled_rows(
                    histories[sub_id], grace, as_of, as_of - relativedelta(months=24)
                ):
                    X.append(vector)
                    y.append(is_late)
                    days.append(d)
                    dates.append(inv["date"])
                    groups.append(sub_id)
            expected = (
                np.asarray(X, dtype=np.float64).reshape(-1, len(F.FEATURES)),
                np.array(y, dtype=np.int8),
                np.array(days, dtype=float),
                np.array(dates, dtype="datetime64[D]"),
                np.array(groups, dtype=np.int64),
            )
            for got, want in zip(rows, expected, strict=True):
                self.assertEqual(got.dtype, want.dtype)
                self.assertEqual(got.shape, want.shape)
                self.assertEqual(got.tobytes(), want.tobytes(), (as_of, grace))
            checked += len(y)
        # due before the day less the grace: all 13 invoices of each of the
        # 4 subscriptions and the 2 more (25 November); 12 each and the 2
        # more (10 November, either grace); 8 each and the 2 more (21 June:
        # due by 20 June); 3 each (2 February, grace 2: due by 30 January)
        self.assertEqual(checked, 54 + 50 + 50 + 34 + 12)
        # the facts above are in the rows: auto-pay failures, a broken and a
        # kept promise, November 2025 late, days since an upgrade, the other
        # amount's ratio
        X = self.service._rows(ids, 0, self.d("2026-11-25"))[0]
        for name in (
            "autopay_fail_90",
            "promises_broken_180",
            "promises_kept_180",
            "late_same_month_ly",
        ):
            self.assertTrue((X[:, F.INDEX[name]] > 0).any(), name)
        self.assertTrue((X[:, F.INDEX["days_since_upgrade"]] < 999).any())
        self.assertTrue((X[:, F.INDEX["amount_ratio"]] != 1.0).any())
        self.assertTrue((X[:, F.INDEX["salary_share"]] > 0).any())


@tagged("post_install", "-at_install")
class TestPaymentRiskTraining(PaymentRiskCommon):
    def test_too_short_history_gives_no_score_and_says_why(self):
        """With 60 invoices needed, the 48 settled ones are refused: the
        model record and every open invoice and subscription say why, and
        no invoice has a probability."""
        self.company.isp_risk_min_invoices = 60
        model = self._train_and_score()
        self.assertEqual(model.state, "refused")
        self.assertFalse(model.attachment_id)
        message = "No score: the history has 48 settled invoices, 60 are needed."
        self.assertEqual(model.refusal, message)
        for invoice in self.open_invoices:
            self.assertEqual(invoice.isp_risk_state, "none")
            self.assertEqual(invoice.isp_risk_probability, 0.0)
            self.assertEqual(invoice.isp_risk_amount, 0.0)
            self.assertEqual(invoice.isp_risk_reasons, message)
        for sub in self.subs:
            self.assertEqual(sub.isp_risk_state, "none")
            self.assertEqual(sub.isp_risk_reasons, message)

    def test_too_few_months_gives_no_score(self):
        """Twelve months of history, fourteen needed: refused."""
        self.company.isp_risk_min_months = 14
        model = self._train_and_score()
        self.assertEqual(model.state, "refused")
        self.assertRegex(model.refusal, r"covers 11 months, 14 are needed")

    def test_never_trained_gives_no_score(self):
        self.service._score(self.company, self.TODAY)
        self.env.invalidate_all()
        self.assertEqual(self.open_invoices[0].isp_risk_state, "none")
        self.assertIn("no payment-risk model", self.open_invoices[0].isp_risk_reasons)

    def test_trained_model_scores_and_explains(self):
        """The late payers' open invoices rank above the punctual ones', with
        the reason in plain words; the model is stored as a versioned
        attachment with its window and figures; the amount at risk is the
        risk times the amount due."""
        model = self._train_and_score()
        self.assertEqual(model.state, "ready")
        self.assertEqual(model.version, 1)
        self.assertEqual(model.invoice_count, 48)
        self.assertEqual(model.late_share, 0.5)
        self.assertEqual(model.date_from, self.FIRST)
        self.assertEqual(model.date_to, self.d("2026-10-05"))
        self.assertEqual(model.as_of, self.TODAY)
        self.assertEqual(model.holdout_count, 12)  # August to October
        self.assertTrue(model.attachment_id.raw)
        self.assertEqual(model.attachment_id.res_model, "isp.payment.risk.model")
        # 36 training invoices are too few for the model to beat the
        # historical late rate: the baseline is the score (README).
        self.assertEqual(model.kind, "baseline_rate")
        late = self.invoices[self.late_1][-1]
        punctual = self.invoices[self.punctual_1][-1]
        self.assertEqual(late.isp_risk_state, "scored")
        self.assertGreater(late.isp_risk_probability, 0.8)
        self.assertLess(punctual.isp_risk_probability, 0.2)
        # 12 late of 12 known, shrunk towards the overall 0.5 by two
        # invoices: (12 + 2 x 0.5) / 14.
        self.assertAlmostEqual(late.isp_risk_probability, 13 / 14, places=6)
        self.assertAlmostEqual(
            late.isp_risk_amount, round(13 / 14 * 2999.0, 2), places=2
        )
        self.assertIn("paid 6 of the last 6 invoices late", late.isp_risk_reasons)
        self.assertEqual(punctual.isp_risk_reasons, "No risk factor stands out.")
        self.assertEqual(late.isp_risk_model_id, model)
        self.assertEqual(late.isp_risk_date, self.TODAY)
        # The subscription's current risk: an invoice it would get today.
        self.assertGreater(self.late_1.isp_risk_probability, 0.8)
        self.assertLess(self.punctual_1.isp_risk_probability, 0.2)

    def test_retraining_is_a_new_version_with_the_same_scores(self):
        """Training is deterministic: a second version scores the same."""
        first = self._train_and_score()
        before = self.open_invoices.mapped("isp_risk_probability")
        second = self._train_and_score()
        self.assertEqual(second.version, 2)
        self.assertEqual(first.state, "replaced")
        self.assertEqual(second.state, "ready")
        self.assertEqual(self.open_invoices.mapped("isp_risk_probability"), before)

    def test_a_tampered_model_is_not_loaded(self):
        model = self._train_and_score()
        model.attachment_id.sudo().datas = base64.b64encode(b"not a model")
        with self.assertRaisesRegex(ValueError, "checksum mismatch"):
            self.service._score(self.company, self.TODAY)

    def test_overdue_invoice_is_late_for_sure(self):
        """Scored after its due date (20 November) unpaid: probability 1."""
        self._train_and_score()
        self.service._score(self.company, self.d("2026-11-21"))
        self.env.invalidate_all()
        punctual = self.invoices[self.punctual_1][-1]
        self.assertEqual(punctual.isp_risk_probability, 1.0)
        self.assertIn("already unpaid past its due date", punctual.isp_risk_reasons)
        self.assertGreaterEqual(punctual.isp_risk_days, 16)


@tagged("post_install", "-at_install")
class TestPaymentRiskNeverActs(PaymentRiskCommon):
    def test_training_and_scoring_change_nothing_but_the_risk(self):
        """The risk never suspends, throttles, charges or messages anyone:
        after training and scoring, the subscriptions, their lines, the
        invoices, the dunning history and the mail and SMS queues are as
        before."""
        self._setup_dunning()
        active = self._active_subscription(
            self.plan_home, self.FIRST, partner=self.late_2.partner_id
        )
        subs = self.subs | active

        def snapshot():
            self.env.invalidate_all()
            return {
                "subs": [
                    (s.state, s.throttled, s.suspension_kind, s.line_ids.ids)
                    for s in subs
                ],
                "moves": [
                    (m.amount_total, m.amount_residual, m.payment_state, m.state)
                    for m in self.env["account.move"].search(
                        [("company_id", "=", self.company.id)]
                    )
                ],
                "logs": self.env["isp.dunning.log"].search_count([]),
                "mails": self.env["mail.mail"].sudo().search_count([]),
                "sms": self.env["sms.sms"].sudo().search_count([]),
                "messages": self.env["mail.message"]
                .sudo()
                .search_count([("model", "in", ("isp.subscription", "account.move"))]),
                "events": self.env["isp.subscription.event"].sudo().search_count([]),
            }

        before = snapshot()
        self._train_and_score()
        self.service._score(self.company, self.d("2026-12-30"))
        self.assertEqual(snapshot(), before)
        self.assertEqual(self.late_1.isp_risk_state, "scored")


@tagged("post_install", "-at_install")
class TestPaymentRiskAccess(PaymentRiskCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("risk")

    def test_only_staff_read_the_risk_and_only_managers_train(self):
        self._train_and_score()
        invoice = self.invoices[self.late_1][-1]
        for user in (self.isp_user, self.invoicing_user, self.isp_manager):
            self.assertGreater(
                invoice.with_user(user).read(["isp_risk_probability"])[0][
                    "isp_risk_probability"
                ],
                0.8,
            )
        portal = self._create_portal_user("risk_portal_late", self.late_1.partner_id)
        with self.assertRaises(AccessError):
            invoice.with_user(portal).read(["isp_risk_probability"])
        with self.assertRaises(AccessError):
            self.late_1.with_user(portal).read(["isp_risk_reasons"])
        Model = self.env["isp.payment.risk.model"]
        for user in (self.isp_user, self.invoicing_user, portal):
            with self.assertRaises(AccessError):
                Model.with_user(user).action_train_now()
            with self.assertRaises(AccessError):
                Model.with_user(user).action_score_now()
        with self.assertRaises(AccessError):
            Model.with_user(self.isp_manager).create(
                {"company_id": self.company.id, "version": 9, "state": "ready"}
            )
        with self.assertRaises(AccessError):
            Model.with_user(self.isp_manager).search([]).write({"kind": "model"})

    def test_a_manager_trains_and_scores_from_the_backend(self):
        action = (
            self.env["isp.payment.risk.model"]
            .with_user(self.isp_manager)
            .with_company(self.company)
            .action_train_now()
        )
        model = self.env["isp.payment.risk.model"].browse(action["res_id"])
        self.assertEqual(model.company_id, self.company)
        self.assertIn(model.state, ("ready", "refused"))


@tagged("post_install", "-at_install")
class TestPaymentRiskSettings(PaymentRiskCommon):
    def test_bad_settings_are_refused(self):
        for vals, message in (
            ({"isp_risk_grace_days": -1}, "Grace days cannot be negative"),
            ({"isp_risk_min_invoices": 0}, "at least one invoice"),
            ({"isp_risk_min_months": 3}, "at least 4 months"),
        ):
            with self.assertRaisesRegex(ValidationError, message):
                self.company.write(vals)
            self.assertEqual(self.company.isp_risk_min_months, 6)


@tagged("post_install", "-at_install")
class TestPaymentRiskConcurrentChange(TransactionCase):
    def test_scoring_meets_a_change_committed_since_it_began(self):
        """Another job commits a change to a subscription after the scoring
        job's transaction began: the scoring of that company is given up
        without an error (PostgreSQL refuses the update under repeatable
        read) and the job is triggered again in 5 minutes (README)."""
        sub = self.env["isp.subscription"].search(
            [("state", "=", "active"), ("company_id", "=", self.env.company.id)],
            limit=1,
        )
        self.assertTrue(sub, "the demo data has an active subscription")
        cron = self.env.ref("isp_payment_risk.ir_cron_isp_payment_risk_score")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        # this transaction's snapshot is taken; another one changes the row
        self.env.cr.execute("SELECT 1 FROM isp_subscription WHERE id = %s", [sub.id])
        with self.env.registry.cursor() as other:
            other.execute(
                "UPDATE isp_subscription SET write_date = write_date WHERE id = %s",
                [sub.id],
            )
            other.commit()
        # no error: the job returns, and calls itself again later
        self.assertTrue(
            self.env["isp.payment.risk.service"]._cron_score(
                date_ref=fields.Date.today()
            )
        )
        new = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(new), 1)
        self.assertGreater(new.call_at, fields.Datetime.now())
