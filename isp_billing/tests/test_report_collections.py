# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Collections figures (issue #15) on a small book, against figures
computed by hand; who may read them over RPC."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import IspCollectionsCommon


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

    def test_median_from_counts_of_days(self):
        """Days to pay are counted per number of days in one grouped read:
        the median of the counts is the median of the days repeated (an
        even count: the mean of the two middle ones)."""
        median = self.service._median_of_counts
        self.assertEqual(median({2: 1, 9: 1, 10: 1, 14: 1, 60: 1}), 10)
        self.assertEqual(median({2: 1, 9: 1, 10: 1, 14: 1}), 9.5)
        self.assertEqual(median({3: 2, 8: 2}), 5.5)
        self.assertEqual(median({3: 1, 8: 3}), 8)
        self.assertEqual(median({4: 6}), 4)

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
        self._log_promises()
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
        self._log_suspensions()
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
        for day in self._autopay_book():
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
