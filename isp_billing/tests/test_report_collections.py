# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Collections figures (issue #15) on a small book, against figures
computed by hand; who may read them over RPC."""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import IspBillingCommon


class IspCollectionsCommon(IspBillingCommon):
    """April 2026. Customer A (subscription S): I1 1,000 of 25/03 due 05/04
    paid 03/04 (bank); I2 2,000 of 01/04 due 10/04 paid 15/04 (cash); I3
    3,000 of 05/04 due 20/04 unpaid; I4 600 of 10/04 due 25/04 paid 12/04
    (bank); credit note R1 500 of 20/04, open. Customer B: I5 500 of 01/02
    due 15/02 paid 02/04 (bank); I6 800 of 08/04 due 18/04 paid 18/04 by
    card (a payment provider's transaction)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        journals = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "in", ("bank", "cash"))]
        )
        cls.bank = journals.filtered(lambda j: j.type == "bank")[:1]
        cls.cash = journals.filtered(lambda j: j.type == "cash")[:1]
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
        cls.i1 = cls._invoice(A, "2026-03-25", "2026-04-05", 1000)
        cls.i2 = cls._invoice(A, "2026-04-01", "2026-04-10", 2000)
        cls.i3 = cls._invoice(A, "2026-04-05", "2026-04-20", 3000)
        cls.i4 = cls._invoice(A, "2026-04-10", "2026-04-25", 600)
        cls.r1 = cls._invoice(A, "2026-04-20", "2026-04-20", 500, "out_refund")
        cls.i5 = cls._invoice(B, "2026-02-01", "2026-02-15", 500)
        cls.i6 = cls._invoice(B, "2026-04-08", "2026-04-18", 800)
        cls._pay(cls.i1, "2026-04-03", cls.bank)
        cls._pay(cls.i2, "2026-04-15", cls.cash)
        cls._pay(cls.i4, "2026-04-12", cls.bank)
        cls._pay(cls.i5, "2026-04-02", cls.bank)
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

    @classmethod
    def _invoice(cls, partner, day, due, amount, move_type="out_invoice"):
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
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                                "account_id": cls.income_account.id,
                                "isp_subscription_id": cls.sub.id
                                if partner == cls.customer
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
    def _pay(cls, invoice, day, journal):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": day, "journal_id": journal.id})
            ._create_payments()
        )

    @property
    def service(self):
        return self.env["isp.report.collections"]


@tagged("post_install", "-at_install")
class TestReportCollections(IspCollectionsCommon):
    def test_dso(self):
        """Receivable on 30/04: I3 3,000 − R1 500 = 2,500 (the rest is
        paid). Invoiced in April: I2 2,000 + I3 3,000 + I4 600 + I6 800 −
        R1 500 = 5,900. DSO = 2,500 / 5,900 × 30 = 12.7 days."""
        self.assertEqual(
            self.service._prepare_dso("2026-04-01", "2026-04-30"),
            {
                self.kes.id: {
                    "receivable": 2500.0,
                    "invoiced": 5900.0,
                    "days": 30,
                    "dso": 12.7,
                }
            },
        )

    def test_paid_by_due_date(self):
        """Due in April: I1 (paid 03/04, due 05/04: yes), I2 (15/04 after
        10/04: no), I3 (unpaid: no), I4 (12/04, due 25/04: yes), I6 (18/04
        on its due date: yes): 3 of 5."""
        self.assertEqual(
            self.service._prepare_paid_on_time("2026-04-01", "2026-04-30"),
            {"due": 5, "on_time": 3, "rate": 0.6},
        )

    def test_days_to_pay(self):
        """Settled in April: I1 9 days, I2 14, I4 2, I5 60, I6 10: mean
        95 / 5 = 19, median 10."""
        self.assertEqual(
            self.service._prepare_days_to_pay("2026-04-01", "2026-04-30"),
            {
                "count": 5,
                "buckets": {
                    "0_7": 1,
                    "8_15": 3,
                    "16_30": 0,
                    "31_60": 1,
                    "over_60": 0,
                },
                "mean": 19.0,
                "median": 10,
            },
        )

    def test_money_by_channel(self):
        """April: bank 1,000 + 600 + 500 = 2,100, cash (manual) 2,000, card
        800: 4,900."""
        result = self.service._prepare_money_by_channel("2026-04-01", "2026-04-30")
        entry = result[self.kes.id]
        self.assertEqual(entry["total"], 4900.0)
        self.assertEqual(
            {k: entry["amounts"][k] for k in ("bank", "manual", "card")},
            {"bank": 2100.0, "manual": 2000.0, "card": 800.0},
        )
        self.assertEqual(
            {k: entry["shares"][k] for k in ("bank", "manual", "card")},
            {"bank": 0.4286, "manual": 0.4082, "card": 0.1633},
        )
        self.assertEqual(sum(entry["amounts"].values()), 4900.0)
        row = self.env["isp.report.collections.payment"].search(
            [("payment_id", "=", self.card_payment.id)]
        )
        self.assertEqual((row.channel, row.amount), ("card", 800.0))

    def test_promise_kept_rate(self):
        """P1 08/04 → 12/04 covers I2 (due 10/04), paid 15/04: broken. P2
        11/04 → 16/04 covers I2: kept. P3 16/04 → 22/04 covers I3 (due
        20/04), unpaid: broken. P4 28/04 → 05/05 still runs on 01/05; P5
        02/04 → 04/04 covers nothing due. 1 kept of 3."""
        for day, until in (
            ("2026-04-08", "2026-04-12"),
            ("2026-04-11", "2026-04-16"),
            ("2026-04-16", "2026-04-22"),
            ("2026-04-28", "2026-05-05"),
            ("2026-04-02", "2026-04-04"),
        ):
            self.sub._log_event(
                "promise", date=self.d(day), promise_until=self.d(until)
            )
        self.assertEqual(
            self.service._prepare_promise_kept(
                "2026-04-01", "2026-04-30", date_at="2026-05-01"
            ),
            {"promises": 3, "kept": 1, "rate": 0.3333},
        )
        # On 31/05 P4 has ended too, I3 still unpaid: 1 kept of 4.
        self.assertEqual(
            self.service._prepare_promise_kept(
                "2026-04-01", "2026-04-30", date_at="2026-05-31"
            ),
            {"promises": 4, "kept": 1, "rate": 0.25},
        )

    def test_suspensions_and_reconnections(self):
        for kind, day in (
            ("suspension", "2026-04-09"),
            ("reactivation", "2026-04-15"),
            ("suspension", "2026-04-21"),
            ("reactivation", "2026-05-02"),
            ("promise", "2026-05-03"),
        ):
            self.sub._log_event(kind, date=self.d(day))
        self.assertEqual(
            self.service._prepare_suspensions("2026-04-01", "2026-05-31"),
            [
                {"month": self.d("2026-04-01"), "suspensions": 2, "reconnections": 1},
                {"month": self.d("2026-05-01"), "suspensions": 0, "reconnections": 1},
            ],
        )

    def test_autopay_success_rate(self):
        """Two auto-pay invoices on 01/11/2026, one card accepted, one
        declined (a retry is scheduled for 02/11, still pending): 1 of 2;
        after the retry fails too, 1 of 3."""
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
            if day == "2026-11-01":
                self.assertEqual(
                    self.service._prepare_autopay("2026-11-01", "2026-11-30"),
                    {"attempts": 2, "done": 1, "rate": 0.5},
                )
        self.assertEqual(
            self.service._prepare_autopay("2026-11-01", "2026-11-30"),
            {"attempts": 3, "done": 1, "rate": 0.3333},
        )


@tagged("post_install", "-at_install")
class TestReportCollectionsAccess(IspCollectionsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("collections", plain_user=("plain", "base.group_user"))

    def _rpc(self, model):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": "search_read",
                "args": [[]],
                "kwargs": {
                    "fields": ["id"],
                    "context": {"allowed_company_ids": self.company.ids},
                },
            },
        )

    @mute_logger("odoo.http")
    def test_access_over_rpc(self):
        models = ("isp.report.collections.invoice", "isp.report.collections.payment")
        HttpCase.authenticate(self, "collections_invoicing", "collections_invoicing")
        self.assertEqual(len(self._rpc(models[0])), 6)  # I1-I6
        self.assertEqual(len(self._rpc(models[1])), 5)
        for login in ("collections_portal", "collections_plain"):
            HttpCase.authenticate(self, login, login)
            for model in models:
                with self.assertRaisesRegex(JsonRpcException, "AccessError"):
                    self._rpc(model)

    def test_service_refuses_other_roles(self):
        service = self.env["isp.report.collections"]
        for method in (
            "_prepare_dso",
            "_prepare_paid_on_time",
            "_prepare_days_to_pay",
            "_prepare_money_by_channel",
            "_prepare_promise_kept",
            "_prepare_suspensions",
            "_prepare_autopay",
        ):
            for user in (self.plain_user, self.portal_user):
                with self.assertRaises(AccessError, msg=method):
                    getattr(service.with_user(user), method)("2026-04-01", "2026-04-30")
        self.assertTrue(
            service.with_user(self.invoicing_user)._prepare_paid_on_time(
                "2026-04-01", "2026-04-30"
            )
        )
