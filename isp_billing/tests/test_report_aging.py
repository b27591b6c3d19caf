# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Receivables aging as of a date (issue #15): partial payments, a credit
note and an unallocated payment, against buckets computed by hand; the same
total as the customer's one balance; the PDF; who may read it over RPC."""

import lxml.html

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import IspAgingCommon


@tagged("post_install", "-at_install")
class TestReportAging(IspAgingCommon):
    def test_aging_as_of_a_past_date(self):
        """As of 15/04/2026: INV1 1,000 − 400 paid 10/02 = 600, due 10/01
        (95 days); INV5 800 due 05/02 (69 days); INV2 2,000 due 15/02 (59
        days; the 300 paid on 20/04 does not count yet); INV3 3,000 − 1,000
        paid 30/03 = 2,000 due 25/03 (21 days); INV4 500 due 24/04 (not
        due). The credit note 250 and the 150 on account (400) go to the
        oldest due first: INV1 600 → 200."""
        self.assertEqual(
            self._aging("2026-04-15", self.customer),
            {
                "current": 500.0,
                "1_30": 2000.0,
                "31_60": 2000.0,
                "61_90": 800.0,
                "over_90": 200.0,
                "residual": 5500.0,
            },
        )
        # B: 200 invoiced, 700 on account: in credit by 500, nothing overdue.
        self.assertEqual(
            self._aging("2026-04-15", self.customer_2),
            {
                "current": -500.0,
                "1_30": 0.0,
                "31_60": 0.0,
                "61_90": 0.0,
                "over_90": 0.0,
                "residual": -500.0,
            },
        )

    def test_aging_before_the_payments_and_today(self):
        """As of 05/01/2026 only INV1 (1,000, not due); as of 31/05/2026 the
        300 of 20/04 counts (INV2 1,700) and everything has aged: 200 + 800
        + 1,700 over 90 days, INV3 2,000 at 67 days, INV4 500 at 37 days."""
        self.assertEqual(
            self._aging("2026-01-05", self.customer),
            {
                "current": 1000.0,
                "1_30": 0.0,
                "31_60": 0.0,
                "61_90": 0.0,
                "over_90": 0.0,
                "residual": 1000.0,
            },
        )
        self.assertEqual(
            self._aging("2026-05-31", self.customer),
            {
                "current": 0.0,
                "1_30": 0.0,
                "31_60": 500.0,
                "61_90": 2000.0,
                "over_90": 2700.0,
                "residual": 5200.0,
            },
        )

    def test_total_is_the_one_balance(self):
        """Today the aging's total of a customer is its balance
        (``_isp_balance``: open items net of credits and payments)."""
        sub = self._create_subscription(self.plan_home, self.d("2026-01-01"))
        today = self.env["isp.report.aging"]._aging_date()
        self.assertEqual(sub._isp_balance(), 5200.0)
        self.assertEqual(self._aging(str(today), self.customer)["residual"], 5200.0)

    def test_rows_and_pdf(self):
        """The report model's rows as of a date (context), the wizard's
        action and the PDF's figures."""
        wizard = self.env["isp.report.aging.wizard"].create({"date_at": "2026-04-15"})
        action = wizard.action_open()
        Line = self.env["isp.report.aging.line"].with_context(**action["context"])
        rows = Line.search(
            [("partner_id", "in", (self.customer | self.customer_2).ids)]
        )
        self.assertEqual(
            sorted((r.move_id.id, r.bucket, r.amount_residual) for r in rows),
            sorted(
                [
                    (False, "current", -500.0),
                    (self.inv1.id, "over_90", 200.0),
                    (self.inv5.id, "61_90", 800.0),
                    (self.inv2.id, "31_60", 2000.0),
                    (self.inv3.id, "1_30", 2000.0),
                    (self.inv4.id, "current", 500.0),
                ]
            ),
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "isp_billing.action_report_isp_aged_balance",
                wizard.ids,
                data={"date_at": "2026-04-15"},
            )[0]
            .decode()
        )
        self.assertIn("Aged receivable balance", html)
        rows = {
            row.xpath("string(td[1])"): [
                " ".join(td.text_content().split()) for td in row.xpath("td")[1:]
            ]
            for row in lxml.html.fromstring(html).xpath(
                "//table[hasclass('o_isp_aged_balance')]/tbody/tr"
            )
        }
        # current, 1-30, 31-60, 61-90, over 90, total
        self.assertEqual(
            [cell.replace("KSh", "").strip() for cell in rows["Wanjiru Kamau"]],
            ["500.00", "2,000.00", "2,000.00", "800.00", "200.00", "5,500.00"],
        )
        self.assertIn("500.00", rows["Otieno Odhiambo"][0])
        self.assertIn("-", rows["Otieno Odhiambo"][0])


@tagged("post_install", "-at_install")
class TestReportAgingAccess(IspAgingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("aging", plain_user=("plain", "base.group_user"))

    def _rpc(self, model, method, args=(), **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {
                    "context": {
                        "allowed_company_ids": self.company.ids,
                        "isp_aging_date": "2026-04-15",
                    },
                    **kwargs,
                },
            },
        )

    @mute_logger("odoo.http")
    def test_access_over_rpc(self):
        """Accounting roles read the aging; a portal user and a plain
        internal user are refused, for the rows and the wizard."""
        HttpCase.authenticate(self, "aging_invoicing", "aging_invoicing")
        groups = self._rpc(
            "isp.report.aging.line",
            "read_group",
            [[("partner_id", "=", self.customer.id)], ["amount_residual:sum"], []],
        )
        self.assertEqual(groups[0]["amount_residual"], 5500.0)
        for login in ("aging_portal", "aging_plain"):
            HttpCase.authenticate(self, login, login)
            with self.assertRaisesRegex(JsonRpcException, "AccessError"):
                self._rpc(
                    "isp.report.aging.line",
                    "search_read",
                    [[]],
                    fields=["amount_residual"],
                )
            with self.assertRaisesRegex(JsonRpcException, "AccessError"):
                self._rpc(
                    "isp.report.aging.wizard", "create", [{"date_at": "2026-04-15"}]
                )

    def test_service_refuses_other_roles(self):
        """The PDF's values and the service read through the report model's
        rights: a plain internal user gets an access error."""
        Report = self.env["report.isp_billing.report_isp_aged_balance"]
        with self.assertRaises(AccessError):
            Report.with_user(self.plain_user)._get_report_values(
                [], {"date_at": "2026-04-15"}
            )
        with self.assertRaises(AccessError):
            self.env["isp.report.aging"].with_user(self.plain_user)._prepare_aging()
