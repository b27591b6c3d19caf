# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The subscriber portal: access over HTTP (own records only, access tokens),
and tours in Chromium: see the subscription and go to pay, upgrade with
proration, downgrade at period end, promise to pay.

Tours run against the real clock: the subscriptions start 10 days before today
on 30-day plans, so today is day 11 of a period ``[today - 10, today + 20)``
and the proration figures are fixed: 20 of 30 days."""

from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import format_date, mute_logger

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestPortal(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fibre_5 = cls._isp_plan(
            "Fibre 5", 1999.0, down=5, up=5, interval=30, unit="day"
        )
        cls.fibre_10 = cls._isp_plan(
            "Fibre 10", 2999.0, down=10, up=10, interval=30, unit="day"
        )
        cls.fibre_50 = cls._isp_plan(
            "Fibre 50", 9999.0, down=50, up=25, interval=30, unit="day"
        )
        cls.portal_user = cls._create_portal_user("wanjiru")
        cls.other_user = cls._create_portal_user("otieno", cls.customer_2)

    def _running(self, partner=None, plan=None):
        """An active subscription on Fibre 10 since 10 days ago, its first
        30-day period billed: ``(subscription, invoice)``."""
        today = fields.Date.context_today(
            self.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        sub = self._active_subscription(
            plan or self.fibre_10, today - timedelta(days=10), partner=partner
        )
        invoice = self._bill(sub, today)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(sub.billed_until, today + timedelta(days=20))
        return sub, invoice

    def _pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    def _page(self, sub, **params):
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return self.url_open(
            f"/my/subscriptions/{sub.id}" + (f"?{query}" if query else "")
        )

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def test_portal_user_reads_only_own_subscriptions(self):
        mine, _invoice = self._running()
        theirs, _invoice = self._running(partner=self.customer_2)
        Sub = self.env["isp.subscription"].with_user(self.portal_user)
        self.assertEqual(Sub.search([("id", "in", (mine | theirs).ids)]), mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.portal_user).check_access("read")
        with self.assertRaises(AccessError):
            mine.with_user(self.portal_user).check_access("write")

    def test_own_subscription_page(self):
        sub, invoice = self._running()
        self.authenticate("wanjiru", "wanjiru")
        response = self.url_open("/my/subscriptions")
        self.assertEqual(response.status_code, 200)
        self.assertIn(sub.account_number, response.text)
        response = self._page(sub)
        self.assertEqual(response.status_code, 200)
        self.assertIn(sub.account_number, response.text)
        self.assertIn(invoice.name, response.text)
        self.assertIn('id="isp_portal_network"', response.text)
        if "radius_username" in sub._fields:
            # isp_radius fills the hook: the PPPoE login and the usage chart
            self.assertIn(sub.radius_username, response.text)
            self.assertIn("o_isp_radius_chart", response.text)
            self.assertEqual(response.text.count("o_isp_radius_bar"), 11)

    def test_a_subscription_not_billed_yet_has_its_page(self):
        """A draft awaiting installation, and an active one whose first period
        is not billed yet, have no billed period: the page still answers (the
        usage card of isp_radius has no rows to show)."""
        draft = self._create_subscription(self.fibre_10, self.d("2026-11-01"))
        self.authenticate("wanjiru", "wanjiru")
        response = self._page(draft)
        self.assertEqual(response.status_code, 200)
        self.assertIn(draft.account_number, response.text)
        draft.action_activate()
        self.assertFalse(draft.period_ids)
        response = self._page(draft)
        self.assertEqual(response.status_code, 200)
        self.assertIn(draft.account_number, response.text)

    def test_plan_change_offers_the_plans_of_the_same_family(self):
        """Plans of another family (product category) are not offered, and
        cannot be chosen by id either."""
        business = self.env["product.category"].create({"name": "Business"})
        office = self._isp_plan(
            "Office 100", 19999.0, down=100, up=100, interval=30, unit="day"
        )
        office.categ_id = business
        sub, _invoice = self._running()
        plans = sub._isp_portal_plans()
        self.assertIn(self.fibre_50, plans)
        self.assertNotIn(office, plans)
        self.assertEqual(set(plans.categ_id), {self.fibre_10.categ_id})
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}/plan")
        self.assertIn("Fibre 50", page.text)
        self.assertNotIn("Office 100", page.text)
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/plan",
            data={"csrf_token": http.Request.csrf_token(self), "plan_id": office.id},
        )
        sub.invalidate_recordset()
        self.assertEqual(sub.plan_id, self.fibre_10, response.url)

    def test_another_subscribers_id_is_refused(self):
        self._running()
        theirs, invoice = self._running(partner=self.customer_2)
        self.authenticate("wanjiru", "wanjiru")
        listing = self.url_open("/my/subscriptions")
        self.assertNotIn(theirs.account_number, listing.text)
        response = self._page(theirs)
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn(theirs.account_number, response.text)
        self.assertNotIn(invoice.name, response.text)
        # nor the plan page
        response = self.url_open(f"/my/subscriptions/{theirs.id}/plan")
        self.assertTrue(response.url.endswith("/my"), response.url)

    def test_guessed_access_token_is_refused(self):
        theirs, _invoice = self._running(partner=self.customer_2)
        token = theirs._portal_ensure_token()
        guess = token[:-1] + ("0" if token[-1] != "0" else "1")
        self.authenticate("wanjiru", "wanjiru")
        response = self._page(theirs, access_token=guess)
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn(theirs.account_number, response.text)
        # logged out: the login page, not the subscription
        self.authenticate(None, None)
        response = self._page(theirs, access_token=guess)
        self.assertNotIn(theirs.account_number, response.text)
        self.assertIn("/web/login", response.url)

    def test_right_token_works_logged_out(self):
        sub, invoice = self._running()
        self.authenticate(None, None)
        response = self._page(sub, access_token=sub._portal_ensure_token())
        self.assertEqual(response.status_code, 200)
        self.assertIn(sub.account_number, response.text)
        self.assertIn(invoice.name, response.text)
        self.assertEqual(
            sub.get_portal_url(),
            f"/my/subscriptions/{sub.id}?access_token={sub.access_token}",
        )

    def test_a_link_alone_shows_the_page_but_allows_no_action(self):
        """The access token travels in notification e-mails: whoever holds the
        link sees the page, without the actions nor the PPPoE password, and a
        promise or an auto-pay change through it needs the customer to log in."""
        sub, _invoice = self._running()
        sub.action_suspend("Overdue", kind="nonpayment")
        token = sub._portal_ensure_token()
        self.authenticate(None, None)
        page = self._page(sub, access_token=token)
        self.assertEqual(page.status_code, 200)
        self.assertIn(sub.account_number, page.text)
        for action in ('o_isp_promise">', "o_isp_autopay_card", 'o_isp_change_plan">'):
            self.assertNotIn(action, page.text)
        if "radius_password" in sub._fields:
            self.assertNotIn(sub.radius_password, page.text)
        csrf = http.Request.csrf_token(self)
        for path, data in (
            ("/promise", {"until": str(sub._isp_promise_until())}),
            ("/autopay", {"token_id": "0"}),
            ("/plan", {"plan_id": self.fibre_50.id}),
        ):
            response = self.url_open(
                f"/my/subscriptions/{sub.id}{path}?access_token={token}",
                data={"csrf_token": csrf, **data},
            )
            self.assertIn("/web/login", response.url, path)
        sub.invalidate_recordset()
        self.assertEqual(
            (sub.state, sub.promise_until, sub.plan_id),
            ("suspended", False, self.fibre_10),
        )
        # Logged in, the customer has the actions again.
        self.authenticate("wanjiru", "wanjiru")
        page = self._page(sub)
        self.assertIn("o_isp_autopay_card", page.text)

    def test_actions_on_another_subscription_are_refused(self):
        theirs, _invoice = self._running(partner=self.customer_2)
        theirs.action_suspend("Overdue", kind="nonpayment")
        self.authenticate("wanjiru", "wanjiru")
        csrf = http.Request.csrf_token(self)
        response = self.url_open(
            f"/my/subscriptions/{theirs.id}/promise",
            data={"csrf_token": csrf, "until": str(theirs._isp_promise_until())},
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        response = self.url_open(
            f"/my/subscriptions/{theirs.id}/plan",
            data={"csrf_token": csrf, "plan_id": self.fibre_50.id},
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        theirs.invalidate_recordset()
        self.assertEqual(
            (theirs.state, theirs.promise_until, theirs.plan_id),
            ("suspended", False, self.fibre_10),
        )

    def test_promise_confirmation_states_the_last_day(self):
        """The confirmation states the last day of service (today + the
        company's promise days, included); a confirmation of another day is
        not a promise: nothing changes and the page states the right day."""
        self.company.isp_promise_days = 5
        sub, _invoice = self._running()
        sub.action_suspend("Overdue", kind="nonpayment")
        until = sub._today() + timedelta(days=5)
        shown = format_date(self.env, until)
        self.authenticate("wanjiru", "wanjiru")
        page = self._page(sub).text
        modal = page.split('id="isp_promise_modal"')[1]
        date_tag = modal.split('class="o_isp_promise_date"')[1]
        self.assertIn(f">{shown}</strong>", date_tag[: date_tag.index("</strong>") + 9])
        self.assertIn(f'name="until" value="{until}"', modal)
        csrf = http.Request.csrf_token(self)
        for wrong in ("", str(until + timedelta(days=1)), "not a date"):
            response = self.url_open(
                f"/my/subscriptions/{sub.id}/promise",
                data={"csrf_token": csrf, "until": wrong},
            )
            self.assertIn("message=promise_changed", response.url, wrong)
            self.assertIn(f"keeps your service on until {shown}", response.text)
            sub.invalidate_recordset()
            self.assertEqual((sub.state, sub.promise_until), ("suspended", False))
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/promise",
            data={"csrf_token": csrf, "until": str(until)},
        )
        self.assertIn("message=promise", response.url)
        self.assertIn(f"your service is extended until {shown}", response.text)
        sub.invalidate_recordset()
        self.assertEqual((sub.state, sub.promise_until), ("active", until))
        # used in this period: no confirmation any more, the reason instead
        self.assertNotIn('id="isp_promise_modal"', response.text)
        self.assertIn("A promise was already made this billing period.", response.text)

    @mute_logger("odoo.http")
    def test_promise_without_csrf_token_is_refused(self):
        sub, _invoice = self._running()
        sub.action_suspend("Overdue", kind="nonpayment")
        self.authenticate("wanjiru", "wanjiru")
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/promise", data={"no": "token"}
        )
        self.assertEqual(response.status_code, 400)
        sub.invalidate_recordset()
        self.assertEqual(sub.state, "suspended")

    # ------------------------------------------------------------------
    # Statement
    # ------------------------------------------------------------------

    def test_statement_running_balance(self):
        sub, invoice = self._running()
        self._pay(invoice)
        upgrade = sub._change_plan(self.fibre_50, sub._today())
        self.authenticate("wanjiru", "wanjiru")
        page = self._page(sub).text
        # 2,999.00 invoiced, 2,999.00 paid, 4,666.67 for the upgrade
        self.assertEqual(upgrade.amount_total, 4666.67)
        rows = page.split("o_isp_statement_row")[1:]

        def balance(row):
            return row.split("o_isp_statement_balance")[1][:120]

        self.assertEqual(len(rows), 3)
        # in date order; on the same day documents come before payments
        self.assertIn(invoice.name, rows[0])
        self.assertIn("2,999.00", balance(rows[0]))
        self.assertIn(upgrade.name, rows[1])
        self.assertIn("7,665.67", balance(rows[1]))
        self.assertIn("Payment", rows[2])
        self.assertIn("4,666.67", balance(rows[2]))
        self.assertIn("o_isp_balance", page)
        self.assertIn("4,666.67", page.split('class="o_isp_balance"')[1][:120])

    # ------------------------------------------------------------------
    # Tours
    # ------------------------------------------------------------------

    def test_tour_see_subscription_and_pay_now(self):
        sub, invoice = self._running()
        self.start_tour("/my/subscriptions", "isp_billing_portal_pay", login="wanjiru")
        self.assertEqual(invoice.amount_residual, 2999.0)

    def test_tour_autopay_on_and_off(self):
        sub, invoice = self._running()
        card = self._demo_card()
        self.start_tour(
            f"/my/subscriptions/{sub.id}", "isp_billing_portal_autopay", login="wanjiru"
        )
        sub.invalidate_recordset()
        self.assertFalse(sub.autopay, "turned off at the end of the tour")
        self.assertEqual(sub.autopay_token_id, card)

    def test_autopay_with_another_customers_card_is_refused(self):
        sub, invoice = self._running()
        foreign = self._demo_card(partner=self.customer_2)
        self.authenticate("wanjiru", "wanjiru")
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/autopay",
            data={"token_id": foreign.id, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        sub.invalidate_recordset()
        self.assertFalse(sub.autopay)
        own = self._demo_card()
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/autopay",
            data={"token_id": own.id, "csrf_token": http.Request.csrf_token(self)},
        )
        sub.invalidate_recordset()
        self.assertTrue(sub.autopay)
        self.assertEqual(sub.autopay_token_id, own)

    def test_tour_upgrade_now_with_proration(self):
        sub, invoice = self._running()
        self._pay(invoice)
        before = sub.invoice_line_ids.move_id
        self.start_tour(
            f"/my/subscriptions/{sub.id}", "isp_billing_portal_upgrade", login="wanjiru"
        )
        sub.invalidate_recordset()
        self.assertEqual(sub.plan_id, self.fibre_50)
        move = sub.invoice_line_ids.move_id - before
        # 2,999 × 20/30 = 1,999.33 credited, 9,999 × 20/30 = 6,666.00 charged
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(
            sorted(move.invoice_line_ids.mapped("price_subtotal")), [-1999.33, 6666.0]
        )
        self.assertEqual(move.amount_total, 4666.67)
        self.assertEqual(sub.event_ids.sorted("id")[-1].event_type, "upgrade")

    def test_tour_plan_change_within_the_family_taxes_included(self):
        """Home plans taxed as Kenyan data (15 % excise, then 16 % VAT on price
        plus excise): the portal offers the home family only, each plan with
        its speed, its data cap and its price taxes included, and the upgrade's
        preview says what the invoice will be, taxes included."""
        home = self.env["product.category"].create({"name": "Home"})
        business = self.env["product.category"].create({"name": "Business"})
        taxes = self.excise | self.vat
        fibre_10 = self._isp_plan(
            "Home 10", 2999.0, down=10, up=10, interval=30, unit="day", taxes=taxes
        )
        fibre_50 = self._isp_plan(
            "Home 50", 9999.0, down=50, up=25, interval=30, unit="day", taxes=taxes
        )
        capped = self._isp_plan(
            "Home 20 GB",
            1500.0,
            down=20,
            up=10,
            interval=30,
            unit="day",
            allowance=20.0,
            taxes=taxes,
        )
        office = self._isp_plan(
            "Office 100", 19999.0, down=100, up=100, interval=30, unit="day"
        )
        (fibre_10 | fibre_50 | capped).categ_id = home
        office.categ_id = business
        sub, invoice = self._running(plan=fibre_10)
        self._pay(invoice)
        before = sub.invoice_line_ids.move_id
        self.start_tour(
            f"/my/subscriptions/{sub.id}",
            "isp_billing_portal_plan_family",
            login="wanjiru",
        )
        sub.invalidate_recordset()
        self.assertEqual(sub.plan_id, fibre_50)
        move = sub.invoice_line_ids.move_id - before
        # Untaxed: -2,999 × 20/30 = -1,999.33 and 9,999 × 20/30 = 6,666.00.
        # Taxes per line: -1,999.33: excise -299.90, VAT 16 % of -2,299.23 =
        # -367.88; 6,666.00: excise 999.90, VAT 16 % of 7,665.90 = 1,226.54.
        # Taxes 1,558.66; total 4,666.67 + 1,558.66 = 6,225.33.
        self.assertMoveAmounts(move, 4666.67, 1558.66, 6225.33)

    def test_tour_downgrade_at_period_end(self):
        sub, invoice = self._running()
        self._pay(invoice)
        before = sub.invoice_line_ids.move_id
        self.start_tour(
            f"/my/subscriptions/{sub.id}",
            "isp_billing_portal_downgrade",
            login="wanjiru",
        )
        sub.invalidate_recordset()
        self.assertEqual(sub.plan_id, self.fibre_10)
        self.assertEqual(
            (sub.pending_plan_id, sub.pending_plan_date),
            (self.fibre_5, sub._today() + timedelta(days=20)),
        )
        self.assertEqual(sub.invoice_line_ids.move_id, before)
        # the billing job applies it on that day, then bills Fibre 5 in full
        day = sub.pending_plan_date
        next_invoice = self._bill(sub, day)
        self.assertEqual(sub.plan_id, self.fibre_5)
        self.assertEqual(next_invoice.amount_total, 1999.0)

    def test_tour_promise_to_pay(self):
        sub, invoice = self._running()
        sub.action_suspend("Overdue invoices", kind="nonpayment")
        self.start_tour(
            f"/my/subscriptions/{sub.id}", "isp_billing_portal_promise", login="wanjiru"
        )
        sub.invalidate_recordset()
        self.assertEqual(sub.state, "active")
        self.assertEqual(
            sub.promise_until,
            sub._today() + timedelta(days=self.company.isp_promise_days),
        )
        # a second promise, posted anyway, is refused with the reason
        self.authenticate("wanjiru", "wanjiru")
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/promise",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "until": str(sub._isp_promise_until()),
            },
        )
        self.assertIn("message=promise_refused", response.url)
        self.assertIn(
            "Promise to pay refused: A promise was already made this billing period.",
            response.text,
        )
        self.assertEqual(sub.event_ids.mapped("event_type").count("promise"), 1)
