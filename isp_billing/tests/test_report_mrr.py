# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""MRR, its movements and the subscriber metrics (README, "Analytics
definitions") on a small book of subscribers, each figure computed by hand;
and who may read the reports, over JSON-RPC.

The book (company currency KES; UGX at 30 per KES):

- A: home 2999 from 2025-10-05; upgraded to business 9999 on 2026-10-01.
- E: business 9999 from 2025-11-03; downgraded to home 2999 on 2026-11-16.
- B: home 2999 + router 300 from 2026-09-03; static IP 500 added on 2026-10-15;
  terminated on 2026-11-05 (unused days credited); back on 2026-12-01 with a
  new home subscription (2999).
- C: business 9999 from 2026-09-10, billed; downgraded to home on 2026-10-20
  (a credit note of the unused days, which moves nothing); an installation
  fee (one-time) added on 2026-10-21 (moves nothing).
- D: weekly 700 (MRR 700 x 30.437 / 7 = 3043.70) from 2026-09-20; suspended on
  2026-10-25 (keeps its MRR), reactivated on 2026-11-10; its currency changed
  to UGX at 21000 a week on 2026-12-02 (MRR 21000 x 30.437 / 7 = 91311 UGX,
  3043.70 KES).
"""

import importlib.util
from datetime import datetime, time
from pathlib import Path

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import float_round, mute_logger

from .common import IspBillingCommon


def load_migration(version):
    path = Path(__file__).parent.parent / "migrations" / version / "post-migrate.py"
    spec = importlib.util.spec_from_file_location(f"isp_billing_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def r2(value, digits=2):
    """Round half up to ``digits`` as Odoo rounds money (not banker's)."""
    return float_round(value, precision_digits=digits)


@tagged("post_install", "-at_install")
class TestReportMrr(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Other companies' subscriptions (demo data) stay out of the billing
        # runs; every figure below is read for this company only.
        cls.env.cr.execute(
            """UPDATE isp_subscription SET state = 'terminated'
               WHERE company_id != %s AND state IN ('active', 'suspended')""",
            [cls.company.id],
        )
        cls.env.invalidate_all()
        cls.ugx = cls.setup_other_currency(
            "UGX", rounding=1.0, rates=[("2000-01-01", 30.0)]
        )
        cls.pricelist_ugx = cls.env["product.pricelist"].create(
            {
                "name": "UGX",
                "currency_id": cls.ugx.id,
                "company_id": cls.company.id,
            }
        )
        Partner = cls.env["res.partner"]
        cls.a, cls.b, cls.c, cls.d_, cls.e = Partner.create(
            [
                {"name": f"Book customer {name}", "tz": "Africa/Nairobi"}
                for name in "ABCDE"
            ]
        )
        cls._build_book()
        cls._create_role_users("mrr")
        cls.accountant = new_test_user(
            cls.env,
            login="mrr_accountant",
            groups="base.group_user,account.group_account_readonly",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.internal_user = new_test_user(
            cls.env,
            login="mrr_internal",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _on(cls, day, method, *args, **kwargs):
        """Call ``method`` with the clock on ``day`` (actions without a
        reference date date their events by it)."""
        with freeze_time(datetime.combine(cls.d(day), time(9, 0))):
            return method(*args, **kwargs)

    @classmethod
    def _new(cls, day, partner, plan, extra_lines=()):
        sub = cls._create_subscription(
            plan, cls.d(day), partner=partner, extra_lines=extra_lines
        )
        cls._on(day, sub.action_activate)
        return sub

    @classmethod
    def _run(cls, day):
        cls.env["isp.billing.run"]._cron_bill_subscriptions(date_ref=cls.d(day))

    @classmethod
    def _build_book(cls):
        d = cls.d
        cls.sub_a = cls._new("2025-10-05", cls.a, cls.plan_home)
        cls.sub_e = cls._new("2025-11-03", cls.e, cls.plan_business)
        cls.sub_b = cls._new(
            "2026-09-03", cls.b, cls.plan_home, [(cls.router, {"quantity": 1.0})]
        )
        cls.sub_c = cls._new("2026-09-10", cls.c, cls.plan_business)
        cls._run("2026-09-10")
        cls.sub_d = cls._new("2026-09-20", cls.d_, cls.plan_weekly)
        cls._run("2026-10-01")
        cls.sub_a._change_plan(
            cls.plan_business, d("2026-10-01"), "Upgrade", date_ref=d("2026-10-01")
        )
        cls._run("2026-10-10")
        cls._on(
            "2026-10-15",
            cls.sub_b.write,
            {"line_ids": [Command.create({"product_id": cls.static_ip.id})]},
        )
        cls.c_moves = cls.sub_c.invoice_line_ids.move_id
        cls.sub_c._change_plan(
            cls.plan_home, d("2026-10-20"), "Downgrade", date_ref=d("2026-10-20")
        )
        cls.c_credit = cls.sub_c.invoice_line_ids.move_id - cls.c_moves
        cls._on(
            "2026-10-21",
            cls.sub_c.write,
            {
                "line_ids": [
                    Command.create(
                        {"product_id": cls.install_fee.id, "line_type": "once"}
                    )
                ]
            },
        )
        cls._on("2026-10-25", cls.sub_d.action_suspend, "Overdue")
        cls.sub_b.action_terminate(
            d("2026-11-05"), "Moving", credit=True, date_ref=d("2026-11-05")
        )
        cls._on("2026-11-10", cls.sub_d.action_reactivate, "Paid")
        cls.sub_e._change_plan(
            cls.plan_home, d("2026-11-16"), "Downgrade", date_ref=d("2026-11-16")
        )
        cls.sub_b2 = cls._new("2026-12-01", cls.b, cls.plan_home)
        plan_line = cls.sub_d.line_ids.filtered(lambda line: line.line_type == "plan")
        # The currency of a running subscription changes only through the
        # engine (no staff screen changes it).
        cls._on(
            "2026-12-02",
            cls.sub_d.with_context(isp_billing_engine=True).write,
            {
                "currency_id": cls.ugx.id,
                "pricelist_id": cls.pricelist_ugx.id,
                "line_ids": [Command.update(plan_line.id, {"price_unit": 21000.0})],
            },
        )
        cls.env.flush_all()

    def _mine(self):
        return [("company_id", "=", self.company.id)]

    def _month(self, text):
        return self.d(text + "-01")

    # ------------------------------------------------------------------
    # The definition and the movements on the event log
    # ------------------------------------------------------------------

    def test_mrr_of_each_subscription(self):
        subs = (
            self.sub_a,
            self.sub_b,
            self.sub_b2,
            self.sub_c,
            self.sub_d,
            self.sub_e,
        )
        self.assertEqual(
            [sub.recurring_monthly for sub in subs],
            # A business; B terminated: none; B2 home; C home (the one-time fee
            # does not count); D 21000 UGX a week x 30.437 / 7; E home
            [9999.0, 0.0, 2999.0, 2999.0, 91311.0, 2999.0],
        )
        self.assertEqual(self.sub_d.currency_id, self.ugx)

    def test_movements_on_the_event_log(self):
        Event = self.env["isp.subscription.event"]
        events = Event.search(
            [
                (
                    "subscription_id",
                    "in",
                    (self.sub_a | self.sub_b | self.sub_b2).ids
                    + (self.sub_c | self.sub_d | self.sub_e).ids,
                ),
                ("mrr_movement", "!=", False),
            ],
            order="event_date, id",
        )
        self.assertEqual(
            [
                (
                    e.event_date.isoformat(),
                    e.partner_id.name[-1],
                    e.event_type,
                    e.mrr_movement,
                    e.currency_id.name,
                    e.mrr_change,
                    e.mrr_change_company,
                )
                for e in events
            ],
            [
                ("2025-10-05", "A", "new", "new", "KES", 2999.0, 2999.0),
                ("2025-11-03", "E", "new", "new", "KES", 9999.0, 9999.0),
                # 2999 + 300
                ("2026-09-03", "B", "new", "new", "KES", 3299.0, 3299.0),
                ("2026-09-10", "C", "new", "new", "KES", 9999.0, 9999.0),
                # 700 x 30.437 / 7 = 3043.70
                ("2026-09-20", "D", "new", "new", "KES", 3043.7, 3043.7),
                # 9999 - 2999
                ("2026-10-01", "A", "upgrade", "expansion", "KES", 7000.0, 7000.0),
                ("2026-10-15", "B", "line_change", "expansion", "KES", 500.0, 500.0),
                # the full monthly difference, not the credit note
                (
                    "2026-10-20",
                    "C",
                    "downgrade",
                    "contraction",
                    "KES",
                    -7000.0,
                    -7000.0,
                ),
                # 2999 + 300 + 500
                ("2026-11-05", "B", "termination", "churn", "KES", -3799.0, -3799.0),
                (
                    "2026-11-16",
                    "E",
                    "downgrade",
                    "contraction",
                    "KES",
                    -7000.0,
                    -7000.0,
                ),
                ("2026-12-01", "B", "new", "reactivation", "KES", 2999.0, 2999.0),
                # the pair: out of KES, into UGX (91311 / 30 = 3043.70 KES)
                (
                    "2026-12-02",
                    "D",
                    "currency_change",
                    "transfer_out",
                    "KES",
                    -3043.7,
                    -3043.7,
                ),
                (
                    "2026-12-02",
                    "D",
                    "currency_change",
                    "transfer_in",
                    "UGX",
                    91311.0,
                    3043.7,
                ),
            ],
        )
        # The suspension, the reactivation after it, the one-time fee and the
        # credit note of C's downgrade move nothing.
        self.assertEqual(
            self.c_credit.mapped("move_type"), ["out_refund"], "C's proration"
        )
        quiet = Event.search(
            [
                ("subscription_id", "in", (self.sub_c | self.sub_d).ids),
                ("mrr_movement", "=", False),
            ]
        )
        self.assertEqual(
            sorted(quiet.mapped("event_type")), ["reactivation", "suspension"]
        )
        self.assertEqual(
            (self.sub_d.event_ids.sorted("id")[-3].recurring_monthly), 3043.7
        )

    def test_migration_replays_the_same_movements(self):
        """The 18.0.1.5.0 migration computes, for events logged before it, the
        movements new events get (the transfer pair included)."""
        Event = self.env["isp.subscription.event"]
        events = Event.search(self._mine(), order="id")
        names = [
            "customer_id",
            "mrr_movement",
            "mrr_change",
            "mrr_change_company",
            "recurring_monthly_company",
        ]
        logged = events.read(names)
        self.env.cr.execute(
            """UPDATE isp_subscription_event
                  SET mrr_movement = NULL, mrr_change = 0, mrr_change_company = 0,
                      recurring_monthly_company = 0, customer_id = NULL
                WHERE company_id = %s""",
            self.company.ids,
        )
        self.env.invalidate_all()
        load_migration("18.0.1.5.0")._replay_movements(self.env)
        self.env.invalidate_all()
        self.assertEqual(events.read(names), logged)
        self.assertEqual(len(events.filtered("mrr_movement")), 13)

    # ------------------------------------------------------------------
    # Reports
    # ------------------------------------------------------------------

    def test_mrr_by_month_with_movements(self):
        Report = self.env["isp.report.mrr"]
        got = Report._compute_mrr_by_month(
            self.d("2026-09-01"), self.d("2026-12-31"), self.company.ids
        )
        zero = dict.fromkeys(
            (
                "new",
                "expansion",
                "contraction",
                "churn",
                "reactivation",
                "transfer_in",
                "transfer_out",
            ),
            0.0,
        )
        expected = {
            # A 2999 + E 9999 at start; new B 3299, C 9999, D 3043.70
            (self._month("2026-09"), self.kes): dict(
                zero, mrr_start=12998.0, new=16341.7, mrr_end=29339.7
            ),
            # expansion A 7000 + B 500; contraction C 7000
            (self._month("2026-10"), self.kes): dict(
                zero,
                mrr_start=29339.7,
                expansion=7500.0,
                contraction=7000.0,
                mrr_end=29839.7,
            ),
            # churn B 3799; contraction E 7000
            (self._month("2026-11"), self.kes): dict(
                zero,
                mrr_start=29839.7,
                churn=3799.0,
                contraction=7000.0,
                mrr_end=19040.7,
            ),
            # reactivation B 2999; D out of KES: 3043.70
            (self._month("2026-12"), self.kes): dict(
                zero,
                mrr_start=19040.7,
                reactivation=2999.0,
                transfer_out=3043.7,
                mrr_end=18996.0,
            ),
            (self._month("2026-12"), self.ugx): dict(
                zero, mrr_start=0.0, transfer_in=91311.0, mrr_end=91311.0
            ),
        }
        got = {
            key: {name: r2(value, 2) for name, value in values.items()}
            for key, values in got.items()
        }
        self.assertEqual(got, expected)
        # the identity, per month and currency
        for values in got.values():
            self.assertAlmostEqual(
                values["mrr_start"]
                + values["new"]
                + values["expansion"]
                + values["reactivation"]
                - values["contraction"]
                - values["churn"]
                + values["transfer_in"]
                - values["transfer_out"],
                values["mrr_end"],
                places=2,
            )
        # by plan, in the company currency at month end (December):
        # business A 9999; home B2, C and E 3 x 2999; weekly D 3043.70
        by_plan = {
            plan.name: total
            for plan, total in Report._read_group(
                [*self._mine(), ("month", "=", self._month("2026-12"))],
                ["plan_id"],
                ["mrr_end_company:sum"],
            )
        }
        self.assertEqual(
            {name: r2(total, 2) for name, total in by_plan.items()},
            {
                "50 Mbps Business": 9999.0,
                "10 Mbps Home": 8997.0,
                "Weekly 5 Mbps": 3043.7,
            },
        )

    def _metrics(self, **kwargs):
        Report = self.env["isp.report.subscriber"]
        return {
            key[0]: values
            for key, values in Report._compute_metrics(
                self.d("2026-09-01"), self.d("2026-12-31"), self.company.ids, **kwargs
            ).items()
        }

    def test_subscribers_arpu_and_churn(self):
        got = self._metrics()
        fields = (
            "subscriber_start",
            "subscriber_end",
            "new_customers",
            "reactivated",
            "churned",
            "mrr_start",
            "mrr_end",
            "arpu",
            "logo_churn_rate",
            "revenue_churn_rate",
            "ltv",
        )
        self.assertEqual(
            {
                month.isoformat()[:7]: tuple(r2(values[f], 2) for f in fields)
                for month, values in got.items()
            },
            {
                # start A, E; new B, C, D. ARPU 29339.70 / 5 = 5867.94
                "2026-09": (2, 5, 3, 0, 0, 12998.0, 29339.7, 5867.94, 0.0, 0.0, 0.0),
                # ARPU 29839.70 / 5 = 5967.94; revenue churn: contraction 7000 /
                # 29339.70 = 23.86 %
                "2026-10": (5, 5, 0, 0, 0, 29339.7, 29839.7, 5967.94, 0.0, 23.86, 0.0),
                # B lost: 1 / 5 = 20 %; ARPU 19040.70 / 4 = 4760.175 -> 4760.18;
                # revenue churn (3799 + 7000) / 29839.70 = 36.19 %; LTV
                # 4760.175 / 0.20 = 23800.875 -> 23800.88
                "2026-11": (
                    5,
                    4,
                    0,
                    0,
                    1,
                    29839.7,
                    19040.7,
                    4760.18,
                    20.0,
                    36.19,
                    23800.88,
                ),
                # B back; D's transfer pair nets to 0 in KES (3043.70 out, 91311
                # UGX = 3043.70 KES in): 18996 + 3043.70 = 22039.70, / 5 = 4407.94
                "2026-12": (4, 5, 0, 1, 0, 19040.7, 22039.7, 4407.94, 0.0, 0.0, 0.0),
            },
        )

    def test_revenue_retention_over_twelve_months(self):
        got = self._metrics()
        self.assertEqual(
            {
                month.isoformat()[:7]: (
                    r2(values["mrr_year_ago"], 2),
                    r2(values["net_revenue_retention"], 2),
                    r2(values["gross_revenue_retention"], 2),
                )
                for month, values in got.items()
            },
            {
                # nobody had MRR at the end of September 2025
                "2026-09": (0.0, 0.0, 0.0),
                # end of October 2025: A 2999; now 9999: 333.41 %, capped 100 %
                "2026-10": (2999.0, 333.41, 100.0),
                # end of November 2025: A 2999 + E 9999 = 12998; now A 9999 + E
                # 2999 = 12998: 100 %; capped 2999 + 2999 = 5998: 46.15 %
                "2026-11": (12998.0, 100.0, 46.15),
                "2026-12": (12998.0, 100.0, 46.15),
            },
        )

    def test_cohort_retention(self):
        Report = self.env["isp.report.subscriber"]
        groups = Report.read_group(
            [*self._mine(), ("cohort_month", "=", self._month("2026-09"))],
            [
                "cohort_retention:avg",
                "cohort_revenue_retention:avg",
                "cohort_customers",
            ],
            ["cohort_age"],
            lazy=False,
        )
        self.assertEqual(
            [
                (
                    group["cohort_age"],
                    group["cohort_customers"],
                    r2(group["cohort_retention"], 2),
                    r2(group["cohort_revenue_retention"], 2),
                )
                for group in groups
                if group["cohort_age"] <= 3
            ],
            [
                # cohort September 2026: B, C, D; MRR at its end 3299 + 9999 +
                # 3043.70 = 16341.70
                (0, 3, 100.0, 100.0),
                # October: B 3799 + C 2999 + D 3043.70 = 9841.70: 60.22 %
                (1, 3, 100.0, 60.22),
                # November: B lost: 2 / 3 = 66.67 %; C 2999 + D 3043.70 = 6042.70:
                # 36.98 %
                (2, 3, 66.67, 36.98),
                # December: B back: B 2999 + C 2999 + D 3043.70 = 9041.70: 55.33 %
                (3, 3, 100.0, 55.33),
            ],
        )

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def _rpc_read(self, login, model):
        HttpCase.authenticate(self, login, login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": "read_group",
                "args": [[], ["mrr_end:sum"], ["month:month"]],
                "kwargs": {
                    "lazy": False,
                    "context": {"allowed_company_ids": self.company.ids},
                },
            },
        )

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model")
    def test_reports_readable_by_managers_and_accounting_only(self):
        for model in ("isp.report.mrr", "isp.report.subscriber"):
            for login in ("mrr_isp_manager", "mrr_accountant"):
                groups = self._rpc_read(login, model)
                december = [
                    group
                    for group in groups
                    if group["month:month"].startswith("December 2026")
                ]
                self.assertTrue(december, f"{login} reads {model}")
            for login in ("mrr_portal", "mrr_internal", "mrr_isp_user"):
                with self.assertRaisesRegex(
                    JsonRpcException, "odoo.exceptions.AccessError"
                ):
                    self._rpc_read(login, model)
