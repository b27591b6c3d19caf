# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class IspBillingCommon(AccountTestInvoicingCommon):
    """A Kenyan ISP company billing in KES (rounding 0.01), its taxes and plans.

    Built from scratch (no demo data) on Odoo's generic chart of accounts.
    """

    chart_template = "generic_coa"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kes = cls.env.ref("base.KES")
        cls.kes.active = True
        cls.kenya = cls.env.ref("base.ke")
        company_data = cls.setup_other_company(
            name="Kenya ISP Ltd", currency_id=cls.kes.id, country_id=cls.kenya.id
        )
        cls.company = company_data["company"]
        cls.company.write({"isp_send_invoices": False, "isp_termination_credit": True})
        cls.income_account = company_data["default_account_revenue"]
        cls.env = cls.env(
            context=dict(
                cls.env.context,
                allowed_company_ids=[cls.company.id],
                tz="Africa/Nairobi",
                lang="en_US",
            )
        )
        cls.env.user.tz = "Africa/Nairobi"
        cls.env.user.groups_id += cls.env.ref("isp_billing.group_isp_manager")

        # Kenyan taxes on internet data: 15 % excise duty, then 16 % VAT on the
        # price plus the excise (the excise affects the VAT base).
        Tax = cls.env["account.tax"].with_company(cls.company)
        cls.tax_group = cls.env["account.tax.group"].create(
            {"name": "KE taxes", "company_id": cls.company.id}
        )
        cls.excise, cls.vat = Tax.create(
            [
                {
                    "name": "Excise 15%",
                    "amount": 15.0,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "include_base_amount": True,
                    "sequence": 1,
                    "company_id": cls.company.id,
                    "tax_group_id": cls.tax_group.id,
                    "price_include_override": "tax_excluded",
                },
                {
                    "name": "VAT 16%",
                    "amount": 16.0,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "sequence": 2,
                    "company_id": cls.company.id,
                    "tax_group_id": cls.tax_group.id,
                    "price_include_override": "tax_excluded",
                },
            ]
        )
        cls.excise_incl = cls.excise.copy(
            {"name": "Excise 15% incl.", "price_include_override": "tax_included"}
        )
        cls.vat_incl = cls.vat.copy(
            {"name": "VAT 16% incl.", "price_include_override": "tax_included"}
        )

        cls.plan_home = cls._isp_plan("10 Mbps Home", 2999.0, down=10, up=10)
        cls.plan_business = cls._isp_plan("50 Mbps Business", 9999.0, down=50, up=25)
        cls.plan_weekly = cls._isp_plan(
            "Weekly 5 Mbps", 700.0, down=5, up=5, interval=1, unit="week"
        )
        cls.plan_bundle = cls._isp_plan(
            "5 GB Bundle", 500.0, interval=30, unit="day", allowance=5.0
        )
        cls.static_ip = cls._isp_product("Static IP", 500.0)
        cls.router = cls._isp_product("Router rental", 300.0)
        cls.install_fee = cls._isp_product("Installation fee", 5000.0)

        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Wanjiru Kamau",
                "email": "wanjiru@example.com",
                "country_id": cls.kenya.id,
                "mobile": "0712 345 678",
                "tz": "Africa/Nairobi",
                "company_id": False,
            }
        )
        cls.customer_2 = cls.env["res.partner"].create(
            {
                "name": "Otieno Odhiambo",
                "email": "otieno@example.com",
                "country_id": cls.kenya.id,
                "tz": "Africa/Nairobi",
            }
        )

    # attribute: (login suffix, groups) of the users of the rights tests
    ROLE_USERS = {
        "portal_user": ("portal", "base.group_portal"),
        "isp_user": ("isp_user", "isp_billing.group_isp_user"),
        "invoicing_user": (
            "invoicing",
            "base.group_user,account.group_account_invoice",
        ),
        "isp_manager": ("isp_manager", "isp_billing.group_isp_manager"),
    }

    @classmethod
    def _create_role_users(cls, prefix, **extra_roles):
        """One user per role of the rights tests, in the ISP company, as class
        attributes, logins ``<prefix>_<suffix>`` (password: the login); the
        portal user is the customer's login. ``extra_roles`` adds
        ``attribute=(suffix, groups)``."""
        companies = {
            "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)],
        }
        for attribute, (suffix, groups) in {**cls.ROLE_USERS, **extra_roles}.items():
            vals = {"partner_id": cls.customer.id} if suffix == "portal" else {}
            user = new_test_user(
                cls.env, login=f"{prefix}_{suffix}", groups=groups, **companies, **vals
            )
            setattr(cls, attribute, user)

    @classmethod
    def _create_portal_user(cls, login, partner=None):
        """A portal login (password: the login) of ``partner`` (the
        customer by default), in the ISP company."""
        return new_test_user(
            cls.env,
            login=login,
            groups="base.group_portal",
            partner_id=(partner or cls.customer).id,
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    @classmethod
    def _setup_dunning(cls):
        """The company's dunning ladder (``cls.steps``, Odoo's default one if
        it has none) and a 15-day payment term (``cls.term_15``)."""
        Step = cls.env["isp.dunning.step"]
        if not Step.search([("company_id", "=", cls.company.id)]):
            Step._ensure_default_ladders()
        cls.steps = Step.search([("company_id", "=", cls.company.id)])
        cls.term_15 = cls.env["account.payment.term"].create(
            {
                "name": "15 days",
                "company_id": cls.company.id,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100.0, "nb_days": 15}
                    )
                ],
            }
        )

    def _dunning_subscription(self, partner=None):
        """A home-plan subscription active from 1 November 2026 on the 15-day
        term (:meth:`_setup_dunning`), and its first invoice, due on 16
        November."""
        with freeze_time("2026-11-01 09:00:00"):
            sub = self._active_subscription(
                self.plan_home,
                self.d("2026-11-01"),
                anchor=self.d("2026-11-01"),
                partner=partner,
                payment_term_id=self.term_15.id,
            )
            invoice = self._bill(sub, self.d("2026-11-01"))
        # Due 15 days after 1 November: 16 November.
        self.assertEqual(invoice.invoice_date_due, self.d("2026-11-16"))
        return sub, invoice

    def _isp_document(self, move_type, day, amount, subscription, post=True, **vals):
        """A posted invoice or credit note (``move_type``) of the customer
        dated ``day``, one untaxed line of ``amount`` for ``subscription``
        (a draft without ``post``); ``vals`` adds to the move's values."""
        move = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": self.customer.id,
                    "invoice_date": day,
                    "currency_id": self.kes.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "10 Mbps Home",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                                "account_id": self.income_account.id,
                                "isp_subscription_id": subscription.id,
                            }
                        )
                    ],
                    **vals,
                }
            )
        )
        if post:
            move.action_post()
        return move

    def _demo_provider(self):
        """The company's card-like provider: Odoo's demo provider
        (payment_demo, test mode), copied into the company if it has none."""
        return self.env["payment.provider"].sudo().search(
            [("code", "=", "demo"), ("company_id", "=", self.company.id)], limit=1
        ) or self.env.ref("payment.payment_provider_demo").sudo().copy(
            {"company_id": self.company.id, "state": "test", "name": "Card (test)"}
        )

    def _demo_card(self, partner=None):
        """A saved card of :meth:`_demo_provider` of ``partner`` (the
        customer by default)."""
        return (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self._demo_provider().id,
                    "payment_method_id": self.env.ref(
                        "payment_demo.payment_method_demo"
                    ).id,
                    "partner_id": (partner or self.customer).id,
                    "payment_details": "4242",
                    "provider_ref": "demo-card",
                }
            )
        )

    @classmethod
    def _isp_product(cls, name, price, taxes=None, **vals):
        return (
            cls.env["product.product"]
            .with_company(cls.company)
            .create(
                {
                    "name": name,
                    "type": "service",
                    "list_price": price,
                    "taxes_id": [Command.set(taxes.ids if taxes else [])],
                    "property_account_income_id": cls.income_account.id,
                    "company_id": cls.company.id,
                    **vals,
                }
            )
        )

    @classmethod
    def _isp_plan(
        cls,
        name,
        price,
        down=10,
        up=10,
        interval=1,
        unit="month",
        allowance=0.0,
        taxes=None,
    ):
        return cls._isp_product(
            name,
            price,
            taxes=taxes,
            isp_is_plan=True,
            isp_download_mbps=down,
            isp_upload_mbps=up,
            isp_period_interval=interval,
            isp_period_unit=unit,
            isp_data_unlimited=not allowance,
            isp_data_allowance_gb=allowance,
        )

    @classmethod
    def _create_subscription(
        cls, plan, start, anchor=None, partner=None, extra_lines=(), **vals
    ):
        """Create a draft subscription on ``plan`` starting on ``start``."""
        lines = [Command.create({"product_id": plan.id})]
        for product, line_vals in extra_lines:
            lines.append(Command.create({"product_id": product.id, **line_vals}))
        sub = cls.env["isp.subscription"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "company_id": cls.company.id,
                "date_start": start,
                "line_ids": lines,
                "tz": "Africa/Nairobi",
                **vals,
            }
        )
        if anchor:
            sub.billing_anchor_date = anchor
        return sub

    @classmethod
    def _active_subscription(cls, plan, start, anchor=None, **kwargs):
        sub = cls._create_subscription(plan, start, anchor=anchor, **kwargs)
        sub.action_activate()
        return sub

    def _bill(self, subs, today):
        """Run the billing job as the cron does, for ``today``."""
        before = subs.invoice_line_ids.move_id
        self.env["isp.subscription"]._cron_bill_subscriptions(today=today)
        subs.invalidate_recordset()
        return (subs.invoice_line_ids.move_id - before).sorted("id")

    def assertMoveAmounts(self, move, untaxed, tax, total):
        self.assertEqual(
            (move.amount_untaxed, move.amount_tax, move.amount_total),
            (untaxed, tax, total),
            f"{move.display_name}: untaxed, tax, total",
        )

    @contextmanager
    def assertRaisesRegex(self, exception, regex, msg=None):
        """Like Odoo's ``assertRaises``: roll back what the failed call wrote, so
        tests can check that bad input leaves nothing behind."""
        with self.assertRaises(exception) as context:
            yield context
        self.assertRegex(str(context.exception), regex, msg)

    @staticmethod
    def d(text):
        return date.fromisoformat(text)


class IspReceivablesCommon(IspBillingCommon):
    """The helpers of the small books of the receivables figures (aging,
    collections, the dashboard's collections tiles): customer documents
    with their own date, due date and amount (untaxed, in KES), payments of
    invoices and payments on account, by the company's bank or cash
    journal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        journals = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "in", ("bank", "cash"))]
        )
        cls.bank = journals.filtered(lambda j: j.type == "bank")[:1]
        cls.cash = journals.filtered(lambda j: j.type == "cash")[:1]

    @classmethod
    def _book_document(
        cls, partner, day, due, amount, move_type="out_invoice", subscription=None
    ):
        """A posted invoice (or credit note: ``move_type``) of ``partner``
        dated ``day`` (invoice and accounting date), due ``due``, one
        untaxed line of ``amount`` (of ``subscription`` if given)."""
        move = (
            cls.env["account.move"]
            .with_company(cls.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "date": day,
                    "invoice_date_due": due,
                    "currency_id": cls.kes.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "10 Mbps Home",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                                "account_id": cls.income_account.id,
                                "isp_subscription_id": subscription.id
                                if subscription
                                else False,
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    @classmethod
    def _book_pay(cls, invoice, day, journal=None, amount=None):
        """Pay ``invoice`` on ``day`` by ``journal`` (the bank by default),
        ``amount`` or in full, with Odoo's payment wizard."""
        vals = {"payment_date": day, "journal_id": (journal or cls.bank).id}
        if amount is not None:
            vals["amount"] = amount
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(vals)
            ._create_payments()
        )

    @classmethod
    def _book_payment_on_account(cls, partner, amount, day):
        """A posted customer payment of ``partner`` matched to nothing."""
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": day,
                "currency_id": cls.kes.id,
                "company_id": cls.company.id,
                "journal_id": cls.bank.id,
            }
        )
        payment.action_post()
        return payment


class IspAgingCommon(IspReceivablesCommon):
    """A small book for the aging: customer A with five invoices, partial
    payments before and after 15/04/2026, a credit note and a payment on
    account; customer B with more paid on account than invoiced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        A, B = cls.customer, cls.customer_2
        doc = cls._book_document
        cls.inv1 = doc(A, "2026-01-01", "2026-01-10", 1000)
        cls.inv5 = doc(A, "2026-01-20", "2026-02-05", 800)
        cls.inv2 = doc(A, "2026-02-01", "2026-02-15", 2000)
        cls.inv3 = doc(A, "2026-03-01", "2026-03-25", 3000)
        cls.inv4 = doc(A, "2026-04-10", "2026-04-24", 500)
        cls._book_pay(cls.inv1, "2026-02-10", amount=400)
        cls._book_pay(cls.inv3, "2026-03-30", amount=1000)
        cls._book_pay(cls.inv2, "2026-04-20", amount=300)  # after 15/04
        cls.refund = doc(A, "2026-03-20", "2026-03-20", 250, "out_refund")
        cls.on_account = cls._book_payment_on_account(A, 150, "2026-04-01")
        cls.inv_b = doc(B, "2026-04-01", "2026-04-10", 200)
        cls.on_account_b = cls._book_payment_on_account(B, 700, "2026-04-05")

    def _aging(self, day, partner):
        [row] = [
            r
            for r in self.env["isp.report.aging"]._prepare_aging(self.d(day))
            if r["partner_id"] == partner.id
        ]
        return {
            key: row[f"amount_{key}"]
            for key in ("current", "1_30", "31_60", "61_90", "over_90", "residual")
        }


class IspCollectionsCommon(IspReceivablesCommon):
    """April 2026. Customer A (subscription S): I1 1,000 of 25/03 due 05/04
    paid 03/04 (bank); I2 2,000 of 01/04 due 10/04 paid 15/04 (cash); I3
    3,000 of 05/04 due 20/04 unpaid; I4 600 of 10/04 due 25/04 paid 12/04
    (bank); credit note R1 500 of 20/04, open. Customer B: I5 500 of 01/02
    due 15/02 paid 02/04 (bank); I6 800 of 08/04 due 18/04 paid 18/04 by
    card (a payment provider's transaction)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = (
            cls.env.ref("payment.payment_provider_demo")
            .sudo()
            .copy(
                {"company_id": cls.company.id, "state": "test", "name": "Card (test)"}
            )
        )
        cls.provider.journal_id = cls.bank
        cls.method = cls.env.ref("payment_demo.payment_method_demo")
        A, B = cls.customer, cls.customer_2
        cls.sub = cls._create_subscription(cls.plan_home, cls.d("2026-03-01"))
        doc = cls._book_document
        cls.i1 = doc(A, "2026-03-25", "2026-04-05", 1000, subscription=cls.sub)
        cls.i2 = doc(A, "2026-04-01", "2026-04-10", 2000, subscription=cls.sub)
        cls.i3 = doc(A, "2026-04-05", "2026-04-20", 3000, subscription=cls.sub)
        cls.i4 = doc(A, "2026-04-10", "2026-04-25", 600, subscription=cls.sub)
        cls.r1 = doc(
            A, "2026-04-20", "2026-04-20", 500, "out_refund", subscription=cls.sub
        )
        cls.i5 = doc(B, "2026-02-01", "2026-02-15", 500)
        cls.i6 = doc(B, "2026-04-08", "2026-04-18", 800)
        cls._book_pay(cls.i1, "2026-04-03")
        cls._book_pay(cls.i2, "2026-04-15", cls.cash)
        cls._book_pay(cls.i4, "2026-04-12")
        cls._book_pay(cls.i5, "2026-04-02")
        with freeze_time("2026-04-18 10:00:00"):
            tx = (
                cls.env["payment.transaction"]
                .sudo()
                .create(
                    {
                        "provider_id": cls.provider.id,
                        "payment_method_id": cls.method.id,
                        "reference": "I6-card",
                        "amount": 800.0,
                        "currency_id": cls.kes.id,
                        "partner_id": B.id,
                        "operation": "online_direct",
                        "invoice_ids": [Command.set(cls.i6.ids)],
                    }
                )
            )
            tx._set_done()
            tx._post_process()
        cls.card_payment = tx.payment_id

    # The promises to pay of the kept-rate example (README): (made, last day)
    PROMISES = (
        ("2026-04-08", "2026-04-12"),
        ("2026-04-11", "2026-04-16"),
        ("2026-04-16", "2026-04-22"),
        ("2026-04-28", "2026-05-05"),
        ("2026-04-02", "2026-04-04"),
    )
    # The suspension example (README): (event, day)
    SUSPENSIONS = (
        ("suspension", "2026-04-09"),
        ("reactivation", "2026-04-15"),
        ("suspension", "2026-04-21"),
        ("reactivation", "2026-05-02"),
        ("promise", "2026-05-03"),
    )

    def _log_promises(self):
        for day, until in self.PROMISES:
            self.sub._log_event(
                "promise", date=self.d(day), promise_until=self.d(until)
            )

    def _log_suspensions(self):
        for kind, day in self.SUSPENSIONS:
            self.sub._log_event(kind, date=self.d(day))

    def _autopay_book(self):
        """Two auto-pay subscriptions billed on 01/11/2026, one card accepted
        and one declined; the job runs on 01/11 and on 02/11, when the
        declined card's retry is declined too (``yield`` between the two
        days)."""
        Token = self.env["payment.token"].sudo()
        for partner, state in ((self.customer, "done"), (self.customer_2, "error")):
            token = Token.create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.method.id,
                    "partner_id": partner.id,
                    "payment_details": "4242",
                    "provider_ref": f"demo-{state}",
                    "demo_simulated_state": state,
                }
            )
            with freeze_time("2026-11-01 09:00:00"):
                sub = self._active_subscription(
                    self.plan_home,
                    self.d("2026-11-01"),
                    anchor=self.d("2026-11-01"),
                    partner=partner,
                )
                sub.action_autopay_enable(token)
                self._bill(sub, self.d("2026-11-01"))
        Attempt = self.env["isp.autopay.attempt"]
        for day in ("2026-11-01", "2026-11-02"):
            with freeze_time(f"{day} 10:00:00"):
                Attempt._cron_autopay(today=self.d(day))
            yield day

    @property
    def service(self):
        return self.env["isp.report.collections"]
