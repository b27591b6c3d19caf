# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Regression tests of issue #12: each figure is computed by hand in the test."""

from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestEngineRegressions(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_home_taxed = cls._isp_plan(
            "10 Mbps Home (taxed)", 2999.0, taxes=cls.excise | cls.vat
        )
        cls.plan_home_twin = cls._isp_plan("10 Mbps Home (twin)", 2999.0)

    def _docs(self, sub):
        """``[(move type, untaxed, total)]`` of the subscription, in order."""
        sub.invalidate_recordset()
        return [
            (m.move_type, m.amount_untaxed, m.amount_total)
            for m in sub.invoice_line_ids.move_id.sorted("id")
        ]

    # 1. ---------------------------------------------------------------

    def test_restart_on_a_billed_period_start_does_not_stop_the_run(self):
        """A change to another period length dated on the first day of an
        already-billed period restarts the periods that day: the run bills it,
        and everybody else, and the scheduled termination happens."""
        first = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(first, self.d("2026-11-01"))
        other = self._active_subscription(
            self.plan_home, self.d("2026-11-15"), partner=self.customer_2
        )
        moves = first._change_plan(
            self.plan_weekly, self.d("2026-11-01"), date_ref=self.d("2026-11-01")
        )
        # Whole November credited (2,999.00), first week billed (700.00).
        self.assertEqual(
            [(m.move_type, m.amount_total) for m in moves.sorted("id")],
            [("out_refund", 2999.0), ("out_invoice", 700.0)],
        )
        first.action_terminate(
            self.d("2026-11-22"), "Moving", credit=False, date_ref=self.d("2026-11-10")
        )
        self._bill(first | other, self.d("2026-11-22"))
        self.assertFalse(first.billing_exception)
        self.assertEqual(first.state, "terminated")
        # November, its credit, the weeks of Nov 1, 8 and 15 (700.00 each);
        # nothing from Nov 22 on.
        self.assertEqual(
            self._docs(first),
            [
                ("out_invoice", 2999.0, 2999.0),
                ("out_refund", 2999.0, 2999.0),
                ("out_invoice", 700.0, 700.0),
                ("out_invoice", 700.0, 700.0),
                ("out_invoice", 700.0, 700.0),
            ],
        )
        self.assertEqual(self._docs(other), [("out_invoice", 2999.0, 2999.0)])
        credited = first.period_ids.filtered("credited")
        self.assertEqual(credited.date_start, self.d("2026-11-01"))
        self.assertEqual(credited.credit_move_id, moves.sorted("id")[0])

    @mute_logger("odoo.addons.isp_billing.models", "odoo.sql_db")
    def test_key_refusal_flags_that_subscription_and_the_run_goes_on(self):
        broken = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(broken, self.d("2026-11-01"))
        fine = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        # A stale next date: the period key refuses the second billing.
        broken.with_context(isp_billing_engine=True).write(
            {"next_invoice_date": self.d("2026-11-01")}
        )
        self._bill(broken | fine, self.d("2026-11-01"))
        self.assertTrue(broken.billing_exception)
        self.assertIn("Billing failed", broken.message_ids[0].body)
        self.assertEqual(self._docs(fine), [("out_invoice", 2999.0, 2999.0)])

    # 2. ---------------------------------------------------------------

    def test_change_of_period_length_credits_every_recurring_line(self):
        sub = self._active_subscription(
            self.plan_bundle,
            self.d("2026-11-01"),
            extra_lines=[
                (self.router, {"quantity": 1}),
                (self.static_ip, {"quantity": 3}),
            ],
        )
        self._bill(sub, self.d("2026-11-01"))  # [Nov 1, Dec 1): 500 + 300 + 1,500
        moves = sub._change_plan(
            self.plan_weekly, self.d("2026-11-09"), date_ref=self.d("2026-11-09")
        )
        credit, week = moves.sorted("id")
        # 22 of 30 days unused: bundle 500 x 22/30 = 366.67, router 300 x 22/30
        # = 220.00, IP block 3 x (500 x 22/30 = 366.67) = 1,100.01.
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(
            sorted(
                (line.product_id.name, line.quantity, line.price_unit)
                for line in credit.invoice_line_ids
            ),
            [
                ("5 GB Bundle", 1.0, 366.67),
                ("Router rental", 1.0, 220.0),
                ("Static IP", 3.0, 366.67),
            ],
        )
        self.assertMoveAmounts(credit, 1686.68, 0.0, 1686.68)
        # Then the weekly rhythm from Nov 9: 700 + 300 + 3 x 500.
        self.assertMoveAmounts(week, 2500.0, 0.0, 2500.0)
        self.assertEqual(
            set(week.invoice_line_ids.mapped("isp_period_start")),
            {self.d("2026-11-09")},
        )

    # 3. ---------------------------------------------------------------

    def test_scheduled_termination_keeps_its_credit_choice(self):
        self.company.isp_termination_credit = False
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        sub.action_terminate(
            self.d("2026-11-21"), "Moving", credit=True, date_ref=self.d("2026-11-10")
        )
        self.assertEqual(sub.state, "active")
        moves = self._bill(sub, self.d("2026-11-21"))
        # [Nov 21, Dec 1) unused: 2,999 x 10/30 = 999.67, dated on the run's day.
        self.assertEqual(sub.state, "terminated")
        self.assertEqual(moves.move_type, "out_refund")
        self.assertMoveAmounts(moves, 999.67, 0.0, 999.67)
        self.assertEqual(moves.invoice_date, self.d("2026-11-21"))

    def test_scheduled_termination_without_credit_credits_nothing(self):
        self.company.isp_termination_credit = True
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        sub.action_terminate(
            self.d("2026-11-21"), "Moving", credit=False, date_ref=self.d("2026-11-10")
        )
        self.assertFalse(self._bill(sub, self.d("2026-11-25")))
        self.assertEqual(sub.state, "terminated")

    # 4. ---------------------------------------------------------------

    def _weekly_to_may_30(self, partner):
        sub = self._active_subscription(
            self.plan_weekly, self.d("2026-05-02"), partner=partner
        )
        self._bill(sub, self.d("2026-05-29"))  # weeks May 2 ... May 23
        self.assertEqual(sub.billed_until, self.d("2026-05-30"))
        sub._change_plan(
            self.plan_home, self.d("2026-05-31"), date_ref=self.d("2026-05-29")
        )
        self.assertEqual(sub.pending_plan_date, self.d("2026-05-31"))
        return sub

    def test_catch_up_bills_the_days_before_a_scheduled_change(self):
        skipped = self._weekly_to_may_30(self.customer)
        daily = self._weekly_to_may_30(self.customer_2)
        before = len(self._docs(skipped))
        Run = self.env["isp.billing.run"]
        Run._bill(skipped, self.d("2026-06-02"))
        for day in ("2026-05-30", "2026-05-31", "2026-06-01", "2026-06-02"):
            Run._bill(daily, self.d(day))
        # May 30: the week [May 30, Jun 6) (700.00); May 31: credit of its
        # 6 unused days (700 x 6/7 = 600.00), then the monthly plan from May 31.
        expected = [
            ("out_invoice", 700.0, 700.0),
            ("out_refund", 600.0, 600.0),
            ("out_invoice", 2999.0, 2999.0),
        ]
        self.assertEqual(self._docs(skipped)[before:], expected)
        self.assertEqual(self._docs(daily)[before:], expected)
        self.assertEqual(skipped.billing_anchor_date, self.d("2026-05-31"))

    # 5. ---------------------------------------------------------------

    def test_taxed_to_untaxed_at_the_same_price_is_a_credit_note(self):
        sub = self._active_subscription(self.plan_home_taxed, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        move = sub._change_plan(
            self.plan_home, self.d("2026-11-21"), date_ref=self.d("2026-11-21")
        )
        # 10 of 30 days: 999.67 both ways; untaxed net 0.00, but the credit
        # carries excise 149.95 (15 % of 999.67) and VAT 183.94 (16 % of
        # 1,149.62): a credit note of 333.89.
        self.assertEqual(move.move_type, "out_refund")
        self.assertMoveAmounts(move, 0.0, 333.89, 333.89)
        self.assertEqual(sub.event_ids.sorted("id")[-1].event_type, "plan_change")

    def test_a_zero_net_change_makes_no_document(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        before = sub.invoice_line_ids.move_id
        move = sub._change_plan(
            self.plan_home_twin, self.d("2026-11-21"), date_ref=self.d("2026-11-21")
        )
        self.assertFalse(move)
        self.assertEqual(sub.invoice_line_ids.move_id, before)
        self.assertEqual(sub.plan_id, self.plan_home_twin)
        self.assertEqual(sub.event_ids.sorted("id")[-1].event_type, "plan_change")
        self.assertIn("no document", sub.message_ids[0].body)

    def test_scheduled_change_with_a_negative_taxed_net_does_not_block_the_job(self):
        sub = self._active_subscription(self.plan_home_taxed, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        sub._change_plan(
            self.plan_home, self.d("2026-11-21"), date_ref=self.d("2026-11-10")
        )
        moves = self._bill(sub, self.d("2026-11-21"))
        self.assertEqual(moves.move_type, "out_refund")
        self.assertMoveAmounts(moves, 0.0, 333.89, 333.89)
        self.assertEqual(sub.plan_id, self.plan_home)
        self.assertFalse(sub.billing_exception)

    # 6. ---------------------------------------------------------------

    def test_adjustment_lines_carry_their_service_period(self):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), extra_lines=[(self.router, {})]
        )
        self._bill(sub, self.d("2026-11-01"))
        upgrade = sub._change_plan(
            self.plan_business, self.d("2026-11-21"), date_ref=self.d("2026-11-21")
        )
        self.assertEqual(
            set(
                upgrade.invoice_line_ids.mapped(
                    lambda aml: (aml.isp_period_start, aml.isp_period_end)
                )
            ),
            {(self.d("2026-11-21"), self.d("2026-12-01"))},
        )
        credit = sub.action_terminate(
            self.d("2026-11-25"), "Moving", credit=True, date_ref=self.d("2026-11-25")
        )
        # Business 9,999 x 6/30 = 1,999.80, router 300 x 6/30 = 60.00.
        self.assertMoveAmounts(credit, 2059.8, 0.0, 2059.8)
        self.assertEqual(
            set(
                credit.invoice_line_ids.mapped(
                    lambda aml: (aml.isp_period_start, aml.isp_period_end)
                )
            ),
            {(self.d("2026-11-25"), self.d("2026-12-01"))},
        )

    # 7. ---------------------------------------------------------------

    def test_run_billing_for_all_due_applies_what_is_scheduled_first(self):
        due = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(due, self.d("2026-11-01"))
        due._change_plan(
            self.plan_business, self.d("2026-12-01"), date_ref=self.d("2026-11-10")
        )
        later = self._active_subscription(
            self.plan_home, self.d("2026-12-15"), partner=self.customer_2
        )
        wizard = Form(self.env["isp.billing.wizard"])
        self.assertEqual(wizard.scope, "due")
        wizard.billing_date = self.d("2026-12-01")
        wizard = wizard.save()
        wizard.action_preview()
        # One document: December on the scheduled plan (9,999.00), no proration.
        self.assertEqual(
            [
                (line.move_type, line.amount_untaxed, line.amount_total)
                for line in wizard.line_ids
            ],
            [("out_invoice", 9999.0, 9999.0)],
        )
        self.assertEqual(due.plan_id, self.plan_home)  # the preview wrote nothing
        wizard.action_bill()
        self.assertEqual(due.plan_id, self.plan_business)
        self.assertFalse(later.period_ids)
        # Chosen by hand, a subscription with nothing due is listed with why.
        pick = Form(
            self.env["isp.billing.wizard"].with_context(
                active_model="isp.subscription", active_ids=later.ids
            )
        )
        self.assertEqual(pick.scope, "selected")
        pick.billing_date = self.d("2026-12-01")
        pick = pick.save()
        pick.action_preview()
        self.assertFalse(pick.line_ids)
        self.assertIn("nothing due: next period starts on", pick.error_text)

    # 8. ---------------------------------------------------------------

    def test_money_actions_take_a_reference_date(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        wizard = Form(
            self.env["isp.subscription.change.plan"].with_context(active_id=sub.id)
        )
        wizard.new_plan_id = self.plan_business
        wizard.date = self.d("2026-11-21")
        wizard.date_ref = self.d("2026-11-22")
        wizard.save().action_confirm()
        upgrade = sub.invoice_line_ids.move_id.sorted("id")[-1]
        # 10 of 30 days: -999.67 + 3,333.00 = 2,333.33, dated on the reference date.
        self.assertMoveAmounts(upgrade, 2333.33, 0.0, 2333.33)
        self.assertEqual(upgrade.invoice_date, self.d("2026-11-22"))
        credit = sub.action_terminate(
            self.d("2026-11-26"), "Moving", credit=True, date_ref=self.d("2026-11-27")
        )
        self.assertEqual(credit.invoice_date, self.d("2026-11-27"))
        self.assertMoveAmounts(credit, 1666.5, 0.0, 1666.5)  # 9,999 x 5/30

    # 9. ---------------------------------------------------------------

    def test_preview_and_change_share_one_rule(self):
        for plan, kind, event in (
            (self.plan_business, "upgrade", "upgrade"),
            (self.plan_home_twin, "switch", "plan_change"),
            # 500 per 30 days is about 507 a month
            (self.plan_bundle, "downgrade", "downgrade"),
        ):
            sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
            self._bill(sub, self.d("2026-11-01"))
            preview = sub._isp_plan_change_preview(plan, date_ref=self.d("2026-11-21"))
            self.assertEqual(preview["kind"], kind, plan.name)
            sub._change_plan(plan, self.d("2026-11-21"), date_ref=self.d("2026-11-21"))
            self.assertEqual(
                sub.event_ids.sorted("id")[-1].event_type, event, plan.name
            )

    def test_portal_preview_figures_are_the_change(self):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), extra_lines=[(self.router, {})]
        )
        self._bill(sub, self.d("2026-11-01"))
        preview = sub._isp_plan_change_preview(self.plan_business, self.d("2026-11-21"))
        # -2,999 x 10/30 + 9,999 x 10/30 = -999.67 + 3,333.00
        self.assertEqual([amount for __, amount in preview["lines"]], [-999.67, 3333.0])
        self.assertEqual(preview["net"], 2333.33)
        move = sub._change_plan(
            self.plan_business, self.d("2026-11-21"), date_ref=self.d("2026-11-21")
        )
        self.assertMoveAmounts(move, 2333.33, 0.0, 2333.33)

    def test_a_change_made_after_skipped_runs_bills_the_days_before_it(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        # No run since Nov 1; on Dec 10 staff change the plan, effective at once.
        moves = sub._change_plan(
            self.plan_weekly, self.d("2026-12-10"), date_ref=self.d("2026-12-10")
        )
        # November and December first (2,999.00 each), then the credit of
        # Dec 10 - Dec 31 (2,999 x 22/31 = 2,128.32), then the first week.
        self.assertEqual(
            [(m.move_type, m.amount_total) for m in moves.sorted("id")],
            [
                ("out_invoice", 2999.0),
                ("out_invoice", 2999.0),
                ("out_refund", 2128.32),
                ("out_invoice", 700.0),
            ],
        )
        self.assertEqual(set(moves.mapped("invoice_date")), {self.d("2026-12-10")})

    def test_a_termination_made_after_skipped_runs_bills_the_days_before_it(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        moves = sub.action_terminate(
            self.d("2026-11-16"), "Moving", credit=True, date_ref=self.d("2026-11-20")
        )
        # [Nov 1, Nov 16) only: 2,999 x 15/30 = 1,499.50; nothing to credit.
        self.assertEqual(
            [(m.move_type, m.amount_total) for m in moves], [("out_invoice", 1499.5)]
        )
        self.assertEqual(sub.state, "terminated")

    def test_one_batch_keeps_each_subscriptions_own_periods_and_labels(self):
        """The billing run works each distinct period and label of a batch out
        once: subscriptions billed together, on the same days, with another
        period length, anchor or first period, each get their own."""
        monthly = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        weekly = self._active_subscription(
            self.plan_weekly, self.d("2026-11-01"), partner=self.customer_2
        )
        partial = self._active_subscription(
            self.plan_home, self.d("2026-11-10"), anchor=self.d("2026-12-01")
        )
        bundle = self._active_subscription(
            self.plan_bundle, self.d("2026-11-01"), partner=self.customer_2
        )
        self._bill(monthly | weekly | partial | bundle, self.d("2026-11-10"))

        def billed(sub):
            sub.invalidate_recordset()
            return [
                (line.isp_period_start, line.price_unit, line.name.split("\n")[-1])
                for line in sub.invoice_line_ids.sorted("isp_period_start")
            ]

        self.assertEqual(
            billed(monthly),
            [(self.d("2026-11-01"), 2999.0, "11/01/2026 to 11/30/2026")],
        )
        # Two weeks of 700.00: Nov 1 - 7 and Nov 8 - 14.
        self.assertEqual(
            billed(weekly),
            [
                (self.d("2026-11-01"), 700.0, "11/01/2026 to 11/07/2026"),
                (self.d("2026-11-08"), 700.0, "11/08/2026 to 11/14/2026"),
            ],
        )
        # Nov 10 - 30 of the period Nov 1 - 30: 2,999 x 21/30 = 2,099.30.
        self.assertEqual(
            billed(partial),
            [
                (
                    self.d("2026-11-10"),
                    2099.3,
                    "11/10/2026 to 11/30/2026 (21 of 30 days)",
                )
            ],
        )
        # 30 days from Nov 1: the same dates as the month, its own price.
        self.assertEqual(
            billed(bundle),
            [(self.d("2026-11-01"), 500.0, "11/01/2026 to 11/30/2026")],
        )
