# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestLifecycle(IspBillingCommon):
    @freeze_time("2026-11-21 09:00:00")
    def test_transitions_are_dated_reasoned_and_logged(self):
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        self.assertTrue(sub.account_number.startswith("ACC"))
        calls = []
        Sub = type(sub)
        original = Sub._isp_state_changed

        def spy(records, old_states, reason):
            calls.append((dict(old_states), reason, records.mapped("state")))
            return original(records, old_states, reason)

        with patch.object(Sub, "_isp_state_changed", autospec=True, side_effect=spy):
            sub.action_activate()
            sub.action_suspend("Invoice INV/2026/0001 unpaid")
            sub.action_reactivate("Paid by M-PESA")
            sub.action_terminate(self.d("2026-11-21"), "Moving away", credit=False)
        self.assertEqual(
            [(old[sub.id], new) for old, __, new in calls],
            [
                ("draft", ["active"]),
                ("active", ["suspended"]),
                ("suspended", ["active"]),
                ("active", ["terminated"]),
            ],
        )
        self.assertEqual(
            sub.event_ids.sorted("id").mapped("event_type"),
            ["new", "suspension", "reactivation", "termination"],
        )
        self.assertEqual(sub.state_reason, "Moving away")
        self.assertEqual(sub.state_date, self.d("2026-11-21"))
        bodies = " ".join(sub.message_ids.mapped("body"))
        self.assertIn("Suspended on", bodies)
        self.assertIn("Invoice INV/2026/0001 unpaid", bodies)
        self.assertIn("Paid by M-PESA", bodies)

    def test_wrong_transitions_refused(self):
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        with self.assertRaises(UserError):
            sub.action_suspend("no")
        sub.action_activate()
        with self.assertRaises(UserError):
            sub.action_reactivate("no")
        with self.assertRaises(UserError):
            sub.action_activate()
        with self.assertRaises(UserError):
            sub.unlink()

    def test_event_log_is_append_only(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        event = sub.event_ids
        self.assertEqual(event.event_type, "new")
        self.assertEqual(event.recurring_monthly, 2999.0)
        with self.assertRaises(UserError):
            event.reason = "rewritten"
        with self.assertRaises(UserError):
            event.unlink()

    def test_monthly_recurring_normalised(self):
        weekly = self._active_subscription(self.plan_weekly, self.d("2026-11-01"))
        # 700 a week * 30.437 / 7 (a month of 30.437 days) = 3043.70
        self.assertEqual(weekly.recurring_monthly, 3043.7)

    def test_monthly_recurring_only_for_running_subscriptions(self):
        draft = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        self.assertEqual(
            (draft.recurring_total, draft.recurring_monthly), (2999.0, 0.0)
        )
        draft.action_activate()
        self.assertEqual(draft.recurring_monthly, 2999.0)
        draft.action_suspend("Overdue")
        self.assertEqual(draft.recurring_monthly, 2999.0)  # still billed
        draft.action_terminate(self.d("2026-11-01"), "Moving", credit=False)
        self.assertEqual(draft.recurring_monthly, 0.0)
        self.assertEqual(draft.event_ids.sorted("id")[-1].recurring_monthly, 0.0)

    def test_smart_buttons(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-12-01"))
        self.assertEqual(sub.invoice_count, 2)
        action = sub.action_view_invoices()
        self.assertEqual(
            self.env["account.move"].search(action["domain"]),
            sub.invoice_line_ids.move_id,
        )
        self.assertEqual(self.customer.isp_subscription_count, 1)
        action = self.customer.action_view_isp_subscriptions()
        self.assertEqual(self.env["isp.subscription"].search(action["domain"]), sub)


@tagged("post_install", "-at_install")
class TestAccess(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other ISP"})
        cls.user_here = new_test_user(
            cls.env,
            login="isp_user_ke",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.user_other = new_test_user(
            cls.env,
            login="isp_user_other",
            groups="isp_billing.group_isp_user",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        cls.user_plain = new_test_user(
            cls.env,
            login="plain_employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.sub = cls._active_subscription(cls.plan_home, cls.d("2026-11-01"))

    @staticmethod
    def _as(records, user):
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_ids.ids
        )

    def test_other_company_cannot_read(self):
        Sub = self.env["isp.subscription"]
        domain = [("id", "=", self.sub.id)]
        self.assertEqual(self._as(Sub, self.user_here).search(domain), self.sub)
        self.assertFalse(self._as(Sub, self.user_other).search(domain))
        with self.assertRaises(AccessError):
            self._as(self.sub, self.user_other).read(["partner_id"])
        with self.assertRaises(AccessError):
            self._as(self.sub.event_ids, self.user_other).read(["event_type"])
        with self.assertRaises(AccessError):
            self._as(self.sub, self.user_other).write({"note": "hi"})

    def test_rights_by_group(self):
        self._as(self.sub, self.user_here).read(["partner_id"])
        with self.assertRaises(AccessError):
            self._as(self.sub, self.user_plain).read(["partner_id"])
        with self.assertRaises(AccessError):
            self._as(self.sub, self.user_here).unlink()
        with self.assertRaises(AccessError):
            self._as(self.env["isp.subscription.event"], self.user_here).create(
                {
                    "subscription_id": self.sub.id,
                    "event_type": "new",
                    "event_date": self.d("2026-11-01"),
                }
            )


@tagged("post_install", "-at_install")
class TestReconnectionOnPayment(IspBillingCommon):
    """A subscription suspended for non-payment comes back by itself once its
    overdue invoices are paid, whatever the channel; one suspended by hand
    does not."""

    def _pay(self, invoice, amount, day):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": amount, "payment_date": day})._create_payments()

    def test_paying_overdue_invoices_reconnects(self):
        with freeze_time("2026-11-01 09:00:00"):
            sub = self._active_subscription(
                self.plan_home, self.d("2026-11-01"), anchor=self.d("2026-11-01")
            )
            manual = self._active_subscription(
                self.plan_home, self.d("2026-11-01"), anchor=self.d("2026-11-01")
            )
            invoices = self._bill(sub | manual, self.d("2026-11-01"))
        invoice = invoices.filtered(lambda m: m.isp_subscription_ids == sub)
        manual_invoice = invoices - invoice
        self.assertEqual(len(manual_invoice), 1)
        # November in advance, no taxes on this plan: 2,999.00.
        self.assertEqual(invoice.amount_total, 2999.0)
        self.assertEqual(invoice.invoice_date_due, self.d("2026-11-01"))
        with freeze_time("2026-11-10 09:00:00"):
            sub.action_suspend("INV unpaid 9 days", kind="nonpayment")
            manual.action_suspend("Customer asked for a pause")
            self.assertEqual(sub.suspension_kind, "nonpayment")

            self._pay(invoice, 1000.0, self.d("2026-11-10"))
            self.assertEqual(invoice.payment_state, "partial")
            self.assertEqual(invoice.amount_residual, 1999.0)
            self.assertEqual(sub.state, "suspended", "1,999.00 still overdue")

            self._pay(invoice, 1999.0, self.d("2026-11-10"))
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(sub.state, "active")
            self.assertFalse(sub.suspension_kind)
            self.assertEqual(sub.state_reason, "Overdue invoices paid")
            self.assertEqual(
                sub.event_ids.sorted("id").mapped("event_type"),
                ["new", "suspension", "reactivation"],
            )

            self._pay(manual_invoice, 2999.0, self.d("2026-11-10"))
            self.assertEqual(manual.state, "suspended", "suspended by hand stays")

    def test_other_overdue_invoice_keeps_it_suspended(self):
        with freeze_time("2026-10-01 09:00:00"):
            sub = self._active_subscription(
                self.plan_home, self.d("2026-10-01"), anchor=self.d("2026-10-01")
            )
            october = self._bill(sub, self.d("2026-10-01"))
        with freeze_time("2026-11-01 09:00:00"):
            november = self._bill(sub, self.d("2026-11-01"))
        with freeze_time("2026-11-05 09:00:00"):
            sub.action_suspend("Two months unpaid", kind="nonpayment")
            self._pay(november, 2999.0, self.d("2026-11-05"))
            self.assertEqual(sub.state, "suspended", "October is still overdue")
            self._pay(october, 2999.0, self.d("2026-11-05"))
            self.assertEqual(sub.state, "active")


@tagged("post_install", "-at_install")
class TestBackendFigures(IspBillingCommon):
    """The collections figures and filters of the subscriptions list."""

    def test_balance_overdue_and_filters(self):
        term_10 = self.env["account.payment.term"].create(
            {
                "name": "10 days",
                "company_id": self.company.id,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100.0, "nb_days": 10}
                    )
                ],
            }
        )
        late = self._active_subscription(
            self.plan_home, self.d("2026-10-01"), payment_term_id=term_10.id
        )
        self._bill(late, self.d("2026-10-01"))  # due Oct 11: overdue now
        fresh = self._active_subscription(
            self.plan_business, self.d("2026-11-01"), partner=self.customer_2
        )
        with freeze_time("2026-11-05 10:00:00"):
            self._bill(late | fresh, self.d("2026-11-01"))
            subs = late | fresh
            subs.invalidate_recordset()
            # late: October overdue (2,999) + November due Nov 11 (2,999)
            self.assertEqual(
                (late.isp_amount_due, late.isp_amount_overdue), (5998.0, 2999.0)
            )
            self.assertEqual(
                (fresh.isp_amount_due, fresh.isp_amount_overdue), (9999.0, 0.0)
            )
            Sub = self.env["isp.subscription"]
            mine = [("id", "in", subs.ids)]
            self.assertEqual(Sub.search([*mine, ("isp_overdue", "=", True)]), late)
            self.assertEqual(Sub.search([*mine, ("isp_overdue", "=", False)]), fresh)
            self.assertEqual(Sub.search([*mine, ("isp_unpaid", "=", True)]), subs)
            self.assertTrue(late.promise_available)
            late.action_promise_to_pay()
            late.invalidate_recordset(["promise_available"])
            self.assertFalse(late.promise_available)
            # fresh owes an invoice not due yet: a promise may be made
            self.assertTrue(fresh.promise_available)

    def test_search_by_phone(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        found = self.env["isp.subscription"].search(
            [("partner_id.phone_sanitized", "ilike", "254712345678")]
        )
        self.assertIn(sub, found)
