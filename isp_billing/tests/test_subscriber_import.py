# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The migration import (*ISP → Configuration → Import subscribers*): the
dry run's problems, the real run, re-imports, billed until and the next
billing run, opening balances, the phpNuxBill and Splynx samples of
``tests/data``, the template and the rights."""

import base64
import csv
import io
from pathlib import Path

import openpyxl
from freezegun import freeze_time

from odoo import sql_db
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import IspBillingCommon

DATA = Path(__file__).resolve().parent / "data"
HEADER = (
    "account_number,customer_ref,name,phone,email,street,city,plan,addons,"
    "start_date,billing_anchor,billed_until,state,currency,price,opening_balance"
)


def csv_file(*rows, header=HEADER):
    return "\n".join((header, *rows)).encode()


class SubscriberImportCommon(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_home.default_code = "HOME10"
        cls.plan_business.default_code = "BIZ50"
        cls.router.default_code = "ROUTER"
        cls.static_ip.default_code = "STATICIP"
        cls.service = cls.env["isp.subscriber.import"]

    def _prepare(self, content, mapping="generic", filename="subscribers.csv", **kw):
        rows = self.service._read_file(mapping, content, filename, **kw)
        return self.service._prepare_rows(rows, self.company)

    def _import(self, content, **kw):
        prepared = self._prepare(content, **kw)
        with freeze_time("2026-11-10 09:00:00"):
            result = self.service._import_prepared(
                prepared, self.company, date_ref=self.d("2026-11-10")
            )
        return prepared, result

    def _by_line(self, prepared):
        return {item["line"]: item for item in prepared}

    def _footprint(self):
        """What an import writes, counted."""
        return (
            self.env["res.partner"].with_context(active_test=False).search_count([]),
            self.env["isp.subscription"].search_count([]),
            self.env["isp.subscription.line"].search_count([]),
            self.env["isp.subscription.event"].sudo().search_count([]),
            self.env["account.move"].search_count([]),
            self.env["account.journal"].search_count([]),
            self.env["account.account"].search_count([]),
        )

    def _sub(self, number):
        return self.env["isp.subscription"].search([("account_number", "=", number)])


@tagged("post_install", "-at_install")
class TestSubscriberImportDryRun(SubscriberImportCommon):
    def test_every_problem_class_listed_nothing_written(self):
        """Each row has one problem, listed with its reason; the good row
        is *new*; the dry run (the wizard's) writes nothing."""
        content = csv_file(
            # line 2: good
            "IMP001,C1,Good Row,0712 000 001,good@example.com,,,HOME10,,"
            "2026-01-10,2026-02-01,2026-12-01,active,KES,2999,",
            "IMP002,C2,Unknown Plan,,,,,GOLD99,,2026-01-10,,,,,,",
            "IMP003,C3,Bad Phone,12,,,,HOME10,,2026-01-10,,,,,,",
            "IMP004,C4,Anchor Late,,,,,HOME10,,2026-01-10,2026-12-15,2026-12-01,,,,",
            "IMP005,C5,Dollar Row,,,,,HOME10,,2026-01-10,,,,USD,,",
            "IMP006,C6,First Twin,,,,,HOME10,,2026-01-10,,,,,,",
            "IMP006,C7,Second Twin,,,,,HOME10,,2026-01-10,,,,,,",
            "IMP008,C8,Anchor Early,,,,,HOME10,,2026-01-10,2026-01-01,,,,,",
            "IMP009,C9,Until Early,,,,,HOME10,,2026-01-10,,2026-01-05,,,,",
            "IMP010,C10,Odd Addon,,,,,HOME10,MODEM,2026-01-10,,,,,,",
            "IMP011,C11,Bad Date,,,,,HOME10,,10/01/2026,,,,,,",
            "IMP012,C12,,,,,,HOME10,,2026-01-10,,,,,,",
            "IMP013,C13,Gone Away,,,,,HOME10,,2026-01-10,,,terminated,,,",
            "IMP014,C14,Bad Amount,,,,,HOME10,,2026-01-10,,,,,,lots",
            ",,No Key,,,,,HOME10,,2026-01-10,,,,,,",
            "IMP016,C16,Bad Mail,,not-an-email,,,HOME10,,2026-01-10,,,,,,",
            "IMP017,C17,Split One,,,,,HOME10,,2026-01-10,,,,,,100",
            "IMP018,C17,Split One,,,,,BIZ50,,2026-01-10,,,,,,200",
        )
        before = self._footprint()
        wizard = self.env["isp.subscriber.import.wizard"].create(
            {"file": base64.b64encode(content), "filename": "old.csv"}
        )
        wizard.action_dry_run()
        self.assertEqual(self._footprint(), before)
        prepared = self._prepare(content)
        lines = self._by_line(prepared)
        self.assertEqual(lines[2]["status"], "new")
        self.assertEqual(lines[2]["errors"], [])
        expected = {
            3: "unknown plan GOLD99",
            4: "invalid phone 12",
            5: "billing anchor after billed until",
            6: "currency mismatch: the file says USD, this import bills in KES",
            8: "account number IMP006 is also on line 7",
            9: "billing anchor before the start date",
            10: "billed until before the start date",
            11: "unknown add-on MODEM",
            12: r"start_date 10/01/2026 is not a date \(YYYY-MM-DD\)",
            13: "no name",
            14: "state terminated: only active or suspended subscribers are imported",
            15: "opening_balance lots is not an amount",
            16: "no account number and no customer reference",
            17: "invalid e-mail not-an-email",
            18: "the rows of one customer give different opening balances",
            19: "the rows of one customer give different opening balances",
        }
        for line, reason in expected.items():
            with self.subTest(line=line):
                self.assertEqual(lines[line]["status"], "error")
                self.assertRegex("; ".join(lines[line]["errors"]), reason)
        # Line 7 is the first of the twins: only line 8 says so.
        self.assertEqual(lines[7]["status"], "new")
        self.assertEqual(
            sorted(line for line, item in lines.items() if item["status"] == "error"),
            sorted(expected),
        )
        self.assertEqual(wizard.problem_count, len(expected))
        self.assertEqual(wizard.new_count, 2)
        self.assertIn("unknown plan GOLD99", wizard.problems_html)

    def test_unreadable_files_refused(self):
        with self.assertRaisesRegex(Exception, "Choose a file to import"):
            self._prepare(b"")
        with self.assertRaisesRegex(Exception, "not a UTF-8 CSV file or an XLSX"):
            self._prepare(b"\xff\xfe\x00bad", filename="x.csv")
        with self.assertRaisesRegex(Exception, "not a UTF-8 CSV file or an XLSX"):
            self._prepare(b"not a workbook", filename="x.xlsx")
        with self.assertRaisesRegex(Exception, "tbl_user_recharges"):
            self._prepare(csv_file(), mapping="phpnuxbill")


@tagged("post_install", "-at_install")
class TestSubscriberImportRun(SubscriberImportCommon):
    def test_import_then_reimport_changes_nothing(self):
        """The rows become active subscriptions billed until the file's
        date; the same file again finds every row *already imported* and
        writes nothing."""
        content = csv_file(
            "IMP101,C101,Mary Achieng,0712 345 601,MARY@Example.com,Kenyatta Ave 1,"
            "Nairobi,HOME10,ROUTER;STATICIP*2,2025-03-10,2025-04-01,2026-12-01,"
            "active,KES,4299,",
            "IMP102,C102,Peter Kamau,,,,,50 Mbps Business,,2026-10-05,,2026-11-05,"
            "suspended,,,",
            ",C103,No Number Yet,,,,,HOME10,,2026-11-01,,,,,,",
        )
        prepared, result = self._import(content)
        self.assertEqual(result["failed"], {})
        self.assertEqual(len(result["created"]), 3)
        mary = self._sub("IMP101")
        self.assertEqual(mary.state, "active")
        self.assertEqual(mary.partner_id.name, "Mary Achieng")
        self.assertEqual(mary.partner_id.ref, "C101")
        self.assertEqual(mary.partner_id.mobile, "+254712345601")
        self.assertEqual(mary.partner_id.email, "mary@example.com")
        self.assertEqual(mary.partner_id.street, "Kenyatta Ave 1")
        self.assertEqual(mary.date_start, self.d("2025-03-10"))
        self.assertEqual(mary.billing_anchor_date, self.d("2025-04-01"))
        self.assertEqual(mary.billed_until, self.d("2026-12-01"))
        self.assertEqual(mary.next_invoice_date, self.d("2026-12-01"))
        self.assertEqual(
            sorted(
                mary.line_ids.mapped(lambda line: (line.product_id.name, line.quantity))
            ),
            [("10 Mbps Home", 1.0), ("Router rental", 1.0), ("Static IP", 2.0)],
        )
        # 2,999 + 300 + 2 × 500
        self.assertEqual(mary.recurring_total, 4299.0)
        self.assertEqual(mary.recurring_monthly, 4299.0)
        new_event = mary.event_ids.filtered(lambda e: e.event_type == "new")
        self.assertEqual(new_event.event_date, self.d("2025-03-10"))
        peter = self._sub("IMP102")
        self.assertEqual(peter.state, "suspended")
        self.assertEqual(peter.suspension_kind, "manual")
        # No billed until: billed from the start (nothing billed before).
        newcomer = self.env["res.partner"].search([("ref", "=", "C103")])
        self.assertEqual(
            newcomer.isp_subscription_ids.billed_until, self.d("2026-11-01")
        )
        self.assertTrue(newcomer.isp_subscription_ids.account_number.startswith("ACC"))

        before = self._footprint()
        prepared, result = self._import(content)
        self.assertEqual([item["status"] for item in prepared], ["exists"] * 3)
        self.assertEqual(
            result, {"created": [], "lines": [], "failed": {}, "remaining": 0}
        )
        self.assertEqual(self._footprint(), before)

    def test_second_subscription_of_a_customer_is_an_expansion(self):
        """The events of one batch are read as if logged one after the
        other: a customer's first subscription is its *new* MRR, its second
        one, imported in the same batch, an *expansion* (Analytics
        definitions), as when they are activated by hand."""
        content = csv_file(
            "IMP201,C201,Two Lines,,,,,HOME10,,2026-01-10,,2026-12-01,,,,",
            "IMP202,C201,Two Lines,,,,,BIZ50,,2026-02-01,,2026-12-01,,,,",
            "IMP203,C202,One Line,,,,,HOME10,,2026-01-10,,2026-12-01,,,,",
        )
        prepared, result = self._import(content)
        self.assertEqual(result["failed"], {})
        movements = {
            number: [
                (e.event_type, e.mrr_movement, e.mrr_change)
                for e in self._sub(number).event_ids
            ]
            for number in ("IMP201", "IMP202", "IMP203")
        }
        self.assertEqual(
            movements,
            {
                "IMP201": [("new", "new", 2999.0)],
                "IMP202": [("new", "expansion", 9999.0)],
                "IMP203": [("new", "new", 2999.0)],
            },
        )

    def test_billed_until_respected_by_the_next_billing_run(self):
        """Nothing the old system billed is billed again, nothing is
        skipped: the first invoice starts on billed until."""
        content = csv_file(
            # billed to a period boundary
            "IMP201,C201,On Boundary,,,,,HOME10,,2025-03-10,2025-04-01,2026-12-01,,,,",
            # billed to the middle of a period: the rest of it, prorated
            "IMP202,C202,Mid Period,,,,,HOME10,,2025-03-10,2025-04-01,2026-11-15,,,,",
            # nothing billed yet: from the start, the first period prorated
            "IMP203,C203,Fresh Start,,,,,HOME10,,2026-11-15,2026-12-01,,,,,",
        )
        __, result = self._import(content)
        self.assertEqual(len(result["created"]), 3)
        boundary, middle, fresh = (self._sub(n) for n in ("IMP201", "IMP202", "IMP203"))
        subs = boundary | middle | fresh
        nov = self._bill(subs, self.d("2026-11-20"))
        self.assertFalse(
            nov.filtered(lambda m: boundary in m.line_ids.isp_subscription_id)
        )
        # [15 Nov, 1 Dec) of a 30-day period: 2,999 × 16 / 30 = 1,599.47
        for sub in (middle, fresh):
            invoice = nov.filtered(
                lambda m, sub=sub: sub in m.line_ids.isp_subscription_id
            )
            self.assertEqual(len(invoice), 1)
            self.assertMoveAmounts(invoice, 1599.47, 0.0, 1599.47)
            line = invoice.invoice_line_ids
            self.assertEqual(line.isp_period_start, self.d("2026-11-15"))
            self.assertEqual(line.isp_period_end, self.d("2026-12-01"))
        dec = self._bill(subs, self.d("2026-12-01"))
        self.assertEqual(len(dec), 3)
        for invoice in dec:
            self.assertMoveAmounts(invoice, 2999.0, 0.0, 2999.0)
            self.assertEqual(
                invoice.invoice_line_ids.isp_period_start, self.d("2026-12-01")
            )
            self.assertEqual(
                invoice.invoice_line_ids.isp_period_end, self.d("2027-01-01")
            )
        self.assertFalse(self._bill(subs, self.d("2026-12-20")))
        # Periods billed back to back from billed until: no gap, no overlap.
        for sub, first in ((boundary, "2026-12-01"), (middle, "2026-11-15")):
            periods = sub.period_ids.sorted("date_start")
            self.assertEqual(periods[0].date_start, self.d(first))
            for previous, following in zip(periods, periods[1:], strict=False):
                self.assertEqual(previous.date_end, following.date_start)

    def test_opening_balances(self):
        """One opening document per customer on the *Opening balances*
        journal: an invoice of what it owes, a credit note of its credit,
        none at zero; two rows of one customer make one document."""
        content = csv_file(
            "IMP301,C301,Owes Money,,,,,HOME10,,2026-01-10,,2026-12-01,,,,1250.50",
            "IMP302,C302,In Credit,,,,,HOME10,,2026-01-10,,2026-12-01,,,,-300",
            "IMP303,C303,Square,,,,,HOME10,,2026-01-10,,2026-12-01,,,,0",
            "IMP304,C304,Two Lines,,,,,HOME10,,2026-01-10,,2026-12-01,,,,800",
            "IMP305,C304,Two Lines,,,,,BIZ50,,2026-01-10,,2026-12-01,,,,800",
        )
        prepared, __ = self._import(content)
        journal = self.service._get_opening_journal(self.company, create=False)
        self.assertEqual(journal.code, "OPBAL")
        self.assertEqual(journal.type, "sale")
        self.assertEqual(journal.default_account_id.account_type, "equity")
        moves = self.env["account.move"].search([("journal_id", "=", journal.id)])
        by_partner = {move.partner_id.name: move for move in moves}
        self.assertEqual(sorted(by_partner), ["In Credit", "Owes Money", "Two Lines"])
        owes = by_partner["Owes Money"]
        self.assertEqual(owes.move_type, "out_invoice")
        self.assertEqual(owes.state, "posted")
        self.assertEqual(owes.invoice_date, self.d("2026-11-10"))
        self.assertMoveAmounts(owes, 1250.50, 0.0, 1250.50)
        self.assertEqual(owes.payment_reference, "IMP301")
        self.assertEqual(owes.invoice_line_ids.account_id, journal.default_account_id)
        credit = by_partner["In Credit"]
        self.assertEqual(credit.move_type, "out_refund")
        self.assertMoveAmounts(credit, 300.0, 0.0, 300.0)
        self.assertMoveAmounts(by_partner["Two Lines"], 800.0, 0.0, 800.0)
        # The customer's balance is the opening balance.
        self.assertEqual(self._sub("IMP301")._isp_balance(), 1250.50)
        self.assertEqual(self._sub("IMP302")._isp_balance(), -300.0)
        # Reconciliation: 1,250.50 − 300 + 0 + 800 = 1,750.50 on both sides.
        figures = self.service._prepare_reconciliation(prepared, self.company)["KES"]
        self.assertEqual(figures["balance_file"], 1750.50)
        self.assertEqual(figures["balance_odoo"], 1750.50)
        self.assertEqual(
            (figures["subscribers_file"], figures["subscribers_odoo"]), (5, 5)
        )
        # 4 × 2,999 + 9,999
        self.assertEqual(figures["mrr_odoo"], 21995.0)
        # Again: no second opening document.
        self._import(content)
        self.assertEqual(
            self.env["account.move"].search_count([("journal_id", "=", journal.id)]), 3
        )

    def test_reconciliation_lists_price_differences(self):
        content = csv_file(
            "IMP401,C401,Same Price,,,,,HOME10,ROUTER,2026-01-10,,2026-12-01,,,3299,",
            "IMP402,C402,Old Price,,,,,HOME10,,2026-01-10,,2026-12-01,,,2500,",
            "IMP403,C403,Bad Row,,,,,NOPE,,2026-01-10,,2026-12-01,,,100,",
        )
        prepared, __ = self._import(content)
        figures = self.service._prepare_reconciliation(prepared, self.company)["KES"]
        self.assertEqual((figures["rows"], figures["problems"]), (3, 1))
        self.assertEqual(figures["price_file"], 3299.0 + 2500.0)
        self.assertEqual(figures["price_odoo"], 3299.0 + 2999.0)
        self.assertEqual(figures["differences"], [(3, "IMP402", 2500.0, 2999.0)])

    @mute_logger("odoo.sql_db")
    def test_failed_customer_leaves_nothing_of_it(self):
        """A customer whose row fails in the real run (here another user gave
        its second account number to a subscription after the dry run)
        leaves nothing: no partner, no subscription, no opening document; the
        others are imported."""
        content = csv_file(
            "IMP501,C501,Fine Customer,,,,,HOME10,,2026-01-10,,2026-12-01,,,,100",
            "IMP502,C502,Doomed Customer,,,,,HOME10,,2026-01-10,,2026-12-01,,,,100",
            "IMP503,C502,Doomed Customer,,,,,BIZ50,,2026-01-10,,2026-12-01,,,,100",
        )
        prepared = self._prepare(content)
        self.assertEqual({item["status"] for item in prepared}, {"new"})
        taken = self._create_subscription(
            self.plan_home, self.d("2026-01-10"), account_number="IMP503"
        )
        moves_before = self.env["account.move"].search_count([])
        result = self.service._import_prepared(prepared, self.company)
        self.assertEqual(sorted(result["failed"]), [3, 4])
        self.assertRegex(result["failed"][4], "isp_subscription_account_number_unique")
        self.assertTrue(self._sub("IMP501"))
        self.assertFalse(self._sub("IMP502"))
        self.assertEqual(self._sub("IMP503"), taken)
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Doomed Customer")])
        )
        # Only the fine customer's opening invoice.
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 1)

    @mute_logger("odoo.sql_db")
    def test_batch_with_a_failing_customer_imports_the_others_whole(self):
        """One batch (the default 200 customers) holds good customers and one
        whose second row fails at write time (its account number was given to
        another subscription after the dry run): the batch is rolled back and
        imported again customer by customer, so the failed customer leaves
        nothing and every other one is imported whole (partner,
        subscriptions active or suspended, events, chatter notes, opening
        document posted), as a batch without the failing customer would."""
        content = csv_file(
            "IMP601,C601,Owes,,,,,HOME10,,2026-01-10,2026-02-01,2026-12-01,,,,1000",
            "IMP602,C602,Doomed,,,,,HOME10,,2026-01-10,,2026-12-01,,,,500",
            "IMP603,C602,Doomed,,,,,BIZ50,,2026-01-10,,2026-12-01,,,,500",
            "IMP604,C604,Credit,,,,,HOME10,,2026-03-05,,2026-11-05,suspended,,,-250",
            "IMP605,C605,Square,,,,,BIZ50,,2026-01-10,,2026-12-01,,,,0",
        )
        prepared = self._prepare(content)
        self.assertEqual({item["status"] for item in prepared}, {"new"})
        taken = self._create_subscription(
            self.plan_home, self.d("2026-01-10"), account_number="IMP603"
        )
        before = self._footprint()
        with freeze_time("2026-11-10 09:00:00"):
            result = self.service._import_prepared(
                prepared, self.company, date_ref=self.d("2026-11-10")
            )
        self.assertEqual(sorted(result["failed"]), [3, 4])
        self.assertRegex(result["failed"][4], "isp_subscription_account_number_unique")
        self.assertEqual(
            [item["status"] for item in prepared],
            ["created", "error", "error", "created", "created"],
        )
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Doomed")]))
        self.assertFalse(self._sub("IMP602"))
        self.assertEqual(self._sub("IMP603"), taken)
        subs = self.env["isp.subscription"].browse(result["created"])
        self.assertEqual(subs.mapped("account_number"), ["IMP601", "IMP604", "IMP605"])
        self.assertEqual(subs.mapped("state"), ["active", "suspended", "active"])
        self.assertEqual(
            subs.mapped("billed_until"),
            [self.d("2026-12-01"), self.d("2026-11-05"), self.d("2026-12-01")],
        )
        self.assertEqual(subs[0].billing_anchor_date, self.d("2026-02-01"))
        self.assertEqual(subs[1].suspension_kind, "manual")
        self.assertEqual(subs[1].state_date, self.d("2026-11-10"))
        self.assertEqual(subs[2].next_invoice_date, self.d("2026-12-01"))
        events = (
            self.env["isp.subscription.event"]
            .sudo()
            .search([("subscription_id", "in", subs.ids)])
            .sorted(lambda e: (e.subscription_id.account_number, e.event_date))
        )
        self.assertEqual(
            [
                (e.subscription_id.account_number, e.event_type, e.event_date)
                for e in events
            ],
            [
                ("IMP601", "new", self.d("2026-01-10")),
                ("IMP604", "new", self.d("2026-03-05")),
                ("IMP604", "suspension", self.d("2026-11-10")),
                ("IMP605", "new", self.d("2026-01-10")),
            ],
        )
        # 2,999 a month for HOME10, 9,999 for BIZ50.
        self.assertEqual(events.mapped("recurring_monthly"), [2999, 2999, 2999, 9999])
        notes = subs[1].message_ids.filtered(
            lambda m: "Suspended in the previous system" in m.body
        )
        self.assertEqual(len(notes), 1)
        self.assertIn(
            "Imported from the previous system",
            "".join(subs[0].message_ids.mapped("body")),
        )
        journal = self.service._get_opening_journal(self.company, create=False)
        moves = self.env["account.move"].search([("journal_id", "=", journal.id)])
        self.assertEqual(
            sorted(
                (m.partner_id.name, m.move_type, m.state, m.amount_total) for m in moves
            ),
            [
                ("Credit", "out_refund", "posted", 250.0),
                ("Owes", "out_invoice", "posted", 1000.0),
            ],
        )
        after = self._footprint()
        # 3 partners, 3 subscriptions, 3 lines, 4 events, 2 documents, the
        # journal and its account: nothing of Doomed.
        self.assertEqual(
            tuple(a - b for a, b in zip(after, before, strict=True)),
            (3, 3, 3, 4, 2, 1, 1),
        )

    def test_import_queries_are_per_batch(self):
        """The import is set-based: 30 more customers in the same batch cost
        a few queries each (the opening documents' numbering), not the dozens
        a customer-by-customer import takes."""

        def queries(first, count):
            content = csv_file(
                *(
                    f"IMQ{n:03d},CQ{n:03d},Query {n},0712{n:06d},q{n}@example.com,"
                    f",,HOME10,ROUTER,2026-01-10,,2026-12-01,"
                    f"{'suspended' if n % 2 else ''},,,{100 if n % 3 else ''}"
                    for n in range(first, first + count)
                )
            )
            prepared = self._prepare(content)
            start = sql_db.sql_counter
            self.service._import_prepared(
                prepared, self.company, date_ref=self.d("2026-11-10")
            )
            self.env.flush_all()
            return sql_db.sql_counter - start

        queries(900, 2)  # the opening journal made, caches warm
        small = queries(100, 5)
        large = queries(200, 35)
        self.assertLess((large - small) / 30, 25)

    def test_import_continues_in_batches_in_the_background(self):
        """The wizard imports the first batch of customers, then the
        scheduled action the next ones, a batch per call, with the progress
        on the wizard; a row that failed in an earlier batch is not retried."""
        content = csv_file(
            *(
                f"IMP9{n:02d},C9{n:02d},Batch {n},,,,,HOME10,,2026-01-10,,"
                "2026-12-01,,,,"
                for n in range(1, 6)
            )
        )
        taken = self._create_subscription(
            self.plan_home, self.d("2026-01-10"), account_number="IMP903"
        )
        Wizard = self.env["isp.subscriber.import.wizard"].with_context(
            isp_import_batch_size=2
        )
        wizard = Wizard.create(
            {"file": base64.b64encode(content), "filename": "batches.csv"}
        )
        cron = self.env.ref("isp_billing.ir_cron_isp_subscriber_import")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        wizard.action_dry_run()
        self.assertEqual((wizard.exists_count, wizard.new_count), (1, 4))
        wizard.action_import()
        self.assertEqual(wizard.state, "running")
        self.assertEqual((wizard.created_count, wizard.remaining_count), (2, 2))
        self.assertTrue(self._sub("IMP901") and self._sub("IMP902"))
        self.assertFalse(self._sub("IMP904") or self._sub("IMP905"))
        self.assertGreater(Trigger.search_count([("cron_id", "=", cron.id)]), triggers)
        # Line 5 (IMP904) failed in an earlier batch: not retried.
        wizard.failed_lines = {"5": "an earlier batch failed"}
        Wizard._cron_import_subscribers()
        self.assertEqual(wizard.state, "done")
        self.assertEqual((wizard.created_count, wizard.remaining_count), (3, 0))
        self.assertFalse(self._sub("IMP904"))
        self.assertEqual(self._sub("IMP905").partner_id.name, "Batch 5")
        self.assertEqual(self._sub("IMP903"), taken)
        self.assertEqual(wizard.problem_count, 1)
        self.assertIn("an earlier batch failed", wizard.problems_html)
        before = self._footprint()
        Wizard._cron_import_subscribers()  # nothing running: nothing done
        self.assertEqual(self._footprint(), before)

    def test_xlsx_with_date_cells(self):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADER.split(","))
        sheet.append(
            [
                "IMP601",
                601,
                "Excel Row",
                "0712 345 699",
                None,
                None,
                None,
                "HOME10",
                None,
                self.d("2026-02-03"),
                None,
                self.d("2026-12-03"),
                None,
                None,
                2999,
                -150.5,
            ]
        )
        out = io.BytesIO()
        book.save(out)
        prepared = self._prepare(out.getvalue(), filename="old.xlsx")
        values = prepared[0]["values"]
        self.assertEqual(prepared[0]["status"], "new", prepared[0]["errors"])
        self.assertEqual(values["customer_ref"], "601")
        self.assertEqual(values["date_start"], self.d("2026-02-03"))
        self.assertEqual(values["billed_until"], self.d("2026-12-03"))
        self.assertEqual(values["anchor"], self.d("2026-12-03"))
        self.assertEqual(float(values["opening_balance"]), -150.5)

    def test_template_is_the_generic_layout_and_imports(self):
        """The downloadable template has every column of the layout and its
        example row passes the dry run."""
        wizard = self.env["isp.subscriber.import.wizard"].create({})
        action = wizard.action_download_template()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn("template_file", action["url"])
        content = base64.b64decode(wizard.template_file)
        header, example = list(csv.reader(io.StringIO(content.decode())))
        self.assertEqual(header, self.service._import_columns())
        self.assertEqual(header[: len(HEADER.split(","))], HEADER.split(","))
        prepared = self._prepare(content)
        self.assertEqual(prepared[0]["errors"], [])


@tagged("post_install", "-at_install")
class TestSubscriberImportMappings(SubscriberImportCommon):
    def test_phpnuxbill_customers_and_recharges(self):
        customers = (DATA / "phpnuxbill_tbl_customers.csv").read_bytes()
        recharges = (DATA / "phpnuxbill_tbl_user_recharges.csv").read_bytes()
        prepared = self._prepare(
            customers,
            mapping="phpnuxbill",
            filename="tbl_customers.csv",
            recharges=recharges,
            recharges_name="tbl_user_recharges.csv",
        )
        lines = {item["values"]["account_number"]: item for item in prepared}
        wanjiku = lines["wanjiku"]["values"]
        self.assertEqual(lines["wanjiku"]["status"], "new", lines["wanjiku"]["errors"])
        self.assertEqual(wanjiku["name"], "Wanjiku Njoroge")
        self.assertEqual(wanjiku["mobile"], "+254722111222")
        self.assertEqual(wanjiku["date_start"], self.d("2025-02-03"))
        # The active recharge (status on) runs to 15 December.
        self.assertEqual(wanjiku["billed_until"], self.d("2026-12-15"))
        self.assertEqual(wanjiku["anchor"], self.d("2026-12-15"))
        # A deposit of 250.00 is a credit.
        self.assertEqual(float(wanjiku["opening_balance"]), -250.0)
        self.assertEqual(lines["otieno"]["values"]["state"], "suspended")
        self.assertEqual(lines["otieno"]["values"]["plan"], self.plan_business)
        self.assertEqual(float(lines["kiprop"]["values"]["opening_balance"]), 1200.0)
        self.assertEqual(lines["amina.h"]["status"], "error")
        self.assertRegex(
            "; ".join(lines["amina.h"]["errors"]),
            r"no active recharge.*invalid phone 0700 000 000 1",
        )
        with freeze_time("2026-11-10 09:00:00"):
            result = self.service._import_prepared(prepared, self.company)
        self.assertEqual(len(result["created"]), 3)
        self.assertEqual(self._sub("wanjiku").next_invoice_date, self.d("2026-12-15"))

    def test_splynx_customers_export(self):
        prepared = self._prepare((DATA / "splynx_customers.csv").read_bytes(), "splynx")
        lines = {item["values"]["account_number"]: item for item in prepared}
        baraka = lines["SPX-00101"]
        self.assertEqual(baraka["status"], "new", baraka["errors"])
        self.assertEqual(baraka["values"]["plan"], self.plan_home)
        self.assertEqual(baraka["values"]["mobile"], "+254721555001")
        self.assertEqual(baraka["values"]["billed_until"], self.d("2026-12-01"))
        # A balance of −2,999.00 in Splynx is owed.
        self.assertEqual(float(baraka["values"]["opening_balance"]), 2999.0)
        self.assertEqual(float(lines["SPX-00102"]["values"]["opening_balance"]), -500.0)
        self.assertEqual(lines["SPX-00103"]["values"]["state"], "suspended")
        self.assertEqual(lines["SPX-00104"]["status"], "error")
        self.assertRegex(lines["SPX-00104"]["errors"][0], "state disabled")
        with freeze_time("2026-11-10 09:00:00"):
            self.service._import_prepared(prepared, self.company)
        figures = self.service._prepare_reconciliation(prepared, self.company)["KES"]
        # Prices 2,999 + 9,999 + 2,999 of the three imported rows, equal in Odoo.
        self.assertEqual(
            (figures["price_file"], figures["price_odoo"]), (15997.0, 15997.0)
        )
        # Balances 2,999 − 500 + 4,500 = 6,999.
        self.assertEqual(
            (figures["balance_file"], figures["balance_odoo"]), (6999.0, 6999.0)
        )


@tagged("post_install", "-at_install")
class TestSubscriberImportRights(SubscriberImportCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("import")

    def _rpc(self, model, method, args=(), **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {
                    "context": {"allowed_company_ids": self.company.ids},
                    **kwargs,
                },
            },
        )

    def test_service_refuses_non_managers(self):
        content = csv_file(
            "IMP701,C701,Not Allowed,,,,,HOME10,,2026-01-10,,2026-12-01,,,,"
        )
        rows = self.service._read_file("generic", content, "x.csv")
        prepared = self.service._prepare_rows(rows, self.company)
        for user in (self.isp_user, self.invoicing_user, self.portal_user):
            service = self.service.with_user(user)
            with self.subTest(user=user.login):
                with self.assertRaisesRegex(AccessError, "Only ISP managers"):
                    service._read_file("generic", content, "x.csv")
                with self.assertRaisesRegex(AccessError, "Only ISP managers"):
                    service._prepare_template()
                with self.assertRaisesRegex(AccessError, "Only ISP managers"):
                    service._prepare_rows(rows, self.company)
                with self.assertRaisesRegex(AccessError, "Only ISP managers"):
                    service._import_prepared(prepared, self.company)
        self.assertFalse(self._sub("IMP701"))

    @mute_logger("odoo.http")
    def test_rights_over_json_rpc(self):
        """An ISP manager imports over JSON-RPC; an ISP user, an Invoicing
        user and a subscriber get AccessError and nothing is written."""
        content = base64.b64encode(
            csv_file("IMP801,C801,Over Rpc,,,,,HOME10,,2026-01-10,,2026-12-01,,,,")
        ).decode()
        vals = {"file": content, "filename": "x.csv", "company_id": self.company.id}
        before = self._footprint()
        for login in ("import_isp_user", "import_invoicing", "import_portal"):
            HttpCase.authenticate(self, login, login)
            with (
                self.subTest(login=login),
                self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"),
            ):
                self._rpc("isp.subscriber.import.wizard", "create", [vals])
        self.assertEqual(self._footprint(), before)
        HttpCase.authenticate(self, "import_isp_manager", "import_isp_manager")
        wizard_id = self._rpc("isp.subscriber.import.wizard", "create", [vals])
        self._rpc("isp.subscriber.import.wizard", "action_dry_run", [[wizard_id]])
        self.assertEqual(self._footprint(), before)
        self._rpc("isp.subscriber.import.wizard", "action_import", [[wizard_id]])
        wizard = self.env["isp.subscriber.import.wizard"].browse(wizard_id)
        self.assertEqual(wizard.created_count, 1, wizard.problems_html)
        self.assertEqual(self._sub("IMP801").partner_id.name, "Over Rpc")
        # The manager's wizard is not another user's to run.
        HttpCase.authenticate(self, "import_isp_user", "import_isp_user")
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self._rpc("isp.subscriber.import.wizard", "action_import", [[wizard_id]])
