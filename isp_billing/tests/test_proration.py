# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Money: every figure below is computed by hand in the comment above it."""

from datetime import date
from decimal import Decimal

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from odoo.addons.isp_billing import utils

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestPeriodArithmetic(IspBillingCommon):
    def test_month_end_anchor_does_not_drift(self):
        # Anchored on Jan 31: Feb 28, Mar 31, Apr 30 — never the 28th forever.
        anchor = date(2026, 1, 31)
        self.assertEqual(
            [utils.boundary(anchor, 1, "month", k) for k in range(4)],
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
            ],
        )
        self.assertEqual(
            utils.period_containing(date(2026, 3, 30), anchor, 1, "month"),
            (date(2026, 2, 28), date(2026, 3, 31)),
        )
        # Before the anchor: the period that ends on it.
        self.assertEqual(
            utils.period_containing(date(2026, 1, 15), anchor, 1, "month"),
            (date(2025, 12, 31), date(2026, 1, 31)),
        )

    def test_round_half_up_once(self):
        self.assertEqual(utils.round_amount("62.5", 1.0), Decimal("63"))
        self.assertEqual(utils.round_amount("-62.5", 1.0), Decimal("-63"))
        self.assertEqual(utils.round_amount("62.4999", 1.0), Decimal("62"))
        self.assertEqual(utils.round_amount("0.005", 0.01), Decimal("0.01"))
        self.assertEqual(utils.round_amount("0.0049999", 0.01), Decimal("0.00"))
        self.assertEqual(utils.round_amount("2.475", 0.05), Decimal("2.50"))
        # 2999 * 16 / 30 = 1599.4666... -> 1599.47
        self.assertEqual(
            str(
                utils.prorate(
                    2999,
                    date(2026, 11, 15),
                    date(2026, 12, 1),
                    date(2026, 11, 1),
                    date(2026, 12, 1),
                    0.01,
                )
            ),
            "1599.47",
        )
        with self.assertRaises(ValueError):
            utils.prorate(
                2999,
                date(2026, 10, 15),
                date(2026, 12, 1),
                date(2026, 11, 1),
                date(2026, 12, 1),
                0.01,
            )


@tagged("post_install", "-at_install")
class TestProration(IspBillingCommon):
    def test_partial_first_period_then_full(self):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-11-15"), anchor=self.d("2026-12-01")
        )
        first = self._bill(sub, self.d("2026-11-15"))
        # [Nov 15, Dec 1) is 16 of November's 30 days: 2999 * 16 / 30 = 1599.47
        self.assertEqual(len(first), 1)
        self.assertMoveAmounts(first, 1599.47, 0.0, 1599.47)
        self.assertIn("(16 of 30 days)", first.invoice_line_ids.name)
        self.assertEqual(first.state, "posted")
        self.assertEqual(first.payment_reference, sub.account_number)
        self.assertEqual(sub.next_invoice_date, self.d("2026-12-01"))
        second = self._bill(sub, self.d("2026-12-01"))
        self.assertMoveAmounts(second, 2999.0, 0.0, 2999.0)
        self.assertEqual(sub.next_invoice_date, self.d("2027-01-01"))

    def test_currency_rounded_to_units(self):
        ugx = self.setup_other_currency(
            "UGX", rounding=1.0, rates=[("2000-01-01", 30.0)]
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "UGX", "currency_id": ugx.id, "company_id": self.company.id}
        )
        sub = self._create_subscription(
            self.plan_home,
            self.d("2026-11-14"),
            anchor=self.d("2026-12-01"),
            pricelist_id=pricelist.id,
        )
        self.assertEqual(sub.currency_id, ugx)
        sub.line_ids.price_unit = 100000.0
        sub.action_activate()
        move = self._bill(sub, self.d("2026-11-14"))
        # [Nov 14, Dec 1) is 17 of 30 days: 100000 * 17 / 30 = 56666.67 -> 56667
        self.assertEqual(move.currency_id, ugx)
        self.assertMoveAmounts(move, 56667.0, 0.0, 56667.0)

    def test_quantity_and_addons_prorated(self):
        sub = self._active_subscription(
            self.plan_home,
            self.d("2026-11-15"),
            anchor=self.d("2026-12-01"),
            extra_lines=[(self.static_ip, {"quantity": 2.0})],
        )
        move = self._bill(sub, self.d("2026-11-15"))
        # plan: 2999 * 16/30 = 1599.47; static IP: unit 500 * 16/30 = 266.67, x 2
        # = 533.34; total 2132.81
        self.assertMoveAmounts(move, 2132.81, 0.0, 2132.81)
        ip_line = move.invoice_line_ids.filtered(
            lambda line: line.product_id == self.static_ip
        )
        self.assertEqual((ip_line.quantity, ip_line.price_unit), (2.0, 266.67))

    def test_weekly_and_day_periods_catch_up(self):
        weekly = self._active_subscription(self.plan_weekly, self.d("2026-11-25"))
        bundle = self._active_subscription(self.plan_bundle, self.d("2026-11-25"))
        moves = self._bill(weekly | bundle, self.d("2026-12-09"))
        # weekly: Nov 25, Dec 2, Dec 9 -> three invoices of 700
        weekly_moves = moves.filtered(lambda m: weekly in m.isp_subscription_ids)
        self.assertEqual(weekly_moves.mapped("amount_total"), [700.0, 700.0, 700.0])
        self.assertEqual(weekly.next_invoice_date, self.d("2026-12-16"))
        # 30-day bundle: only Nov 25 -> Dec 25
        bundle_moves = moves - weekly_moves
        self.assertEqual(bundle_moves.mapped("amount_total"), [500.0])
        self.assertEqual(bundle.next_invoice_date, self.d("2026-12-25"))

    def test_month_end_subscription(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-01-31"))
        moves = self._bill(sub, self.d("2026-03-31"))
        self.assertEqual(moves.mapped("amount_total"), [2999.0] * 3)
        self.assertEqual(
            sub.period_ids.sorted("date_start").mapped(
                lambda p: (p.date_start, p.date_end)
            ),
            [
                (self.d("2026-01-31"), self.d("2026-02-28")),
                (self.d("2026-02-28"), self.d("2026-03-31")),
                (self.d("2026-03-31"), self.d("2026-04-30")),
            ],
        )


@tagged("post_install", "-at_install")
class TestPlanChange(IspBillingCommon):
    def _billed_november(self, plan):
        sub = self._active_subscription(plan, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        return sub

    @freeze_time("2026-11-21 09:00:00")
    def test_upgrade_mid_period(self):
        sub = self._billed_november(self.plan_home)
        move = sub._change_plan(self.plan_business, self.d("2026-11-21"), "Faster")
        # [Nov 21, Dec 1) is 10 of 30 days.
        # credit old: -(2999 * 10/30) = -999.67; charge new: 9999 * 10/30 = 3333.00
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(
            sorted(move.invoice_line_ids.mapped("price_subtotal")), [-999.67, 3333.0]
        )
        self.assertMoveAmounts(move, 2333.33, 0.0, 2333.33)
        self.assertEqual(sub.plan_id, self.plan_business)
        self.assertEqual(sub.event_ids[0].event_type, "upgrade")
        self.assertEqual(sub.event_ids[0].old_plan_id, self.plan_home)
        # December is billed at the new price.
        december = self._bill(sub, self.d("2026-12-01"))
        self.assertMoveAmounts(december, 9999.0, 0.0, 9999.0)

    @freeze_time("2026-11-21 09:00:00")
    def test_downgrade_mid_period_gives_credit_note(self):
        sub = self._billed_november(self.plan_business)
        move = sub._change_plan(self.plan_home, self.d("2026-11-21"), "Cheaper")
        # credit old: 9999 * 10/30 = 3333.00; charge new: 2999 * 10/30 = 999.67
        # net -2333.33: a credit note of 2333.33
        self.assertEqual(move.move_type, "out_refund")
        self.assertMoveAmounts(move, 2333.33, 0.0, 2333.33)
        self.assertEqual(sub.event_ids[0].event_type, "downgrade")
        self.assertEqual(sub.plan_id, self.plan_home)

    @freeze_time("2026-11-21 09:00:00")
    def test_change_scheduled_at_period_end(self):
        sub = self._billed_november(self.plan_business)
        self.assertFalse(sub._change_plan(self.plan_home, self.d("2026-12-01")))
        self.assertEqual(sub.plan_id, self.plan_business)
        self.assertEqual(sub.pending_plan_id, self.plan_home)
        # The job applies it on Dec 1 before billing: no proration, new price.
        december = self._bill(sub, self.d("2026-12-01"))
        self.assertEqual(sub.plan_id, self.plan_home)
        self.assertMoveAmounts(december, 2999.0, 0.0, 2999.0)
        self.assertFalse(sub.pending_plan_id)

    @freeze_time("2026-11-21 09:00:00")
    def test_change_to_other_rhythm_restarts_periods(self):
        sub = self._billed_november(self.plan_home)
        moves = sub._change_plan(self.plan_weekly, self.d("2026-11-21"))
        # The credit: 2999 * 10/30 = 999.67, as a credit note; then the first
        # week of the new rhythm, billed at once.
        credit, week = moves.sorted("id")
        self.assertEqual(credit.move_type, "out_refund")
        self.assertMoveAmounts(credit, 999.67, 0.0, 999.67)
        self.assertMoveAmounts(week, 700.0, 0.0, 700.0)
        self.assertEqual(sub.billing_anchor_date, self.d("2026-11-21"))
        self.assertEqual(sub.next_invoice_date, self.d("2026-11-28"))
        self.assertFalse(self._bill(sub, self.d("2026-11-21")))


@tagged("post_install", "-at_install")
class TestTermination(IspBillingCommon):
    @freeze_time("2026-11-21 09:00:00")
    def test_terminate_with_credit(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        before = sub.invoice_line_ids.move_id
        sub.action_terminate(self.d("2026-11-21"), "Moving away", credit=True)
        credit = sub.invoice_line_ids.move_id - before
        # unused [Nov 21, Dec 1): 2999 * 10/30 = 999.67
        self.assertEqual(credit.move_type, "out_refund")
        self.assertMoveAmounts(credit, 999.67, 0.0, 999.67)
        self.assertEqual(sub.state, "terminated")
        self.assertEqual(sub.event_ids[0].event_type, "termination")
        self.assertFalse(self._bill(sub, self.d("2026-12-01")))

    @freeze_time("2026-11-21 09:00:00")
    def test_terminate_without_credit(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        before = sub.invoice_line_ids.move_id
        sub.action_terminate(self.d("2026-11-21"), "Moving away", credit=False)
        self.assertEqual(sub.invoice_line_ids.move_id, before)
        self.assertEqual(sub.state, "terminated")

    @freeze_time("2026-11-21 09:00:00")
    def test_scheduled_termination_bills_last_partial_period(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        sub.action_terminate(self.d("2026-12-11"), "End of contract")
        self.assertEqual(sub.state, "active")
        last = self._bill(sub, self.d("2026-12-01"))
        # [Dec 1, Dec 11) is 10 of December's 31 days: 2999 * 10/31 = 967.42
        self.assertMoveAmounts(last, 967.42, 0.0, 967.42)
        self.assertFalse(self._bill(sub, self.d("2026-12-11")))
        self.assertEqual(sub.state, "terminated")
        self.assertEqual(sub.date_end, self.d("2026-12-11"))


@tagged("post_install", "-at_install")
class TestTaxes(IspBillingCommon):
    def _taxed_plan(self, price, taxes):
        return self._isp_plan("Taxed plan", price, taxes=taxes)

    def test_tax_excluded_excise_and_vat(self):
        plan = self._taxed_plan(2999.0, self.excise + self.vat)
        sub = self._active_subscription(
            plan, self.d("2026-11-15"), anchor=self.d("2026-12-01")
        )
        partial = self._bill(sub, self.d("2026-11-15"))
        # base 1599.47; excise 15% = 239.92; VAT 16% of (1599.47 + 239.92) = 294.30
        # tax 534.22, total 2133.69
        self.assertMoveAmounts(partial, 1599.47, 534.22, 2133.69)
        full = self._bill(sub, self.d("2026-12-01"))
        # base 2999; excise 449.85; VAT 16% of 3448.85 = 551.82; tax 1001.67
        self.assertMoveAmounts(full, 2999.0, 1001.67, 4000.67)
        taxes = full.line_ids.filtered("tax_line_id")
        self.assertEqual(
            sorted(taxes.mapped(lambda line: (line.tax_line_id.name, line.credit))),
            [("Excise 15%", 449.85), ("VAT 16%", 551.82)],
        )

    def test_tax_included_excise_and_vat(self):
        plan = self._taxed_plan(3999.0, self.excise_incl + self.vat_incl)
        sub = self._active_subscription(
            plan, self.d("2026-11-15"), anchor=self.d("2026-12-01")
        )
        partial = self._bill(sub, self.d("2026-11-15"))
        # price 3999 * 16/30 = 2132.80 tax included;
        # VAT = 2132.80 - 2132.80/1.16 = 294.18; excise = 1838.6207 - 1838.6207/1.15
        # = 239.82; base = 2132.80 - 294.18 - 239.82 = 1598.80
        self.assertMoveAmounts(partial, 1598.80, 534.0, 2132.80)
        full = self._bill(sub, self.d("2026-12-01"))
        # VAT = 3999 - 3999/1.16 = 551.59; excise = 3447.4138 - 3447.4138/1.15
        # = 449.66; base 2997.75
        self.assertMoveAmounts(full, 2997.75, 1001.25, 3999.0)

    def test_line_carries_product_taxes_and_account(self):
        plan = self._taxed_plan(2999.0, self.excise + self.vat)
        sub = self._active_subscription(plan, self.d("2026-11-01"))
        move = self._bill(sub, self.d("2026-11-01"))
        line = move.invoice_line_ids
        self.assertEqual(line.tax_ids, self.excise + self.vat)
        self.assertEqual(line.account_id, self.income_account)
        self.assertEqual(line.product_id, plan)
        self.assertEqual(
            (line.isp_period_start, line.isp_period_end),
            (self.d("2026-11-01"), self.d("2026-12-01")),
        )

    def test_payment_terms_plan_then_customer(self):
        term_30 = self.env["account.payment.term"].create(
            {
                "name": "30 days",
                "company_id": self.company.id,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 30}
                    )
                ],
            }
        )
        term_7 = self.env["account.payment.term"].create(
            {
                "name": "7 days",
                "company_id": self.company.id,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 7}
                    )
                ],
            }
        )
        self.plan_home.with_company(self.company).isp_payment_term_id = term_30
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        move = self._bill(sub, self.d("2026-11-01"))
        self.assertEqual(move.invoice_payment_term_id, term_30)
        self.assertEqual(move.invoice_date_due, self.d("2026-12-01"))
        self.customer.with_company(self.company).property_payment_term_id = term_7
        move = self._bill(sub, self.d("2026-12-01"))
        self.assertEqual(move.invoice_payment_term_id, term_7)
        self.assertEqual(move.invoice_date_due, self.d("2026-12-08"))
