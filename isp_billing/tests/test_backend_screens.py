# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The staff screens' figures: monthly recurring totals, the balance and
overdue amounts of subscriptions and customers with their *Balance* buttons,
*Promise to pay* refused over RPC once used in the period, and the
subscriptions' filters (overdue, unpaid, auto-pay, promise running, slowed
down, suspended for non-payment)."""

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestBackendScreens(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("screens")
        cls.term_10 = cls.env["account.payment.term"].create(
            {
                "name": "10 days",
                "company_id": cls.company.id,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100.0, "nb_days": 10}
                    )
                ],
            }
        )

    def test_monthly_recurring_totals_count_running_subscriptions_only(self):
        """The list total, pivot and graph (read_group) of *Monthly recurring*
        add up active and suspended subscriptions only."""
        start = self.d("2026-11-01")
        draft = self._create_subscription(self.plan_home, start)
        active = self._active_subscription(self.plan_home, start)
        business = self._active_subscription(
            self.plan_business, start, partner=self.customer_2
        )
        suspended = self._active_subscription(self.plan_home, start)
        suspended.action_suspend("Overdue")
        terminated = self._active_subscription(self.plan_business, start)
        terminated.action_terminate(start, "Moving", credit=False)
        subs = draft | active | business | suspended | terminated
        domain = [("id", "in", subs.ids)]
        Sub = self.env["isp.subscription"]
        # 2,999 (home) + 9,999 (business) + 2,999 (home, suspended)
        [total] = Sub.read_group(domain, ["recurring_monthly:sum"], [])
        self.assertEqual(total["recurring_monthly"], 15997.0)
        by_state = {
            group["state"]: group["recurring_monthly"]
            for group in Sub.read_group(domain, ["recurring_monthly:sum"], ["state"])
        }
        self.assertEqual(
            by_state,
            {"draft": 0.0, "active": 12998.0, "suspended": 2999.0, "terminated": 0.0},
        )
        # The analysis opens on running subscriptions only.
        action = self.env.ref("isp_billing.isp_subscription_action_analysis")
        self.assertIn("search_default_active", action.context)
        self.assertIn("search_default_suspended", action.context)

    def _payment_on_account(self, partner, amount):
        journal = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "bank")], limit=1
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "currency_id": self.kes.id,
                "company_id": self.company.id,
                "journal_id": journal.id,
            }
        )
        payment.action_post()
        return payment

    def test_balance_and_overdue_of_subscriptions_and_customer(self):
        """Subscription and customer show the one balance (the customer's
        open items net of unallocated payments) and what is overdue; *Balance*
        opens exactly those items, for accountants only."""
        home = self._active_subscription(
            self.plan_home, self.d("2026-10-01"), payment_term_id=self.term_10.id
        )
        self._bill(home, self.d("2026-10-01"))  # 2,999 due Oct 11
        business = self._active_subscription(
            self.plan_business, self.d("2026-11-01"), payment_term_id=self.term_10.id
        )
        other = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        with freeze_time("2026-11-05 10:00:00"):
            self._bill(home | business | other, self.d("2026-11-01"))
            self._payment_on_account(self.customer, 1000.0)
            (home | business).invalidate_recordset()
            self.customer.invalidate_recordset()
            # 2,999 (Oct) + 2,999 (Nov) + 9,999 (Nov) - 1,000 paid on account
            balance = 2999.0 + 2999.0 + 9999.0 - 1000.0
            self.assertEqual(
                (home.isp_amount_due, home.isp_amount_overdue), (balance, 2999.0)
            )
            self.assertEqual(
                (business.isp_amount_due, business.isp_amount_overdue), (balance, 0.0)
            )
            customer = self.customer.with_user(self.invoicing_user)
            self.assertEqual(
                (customer.isp_balance, customer.isp_amount_overdue), (balance, 2999.0)
            )
            self.assertEqual(customer.isp_balance_currency_id, self.kes)
            self.assertEqual(self.customer_2.isp_balance, 2999.0)
            self.assertEqual(self.customer_2.isp_amount_overdue, 0.0)

            for record in (business.with_user(self.invoicing_user), customer):
                action = record.action_view_isp_open_items()
                lines = self.env["account.move.line"].search(action["domain"])
                self.assertEqual(
                    sorted(lines.mapped("amount_residual_currency")),
                    [-1000.0, 2999.0, 2999.0, 9999.0],
                )
            # The forms an accountant opens show the same figures.
            partner_form = Form(customer)
            self.assertEqual(partner_form.isp_balance, balance)
            self.assertEqual(partner_form.isp_amount_overdue, 2999.0)
            sub_form = Form(home.with_user(self.invoicing_user))
            self.assertEqual(sub_form.isp_amount_due, balance)
            # A subscriber cannot open them, nor read the balance fields.
            for record in (
                business.with_user(self.portal_user),
                self.customer.with_user(self.portal_user),
            ):
                with self.assertRaises(AccessError):
                    record.action_view_isp_open_items()
            with self.assertRaises(AccessError):
                self.customer.with_user(self.portal_user).read(["isp_balance"])

    def test_search_by_phone_as_typed(self):
        """*Phone* in the subscriptions' search: the customer's mobile or
        phone (stored in E.164) as people type it, or any part of it."""
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        other = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        Sub = self.env["isp.subscription"]
        arch = etree.fromstring(Sub.get_view(view_type="search")["arch"])
        self.assertEqual(arch.xpath("//field[@name='isp_phone']/@name"), ["isp_phone"])
        mine = [("id", "in", (sub | other).ids)]
        for typed, found in (
            ("0712 345 678", sub),
            ("+254 712 345 678", sub),
            ("+254712345678", sub),
            ("712 345", sub),
            ("0799 000 000", Sub),
            ("no digits", Sub),
        ):
            self.assertEqual(
                Sub.search([*mine, ("isp_phone", "ilike", typed)]), found, typed
            )

    def _rpc_promise(self, sub):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "isp.subscription",
                "method": "action_promise_to_pay",
                "args": [sub.ids],
                "kwargs": {"context": {"allowed_company_ids": self.company.ids}},
            },
        )

    @mute_logger("odoo.http")
    def test_promise_to_pay_refused_over_rpc_once_used_in_the_period(self):
        """The button hides once a promise was made in the billing period,
        and the server refuses a second promise called over JSON-RPC."""
        self.company.isp_promise_days = 3
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, sub._today())
        self.assertTrue(sub.promise_available)
        HttpCase.authenticate(self, "screens_isp_user", "screens_isp_user")
        self.assertTrue(self._rpc_promise(sub))
        sub.invalidate_recordset()
        until = sub.promise_until
        self.assertTrue(until)
        self.assertFalse(sub.promise_available)
        events = len(sub.event_ids)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.UserError"):
            self._rpc_promise(sub)
        sub.invalidate_recordset()
        self.assertEqual(sub.promise_until, until)
        self.assertEqual(len(sub.event_ids), events)

    def test_each_staff_filter_finds_its_subscriptions(self):
        """The subscriptions' search filters, evaluated as the web client
        does (their domains from the search view): overdue, unpaid,
        auto-pay, promise to pay running, slowed down, suspended for
        non-payment; each finds its subscription and not the others."""
        today = self.d("2026-12-10")
        plain = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        late = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        with freeze_time("2026-11-01"):
            self._bill(late, self.d("2026-11-01"))  # due 1 November, unpaid
        token = self._demo_card()
        autopay = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        autopay.write({"autopay": True, "autopay_token_id": token.id})
        promise = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        promise.promise_until = self.d("2026-12-12")
        slowed = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        slowed.throttled = True
        cut = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        cut.action_suspend("Unpaid invoice", kind="nonpayment")
        manual = self._active_subscription(self.plan_home, self.d("2026-12-01"))
        manual.action_suspend("Customer away")
        subs = plain | late | autopay | promise | slowed | cut | manual

        Sub = self.env["isp.subscription"]
        arch = etree.fromstring(
            Sub.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        expected = {
            "overdue": late,
            "unpaid": late,
            "autopay": autopay,
            "promise_running": promise,
            "throttled": slowed,
            "suspended_nonpayment": cut,
        }
        with freeze_time(today):
            for name, subscription in expected.items():
                [node] = arch.xpath(f"//filter[@name='{name}']")
                domain = safe_eval(node.get("domain"), {"context_today": lambda: today})
                with self.subTest(filter=name):
                    self.assertEqual(
                        Sub.search([("id", "in", subs.ids), *domain]), subscription
                    )
