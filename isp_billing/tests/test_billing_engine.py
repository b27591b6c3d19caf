# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import psycopg2

from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import IspBillingCommon

ENGINE_LOGGER = "odoo.addons.isp_billing.models"


@tagged("post_install", "-at_install")
class TestBillingEngine(IspBillingCommon):
    def test_run_twice_bills_once(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        first = self._bill(sub, self.d("2026-11-01"))
        again = self._bill(sub, self.d("2026-11-01"))
        self.assertEqual(len(first), 1)
        self.assertFalse(again)
        self.assertEqual(len(sub.period_ids), 1)
        self.assertEqual(sub.period_ids.move_id, first)

    @mute_logger("odoo.sql_db")
    def test_database_refuses_a_second_billing_of_a_period(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        move = self._bill(sub, self.d("2026-11-01"))
        with self.assertRaises(psycopg2.errors.UniqueViolation):
            self.env["isp.subscription.period"].sudo().create(
                {
                    "subscription_id": sub.id,
                    "company_id": self.company.id,
                    "date_start": self.d("2026-11-01"),
                    "date_end": self.d("2026-12-01"),
                    "move_id": move.id,
                }
            )
            self.env.flush_all()

    def test_stale_next_date_cannot_bill_twice(self):
        """Even if the next billing date were wrong (crash between the invoice and
        the date update), the period key stops a second invoice."""
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        invoices = sub.invoice_line_ids.move_id
        sub.with_context(isp_billing_engine=True).write(
            {"next_invoice_date": self.d("2026-11-01")}
        )
        with mute_logger("odoo.sql_db", "odoo.addons.isp_billing.models"):
            self._bill(sub, self.d("2026-11-01"))
        self.assertEqual(sub.invoice_line_ids.move_id, invoices)
        self.assertEqual(len(sub.period_ids), 1)
        # Under the run's row lock no other worker can be billing it: the
        # refusal is a data problem, flagged for someone to look at.
        self.assertTrue(sub.billing_exception)
        self.assertIn(
            "isp_subscription_period_billed_unique", sub.billing_exception_reason
        )

    def test_catch_up_after_missed_days(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-08-01"))
        moves = self._bill(sub, self.d("2026-11-05"))
        # August, September, October, November: one invoice per period.
        self.assertEqual(len(moves), 4)
        self.assertEqual(moves.mapped("amount_total"), [2999.0] * 4)
        # Same amount, same date, yet no "possible duplicate" warning.
        self.assertFalse(moves.duplicated_ref_ids)
        self.assertEqual(
            sorted(sub.period_ids.mapped("date_start")),
            [
                self.d(x)
                for x in ("2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01")
            ],
        )
        self.assertEqual(sub.next_invoice_date, self.d("2026-12-01"))

    def test_bill_now_catches_up_subscriptions_with_different_periods(self):
        """Regression: billing several subscriptions whose periods end on
        different days bills every due period of each, in one call."""
        first = self._active_subscription(self.plan_home, self.d("2026-09-01"))
        second = self._active_subscription(
            self.plan_home, self.d("2026-09-15"), partner=self.customer_2
        )
        (first | second)._bill_due_periods(self.d("2026-11-20"))
        # Sep 1, Oct 1, Nov 1 and Sep 15, Oct 15, Nov 15
        self.assertEqual(len(first.period_ids), 3)
        self.assertEqual(len(second.period_ids), 3)
        self.assertEqual(first.next_invoice_date, self.d("2026-12-01"))
        self.assertEqual(second.next_invoice_date, self.d("2026-12-15"))

    def test_broken_subscription_is_skipped_and_logged(self):
        broken_account = self.income_account.copy({"code": "400999"})
        broken_plan = self._isp_plan("Broken plan", 1000.0)
        broken_plan.property_account_income_id = broken_account
        good = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        broken = self._active_subscription(
            broken_plan, self.d("2026-11-01"), partner=self.customer_2
        )
        broken_account.deprecated = True
        with mute_logger(ENGINE_LOGGER):
            moves = self._bill(good | broken, self.d("2026-11-01"))
        self.assertEqual(moves.isp_subscription_ids, good)
        self.assertTrue(broken.billing_exception)
        self.assertIn("deprecated", broken.billing_exception_reason)
        self.assertIn("Billing failed", broken.message_ids[0].body)
        self.assertFalse(broken.period_ids)
        # Skipped by later runs until someone fixes it and retries.
        self.assertFalse(self._bill(broken, self.d("2026-11-02")))
        broken_account.deprecated = False
        broken.action_retry_billing()
        moves = self._bill(broken, self.d("2026-11-02"))
        self.assertMoveAmounts(moves, 1000.0, 0.0, 1000.0)
        self.assertFalse(broken.billing_exception)

    def test_batches_report_progress_and_resume_after_interruption(self):
        subs = self.env["isp.subscription"]
        for __ in range(5):
            subs |= self._active_subscription(self.plan_home, self.d("2026-11-01"))
        cron = self.env.ref("isp_billing.ir_cron_isp_billing")
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": cron.id, "done": 0, "remaining": 0}
        )
        Sub = self.env["isp.subscription"].with_context(ir_cron_progress_id=progress.id)
        # One cron call bills one batch and reports what is left.
        Sub._cron_bill_subscriptions(batch_size=2, today=self.d("2026-11-01"))
        self.assertEqual((progress.done, progress.remaining), (2, 3))
        self.assertEqual(len(subs.period_ids), 2)
        # The next batch dies half-way (worker killed): nothing of it stays.
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            Sub._cron_bill_subscriptions(batch_size=2, today=self.d("2026-11-01"))
            raise RuntimeError("worker killed")
        self.assertEqual(len(subs.period_ids), 2)
        # The run resumes: every subscription billed exactly once.
        self._bill(subs, self.d("2026-11-01"))
        for sub in subs:
            self.assertEqual(len(sub.period_ids), 1, sub.account_number)
            self.assertEqual(len(sub.invoice_line_ids.move_id), 1)

    def test_consolidated_invoice(self):
        partner = self.customer_2
        partner.with_company(self.company).isp_consolidate_invoices = True
        home = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=partner
        )
        business = self._active_subscription(
            self.plan_business, self.d("2026-11-01"), partner=partner
        )
        moves = self._bill(home | business, self.d("2026-11-01"))
        # 2999 + 9999 = 12998 on one invoice, one section per subscription
        self.assertEqual(len(moves), 1)
        self.assertMoveAmounts(moves, 12998.0, 0.0, 12998.0)
        self.assertEqual(
            len(
                moves.invoice_line_ids.filtered(
                    lambda line: line.display_type == "line_section"
                )
            ),
            2,
        )
        self.assertEqual(home.period_ids.move_id, business.period_ids.move_id)
        self.assertIn(home.account_number, moves.invoice_origin)
        self.assertIn(business.account_number, moves.invoice_origin)

    def test_setup_fee_and_one_time_lines_billed_once(self):
        self.plan_business.isp_setup_fee_product_id = self.install_fee
        sub = self._active_subscription(self.plan_business, self.d("2026-11-01"))
        first = self._bill(sub, self.d("2026-11-01"))
        # 9999 + installation 5000
        self.assertMoveAmounts(first, 14999.0, 0.0, 14999.0)
        second = self._bill(sub, self.d("2026-12-01"))
        self.assertMoveAmounts(second, 9999.0, 0.0, 9999.0)

    def test_usage_extension_point(self):
        """An add-on returns usage lines for the period that ended; they go on the
        next period's invoice, in arrears."""
        calls = []
        overage = self._isp_product("Data over allowance", 100.0)

        def usage_lines(sub, date_start, date_end):
            calls.append((sub.id, date_start, date_end))
            return [
                {
                    "product_id": overage.id,
                    "name": "Data over allowance: 3 GB",
                    "quantity": 3.0,
                    "price_unit": 100.0,
                }
            ]

        Sub = type(self.env["isp.subscription"])
        sub = self._active_subscription(self.plan_bundle, self.d("2026-11-01"))
        with patch.object(
            Sub, "_isp_usage_invoice_line_vals", autospec=True, side_effect=usage_lines
        ):
            first = self._bill(sub, self.d("2026-11-01"))
            second = self._bill(sub, self.d("2026-12-01"))
        # First invoice: nothing has been used yet.
        self.assertMoveAmounts(first, 500.0, 0.0, 500.0)
        # Second: the bundle in advance (500) + usage of Nov 1-Dec 1 (3 x 100)
        self.assertMoveAmounts(second, 800.0, 0.0, 800.0)
        self.assertEqual(calls, [(sub.id, self.d("2026-11-01"), self.d("2026-12-01"))])
        usage = second.invoice_line_ids.filtered(
            lambda line: line.product_id == overage
        )
        self.assertEqual(usage.isp_period_start, self.d("2026-11-01"))

    def test_preview_writes_nothing(self):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-11-15"), anchor=self.d("2026-12-01")
        )
        moves_before = self.env["account.move"].search_count([])
        wizard = Form(
            self.env["isp.billing.wizard"].with_context(
                active_model="isp.subscription", active_ids=sub.ids
            )
        )
        wizard.billing_date = self.d("2026-11-15")
        wizard = wizard.save()
        wizard.action_preview()
        # One document: 2,999 x 16/30 = 1,599.47 untaxed.
        self.assertEqual(wizard.line_ids.mapped("amount_untaxed"), [1599.47])
        self.assertEqual(wizard.line_ids.mapped("move_type"), ["out_invoice"])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(sub.period_ids)
        self.assertEqual(sub.next_invoice_date, self.d("2026-11-15"))
        # Then bill for real from the same wizard.
        wizard.action_bill()
        self.assertEqual(len(sub.period_ids), 1)

    def test_suspended_subscriptions_keep_being_billed(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        sub.action_suspend("Unpaid")
        moves = self._bill(sub, self.d("2026-11-01"))
        self.assertEqual(len(moves), 1)

    def test_draft_and_terminated_are_not_billed(self):
        draft = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        self.assertFalse(self._bill(draft, self.d("2026-11-01")))
        self.assertFalse(draft.period_ids)

    def test_billed_period_shows_its_last_day(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        period = sub.period_ids
        self.assertEqual(
            (period.date_start, period.date_last, period.date_end),
            (self.d("2026-11-01"), self.d("2026-11-30"), self.d("2026-12-01")),
        )

    @mute_logger(ENGINE_LOGGER, "odoo.sql_db")
    def test_sql_error_in_an_add_ons_hook_flags_only_its_subscription(self):
        broken = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        fine = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        self._bill(broken | fine, self.d("2026-11-01"))
        Sub = type(self.env["isp.subscription"])

        def usage_lines(sub, date_start, date_end):
            if sub == broken:
                sub.env.cr.execute("SELECT 1 / 0")  # an add-on's failing query
            return []

        with patch.object(
            Sub, "_isp_usage_invoice_line_vals", autospec=True, side_effect=usage_lines
        ):
            moves = self._bill(broken | fine, self.d("2026-12-01"))
        self.assertEqual(moves.line_ids.isp_subscription_id, fine)
        self.assertTrue(broken.billing_exception)
        self.assertIn("division by zero", broken.billing_exception_reason)
        self.assertFalse(fine.billing_exception)
