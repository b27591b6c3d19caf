# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ISP dashboard (isp.dashboard.get_dashboard_data): each tile against a
small book counted by hand, each click-through listing exactly the records
counted, the filters (company, period, plan), the rights over JSON-RPC, and
the landing page in Chromium."""

import json

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.convert import convert_file

from .common import IspBillingCommon, IspCollectionsCommon

TODAY = "2026-11-05 10:00:00"


@tagged("post_install", "-at_install")
class TestDashboard(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A second ISP company, made with every company of the user allowed
        # (as the base class makes the first one).
        env = cls.env
        cls.env = env(
            context={k: v for k, v in env.context.items() if k != "allowed_company_ids"}
        )
        cls.other = cls.setup_other_company(
            name="Coast ISP Ltd", currency_id=cls.kes.id, country_id=cls.kenya.id
        )["company"]
        cls.env = env
        cls._create_role_users("dash")
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
        Partner = cls.env["res.partner"]
        customers = Partner.create(
            [{"name": f"Dashboard customer {n}"} for n in range(5)]
        )
        oct1, nov1 = cls.d("2026-10-01"), cls.d("2026-11-01")
        term = {"payment_term_id": cls.term_10.id}
        # The book on 5 November 2026 (every invoice due 10 days after its
        # date), each change made on its day (the event log dates them so):
        Run = cls.env["isp.billing.run"]
        with freeze_time("2026-10-01 09:00:00"):
            cls.home = cls._active_subscription(cls.plan_home, oct1, **term)
            cls.business = cls._active_subscription(
                cls.plan_business, oct1, partner=cls.customer_2, **term
            )
            cls.suspended = cls._active_subscription(
                cls.plan_home, oct1, partner=customers[0], **term
            )
            cls.flagged = cls._active_subscription(
                cls.plan_home, oct1, partner=customers[2], **term
            )
            running = cls.home | cls.business | cls.suspended | cls.flagged
            october = Run._bill(running, oct1)
        cls.october = {inv.isp_subscription_ids: inv for inv in october}
        with freeze_time("2026-10-20 10:00:00"):
            # business: 4,000.00 of 9,999.00 paid; flagged: paid in full
            for sub, amount in ((cls.business, 4000.0), (cls.flagged, 2999.0)):
                cls.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=cls.october[sub].ids
                ).create({"amount": amount})._create_payments()
        with freeze_time("2026-11-01 09:00:00"):
            cls.slow = cls._active_subscription(
                cls.plan_home, nov1, partner=customers[1], **term
            )
            cls.draft = cls._create_subscription(
                cls.plan_home, nov1, partner=customers[3]
            )
            cls.gone = cls._active_subscription(
                cls.plan_business, nov1, partner=customers[4], **term
            )
            cls.gone.action_terminate(nov1, "Moving", credit=False)
            Run._bill(running | cls.slow, nov1)
        with freeze_time("2026-11-02 10:00:00"):
            cls.suspended.action_suspend("Asked to pause")
        with freeze_time("2026-11-03 10:00:00"):
            cls.slow._isp_dunning_throttle("test")
            cls.flagged.write(
                {"billing_exception": True, "billing_exception_reason": "No tax"}
            )
        cls.dashboard = cls.env["isp.dashboard"].with_user(cls.isp_user)

    def _data(self, dashboard=None, **filters):
        with freeze_time(TODAY):
            # (a service model's recordset is empty, hence falsy: no ``or``)
            dashboard = self.dashboard if dashboard is None else dashboard
            data = dashboard.get_dashboard_data(filters)
        return data, {tile["key"]: tile for tile in data["tiles"]}

    def assertClickThrough(self, tile, user, companies=None):
        """The tile's action lists exactly the records it counts, as ``user``
        (whose rules the list applies) with the companies of their switcher."""
        action = tile["action"]
        self.assertEqual(action["type"], "ir.actions.act_window")
        Model = self.env[action["res_model"]].with_user(user)
        Model = Model.with_context(
            **action["context"], allowed_company_ids=(companies or self.company).ids
        )
        with freeze_time(TODAY):
            found = Model.search_count(action["domain"])
        self.assertEqual(found, tile["value"], f"{tile['key']}: list vs tile")

    def test_tiles_of_the_book(self):
        """Active: home, business, slow, flagged (4). Suspended: 1. Slowed
        down: slow. Overdue on 5 Nov: the October invoices of home (2,999.00),
        business (9,999.00 - 4,000.00 paid = 5,999.00) and suspended
        (2,999.00): 3 invoices, 11,997.00; November's are due on the 11th and
        flagged's October invoice is paid. Billing exceptions: flagged."""
        data, tiles = self._data()
        self.assertEqual(
            {key: tile["value"] for key, tile in tiles.items()},
            {
                "active": 4,
                "suspended": 1,
                "throttled": 1,
                "overdue": 3,
                "billing_exceptions": 1,
                # by due date (test_aging_buckets)
                "aging_current": 5,
                "aging_1_30": 3,
                "aging_31_60": 0,
                "aging_61_90": 0,
                "aging_over_90": 0,
                # collections from 1 to 5 November (test_collections_of_the_book)
                "dso": 8,
                "paid_on_time": 0,
                "promise_kept": 0,
                "autopay": 0,
                "suspensions": 1,
                "reconnections": 0,
                **{key: 0 for key in tiles if key.startswith("channel_")},
                **{
                    key: tiles[key]["value"]
                    for key in tiles
                    if key.startswith(("mpesa_", "radius_"))  # their add-ons' tests
                },
            },
        )
        self.assertEqual(tiles["overdue"]["amount"], 2999.0 + 5999.0 + 2999.0)
        self.assertIn("11,997.00", tiles["overdue"]["amount_display"])
        self.assertTrue(tiles["overdue"]["alert"])
        self.assertFalse(tiles["active"]["alert"])
        self.assertEqual(
            data["filters"],
            {"company_ids": self.company.ids, "period": "2026-11", "plan_id": False},
        )
        overdue = self.env["account.move"].search(tiles["overdue"]["action"]["domain"])
        self.assertEqual(
            overdue,
            self.october[self.home]
            | self.october[self.business]
            | self.october[self.suspended],
        )
        for tile in tiles.values():
            self.assertClickThrough(tile, self.isp_user)
            self.assertTrue(tile["title"] and tile["help"])

    def test_aging_buckets(self):
        """The receivables aging as of 5 November, by due date: the October
        invoices (due 11 October, 25 days late) of home, business (what is
        left: 5,999.00) and suspended in 1-30 days: 11,997.00, the overdue
        amount; the November invoices (due the 11th) of home, business,
        suspended, slow and flagged not due yet: 4 × 2,999.00 + 9,999.00 =
        21,995.00. Nothing older."""
        __, tiles = self._data()
        figures = {
            key: (tiles[f"aging_{key}"]["value"], tiles[f"aging_{key}"]["amount"])
            for key in ("current", "1_30", "31_60", "61_90", "over_90")
        }
        self.assertEqual(
            figures,
            {
                "current": (5, 21995.0),
                "1_30": (3, 11997.0),
                "31_60": (0, 0.0),
                "61_90": (0, 0.0),
                "over_90": (0, 0.0),
            },
        )
        self.assertEqual(tiles["aging_1_30"]["amount"], tiles["overdue"]["amount"])
        for key in figures:
            tile = tiles[f"aging_{key}"]
            self.assertEqual(tile["action"]["context"]["isp_aging_date"], "2026-11-05")
            self.assertClickThrough(tile, self.isp_user)
        # A past month: as of its last day. On 31 October the same three are
        # 20 days late; the November invoices (dated 1 November) are not
        # there yet.
        __, tiles = self._data(period="2026-10")
        self.assertEqual(
            tiles["aging_1_30"]["action"]["context"]["isp_aging_date"], "2026-10-31"
        )
        self.assertEqual(
            (tiles["aging_1_30"]["value"], tiles["aging_1_30"]["amount"]),
            (3, 11997.0),
        )
        self.assertEqual(tiles["aging_current"]["value"], 0)

    def test_collections_of_the_book(self):
        """From 1 to 5 November. DSO: owed on the 5th 11,997.00 overdue +
        21,995.00 not due = 33,992.00 (the 8 aging rows), invoiced in the
        period the November invoices, 21,995.00: 33,992.00 / 21,995.00 × 5 =
        7.7 days. Nothing was due, paid, promised or charged by auto-pay;
        one suspension (suspended, on the 2nd). October: owed on the 31st
        11,997.00, invoiced 18,996.00, × 31 days = 19.6 days; its 4 invoices
        were due on the 11th, none paid by then (flagged paid on the 20th)."""
        __, tiles = self._data()
        self.assertEqual(
            (tiles["dso"]["value"], tiles["dso"]["figure"], tiles["dso"]["display"]),
            (8, 7.7, "7.7 days"),
        )
        self.assertIn("33,992.00", tiles["dso"]["detail"])
        self.assertIn("21,995.00", tiles["dso"]["detail"])
        self.assertEqual(
            tiles["dso"]["action"]["context"]["isp_aging_date"], "2026-11-05"
        )
        self.assertEqual(tiles["paid_on_time"]["display"], "–")
        events = self.env["isp.subscription.event"].search(
            tiles["suspensions"]["action"]["domain"]
        )
        self.assertEqual(events.subscription_id, self.suspended)
        __, tiles = self._data(period="2026-10")
        self.assertEqual(
            (tiles["dso"]["value"], tiles["dso"]["figure"]), (3, 19.6), tiles["dso"]
        )
        self.assertEqual(
            (tiles["paid_on_time"]["value"], tiles["paid_on_time"]["display"]),
            (4, "0.00 %"),
        )
        self.assertEqual(tiles["suspensions"]["value"], 0)
        for tile in tiles.values():
            self.assertClickThrough(tile, self.isp_user)

    def test_recurring_revenue(self):
        """From the MRR report, for ISP managers (who may read it). October:
        new home, business, suspended, flagged (3 × 2,999.00 + 9,999.00 =
        18,996.00), MRR at end 18,996.00. November: new slow (2,999.00) and
        gone (9,999.00), gone's churn (9,999.00): MRR at end 18,996.00 +
        12,998.00 - 9,999.00 = 21,995.00 over 5 subscriptions of 5
        customers, ARPU 4,399.00; churn this month: gone, 9,999.00."""
        manager = self.env["isp.dashboard"].with_user(self.isp_manager)
        data, tiles = self._data(manager)
        self.assertEqual(
            (tiles["mrr"]["value"], tiles["mrr"]["amount"]), (5, 21995.0), tiles["mrr"]
        )
        self.assertEqual(tiles["arpu"]["amount"], 4399.0)
        self.assertEqual(
            (tiles["churn"]["value"], tiles["churn"]["amount"]), (1, 9999.0)
        )
        for key in ("mrr", "arpu", "churn"):
            self.assertClickThrough(tiles[key], self.isp_manager)
        chart = data["chart"]
        self.assertEqual(len(chart["labels"]), 12)
        series = {d["label"]: d["data"] for d in chart["datasets"]}
        self.assertEqual(series["New"][-2:], [18996.0, 12998.0])
        self.assertEqual(series["Churn"][-2:], [0.0, -9999.0])
        self.assertEqual(series["MRR at end"][-2:], [18996.0, 21995.0])
        self.assertEqual(set(series["MRR at end"][:-2]), {0.0})
        # each bar opens its rows: November's churn is gone's
        click = chart["click"]
        self.assertEqual(
            click["series"],
            [
                "new_mrr_company",
                "expansion_mrr_company",
                "reactivation_mrr_company",
                "contraction_mrr_company",
                "churn_mrr_company",
                "mrr_end_company",
            ],
        )
        self.assertEqual(click["points"][-2:], ["2026-10-01", "2026-11-01"])
        self.assertEqual(click["currency_id"], self.company.currency_id.id)

        def bar(series, point):
            with freeze_time(TODAY):
                return manager.get_dashboard_chart_action(
                    data["filters"], series, point, click["currency_id"]
                )

        action = bar("churn_mrr_company", "2026-11-01")
        self.assertEqual(action["name"], "Churn · Nov 2026")
        self.assertEqual(action["res_model"], "isp.report.mrr")
        rows = self.env["isp.report.mrr"].with_user(self.isp_manager)
        self.assertEqual(rows.search(action["domain"]).subscription_id, self.gone)
        # October's new: home, business, suspended, flagged; November's MRR
        # at end: those and slow (gone left on 01/11)
        october_new = rows.search(bar("new_mrr_company", "2026-10-01")["domain"])
        self.assertEqual(
            october_new.subscription_id,
            self.home | self.business | self.suspended | self.flagged,
        )
        november_mrr = rows.search(bar("mrr_end_company", "2026-11-01")["domain"])
        self.assertEqual(
            november_mrr.subscription_id,
            self.home | self.business | self.suspended | self.flagged | self.slow,
        )
        # every bar and point: the rows whose figure it sums, nothing else
        for index, series in enumerate(click["series"]):
            sign = (
                -1 if series in ("contraction_mrr_company", "churn_mrr_company") else 1
            )
            for point, value in zip(
                click["points"], chart["datasets"][index]["data"], strict=True
            ):
                with self.subTest(series=series, point=point):
                    found = rows.search(bar(series, point)["domain"])
                    self.assertEqual(sign * sum(found.mapped(series)), value)
                    self.assertTrue(all(found.mapped(series)))
        for series, point, currency, message in (
            ("arpu", "2026-11-01", click["currency_id"], "Unknown chart series"),
            ("new_mrr_company", "2026-11-05", click["currency_id"], "YYYY-MM-01"),
            ("new_mrr_company", "November", click["currency_id"], "YYYY-MM-01"),
            ("new_mrr_company", "2026-11-01", "KES", "currency must be given"),
            ("new_mrr_company", "2026-11-01", 0, "currency does not exist"),
        ):
            with (
                self.subTest(series=series, point=point, currency=currency),
                self.assertRaisesRegex(UserError, message),
            ):
                manager.get_dashboard_chart_action({}, series, point, currency)
        # The business plan: business's 9,999.00, gone's churn.
        __, tiles = self._data(manager, plan_id=self.plan_business.id)
        self.assertEqual((tiles["mrr"]["value"], tiles["mrr"]["amount"]), (1, 9999.0))
        self.assertEqual(
            (tiles["churn"]["value"], tiles["churn"]["amount"]), (1, 9999.0)
        )
        # ISP users may not read the MRR report: no revenue tiles, no chart,
        # no chart's click-through.
        data, tiles = self._data()
        self.assertFalse({"mrr", "arpu", "churn"} & set(tiles))
        self.assertIsNone(data["chart"])
        with self.assertRaisesRegex(UserError, "no such chart"):
            self.dashboard.get_dashboard_chart_action(
                {}, "churn_mrr_company", "2026-11-01", click["currency_id"]
            )
        # nor may anyone without the ISP group
        invoicing = self.env["isp.dashboard"].with_user(self.invoicing_user)
        with self.assertRaises(AccessError):
            invoicing.get_dashboard_chart_action(
                {}, "churn_mrr_company", "2026-11-01", click["currency_id"]
            )

    def test_plan_filter(self):
        """Business plan only: business is active, its October invoice is
        overdue by 5,999.00; nothing else."""
        data, tiles = self._data(plan_id=self.plan_business.id)
        self.assertEqual(data["filters"]["plan_id"], self.plan_business.id)
        figures = {
            key: tiles[key]["value"]
            for key in ("active", "suspended", "throttled", "overdue")
        }
        self.assertEqual(
            figures, {"active": 1, "suspended": 0, "throttled": 0, "overdue": 1}
        )
        self.assertEqual(tiles["overdue"]["amount"], 5999.0)
        self.assertEqual(tiles["billing_exceptions"]["value"], 0)
        for tile in tiles.values():
            self.assertClickThrough(tile, self.isp_user)
        plans = {plan["id"] for plan in data["options"]["plans"]}
        self.assertLessEqual(set((self.plan_home | self.plan_business).ids), plans)

    def test_company_filter_keeps_to_the_chosen_companies(self):
        """A second ISP company with one active subscription and one overdue
        invoice of 1,000.00: shown only when chosen; never to a user who may
        not see that company."""
        other = self.other
        env = self.env(context=dict(self.env.context, allowed_company_ids=other.ids))
        plan = (
            env["product.product"]
            .with_company(other)
            .create(
                {
                    "name": "Coast 5 Mbps",
                    "type": "service",
                    "list_price": 1000.0,
                    "taxes_id": [Command.clear()],
                    "company_id": other.id,
                    "isp_is_plan": True,
                    "isp_period_interval": 1,
                    "isp_period_unit": "month",
                    "isp_data_unlimited": True,
                }
            )
        )
        sub = env["isp.subscription"].create(
            {
                "partner_id": self.customer.id,
                "company_id": other.id,
                "date_start": "2026-10-01",
                "line_ids": [Command.create({"product_id": plan.id})],
                "tz": "Africa/Nairobi",
            }
        )
        sub.action_activate()
        with freeze_time("2026-10-01 09:00:00"):
            [invoice] = env["isp.billing.run"]._bill(sub, self.d("2026-10-01"))
        self.assertEqual(invoice.amount_residual, 1000.0)

        both = new_test_user(
            self.env,
            login="dash_both",
            groups="isp_billing.group_isp_user",
            company_id=self.company.id,
            company_ids=[Command.set((self.company | other).ids)],
        )
        two = self.env["isp.dashboard"].with_user(both)
        two = two.with_context(allowed_company_ids=(self.company | other).ids)
        __, tiles = self._data(two)
        self.assertEqual(tiles["active"]["value"], 4 + 1)
        self.assertEqual(tiles["overdue"]["value"], 3 + 1)
        self.assertEqual(tiles["overdue"]["amount"], 11997.0 + 1000.0)
        __, tiles = self._data(two, company_ids=other.ids)
        self.assertEqual((tiles["active"]["value"], tiles["overdue"]["value"]), (1, 1))
        self.assertEqual(tiles["overdue"]["amount"], 1000.0)
        for tile in tiles.values():
            self.assertClickThrough(tile, both, self.company | other)
        # collections: the other's 1,000.00 owed (one aging row), nothing
        # invoiced there in November, no suspension
        self.assertEqual(
            (tiles["dso"]["value"], tiles["dso"]["display"]), (1, "–"), tiles["dso"]
        )
        self.assertEqual(tiles["suspensions"]["value"], 0)
        __, tiles = self._data(two)
        self.assertEqual(
            (tiles["dso"]["value"], tiles["suspensions"]["value"]), (8 + 1, 1)
        )
        __, tiles = self._data(two, company_ids=self.company.ids)
        self.assertEqual((tiles["active"]["value"], tiles["overdue"]["value"]), (4, 3))
        self.assertEqual(
            (
                tiles["dso"]["value"],
                tiles["dso"]["figure"],
                tiles["suspensions"]["value"],
            ),
            (8, 7.7, 1),
        )
        # A user of the first company only cannot ask for the other's figures.
        with self.assertRaises(AccessError):
            self._data(company_ids=other.ids)
        with self.assertRaises(AccessError):
            self._data(company_ids=(self.company | other).ids)

    def test_bad_filters_are_refused(self):
        for filters, message in (
            ({"period": "2026-13"}, "YYYY-MM"),
            ({"period": "November"}, "YYYY-MM"),
            ({"period": 202611}, "YYYY-MM"),
            ({"plan_id": self.static_ip.id}, "plan does not exist"),
            ({"plan_id": "1"}, "plan must be given by its id"),
            ({"company_ids": "1"}, "Companies must be given by their ids"),
            ({"colour": "red"}, "Unknown dashboard filter: colour"),
        ):
            with (
                self.subTest(filters=filters),
                self.assertRaisesRegex(UserError, message),
            ):
                self._data(**filters)
        with self.assertRaisesRegex(UserError, "mapping"):
            self.dashboard.get_dashboard_data(["2026-11"])

    def test_a_past_period_is_kept(self):
        data, __ = self._data(period="2026-09")
        self.assertEqual(data["filters"]["period"], "2026-09")

    def _rpc(self, filters=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "isp.dashboard",
                "method": "get_dashboard_data",
                "args": [filters or {}],
                "kwargs": {"context": {"allowed_company_ids": self.company.ids}},
            },
        )

    @mute_logger("odoo.http")
    def test_rights_over_json_rpc(self):
        """ISP staff get the figures over JSON-RPC; a subscriber (portal) and
        an internal user without the ISP group (Invoicing) get AccessError."""
        HttpCase.authenticate(self, "dash_isp_user", "dash_isp_user")
        with freeze_time(TODAY):
            tiles = {tile["key"]: tile for tile in self._rpc()["tiles"]}
        self.assertEqual(tiles["active"]["value"], 4)
        for login in ("dash_portal", "dash_invoicing"):
            HttpCase.authenticate(self, login, login)
            with (
                self.subTest(login=login),
                self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"),
            ):
                self._rpc()
            # Refused by the dashboard's own check, before anything is read
            # (not by an ACL further down).
            response = self.url_open(
                "/web/dataset/call_kw",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "params": {
                            "model": "isp.dashboard",
                            "method": "get_dashboard_data",
                            "args": [{}],
                            "kwargs": {},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
            ).json()
            self.assertIn(
                "Only ISP users may open the ISP dashboard",
                response["error"]["data"]["message"],
            )

    def test_tiles_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"])
        __, tiles = self._data(self.dashboard.with_context(lang="sw"))
        self.assertEqual(tiles["active"]["title"], "Wateja walio hai")
        self.assertEqual(tiles["overdue"]["title"], "Ankara zilizochelewa")
        self.assertEqual(tiles["suspended"]["title"], "Imesitishwa")

    def test_the_app_opens_on_the_dashboard(self):
        """The ISP root menu's action is the dashboard, so the web client
        opens the app on it, and the menus file sets it on an update (``-u``)
        as on an install: with another action put in its place, loading the
        file again as an update puts the dashboard back (a menuitem without
        ``action`` would leave the other one)."""
        root = self.env.ref("isp_billing.isp_billing_menu_root")
        action = self.env.ref("isp_billing.isp_dashboard_action")
        self.assertEqual(root.action, action)
        self.assertEqual(action.tag, "isp_billing.dashboard")
        first = root.child_id.sorted("sequence")[:1]
        self.assertEqual(first.action, action)
        menus = self.env["ir.ui.menu"].with_user(self.isp_user).load_web_menus(False)
        self.assertEqual(
            (menus[root.id]["actionModel"], menus[root.id]["actionID"]),
            ("ir.actions.client", action.id),
        )

        root.action = self.env.ref("isp_billing.isp_subscription_action")
        self.assertNotEqual(root.action, action)
        # as the module loader does on -u (superuser, update mode)
        convert_file(
            self.env(su=True),
            "isp_billing",
            "views/isp_billing_menus.xml",
            {},
            mode="update",
        )
        self.assertEqual(root.action, action)

    def test_tour_dashboard_tile_opens_its_list(self):
        """In Chromium: the ISP app opens on the dashboard with its tiles; the
        *Suspended* tile opens the list of the suspended subscription; with
        November chosen, the collections tile *Suspensions* opens the list of
        that month's suspension event."""
        self.start_tour("/odoo", "isp_billing_dashboard", login="dash_isp_user")

    def test_tour_dashboard_on_a_phone(self):
        """In Chromium on a phone-sized screen: two tiles per row, nothing
        wider than the screen, a tile opens its records."""
        self.browser_size = "390x844"
        self.touch_enabled = True
        self.start_tour(
            "/odoo/isp-dashboard", "isp_billing_dashboard_phone", login="dash_isp_user"
        )

    def test_tour_manager_sees_the_chart(self):
        """In Chromium: an ISP manager's dashboard draws the MRR chart
        (Chart.js); a click on the last month's point of the MRR line opens
        that month's report rows (the action built on the click); the MRR
        tile opens the report's rows."""
        self.start_tour(
            "/odoo/isp-dashboard",
            "isp_billing_dashboard_chart",
            login="dash_isp_manager",
        )


@tagged("post_install", "-at_install")
class TestDashboardCollections(IspCollectionsCommon):
    """The collections tiles on the April 2026 book of the collections
    report (tests/common.py), seen on 1 May 2026 by an ISP user, against the
    figures of the README's examples computed by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("dashcoll")

    def _tiles(self, period="2026-04", today="2026-05-01 10:00:00", **filters):
        dashboard = self.env["isp.dashboard"].with_user(self.isp_user)
        with freeze_time(today):
            data = dashboard.get_dashboard_data({"period": period, **filters})
        tiles = {t["key"]: t for t in data["tiles"] if t["section"] == "collections"}
        for tile in tiles.values():
            action = tile["action"]
            Model = self.env[action["res_model"]].with_user(self.isp_user)
            with freeze_time(today):
                found = Model.with_context(**action["context"]).search(action["domain"])
            self.assertEqual(len(found), tile["value"], f"{tile['key']}: list")
            self.assertTrue(tile["title"] and tile["help"], tile["key"])
            tile["records"] = found
        return tiles

    def _figures(self, tiles):
        return {
            key: (tile["value"], tile["figure"], tile["display"])
            for key, tile in tiles.items()
        }

    def test_figures_of_april(self):
        """DSO: 2,500 owed on 30/04 (I3 3,000 − R1 500) ÷ 5,900 invoiced ×
        30 = 12.7 days, the records the aging row of I3. Paid by due date: 3
        of the 5 invoices due in April (I1, I4, I6). Promises: P1, P2, P3
        ended before 01/05 and covered invoices, P2 kept: 1 of 3. April's
        suspensions 2 and reconnection 1 (the 02/05 one is May's). Money:
        bank 2,100 (I1, I4, I5), manual 2,000 (I2 in cash), card 800 (I6)
        of 4,900. No auto-pay."""
        self._log_promises()
        self._log_suspensions()
        tiles = self._tiles()
        figures = self._figures(tiles)
        expected = {
            "dso": (1, 12.7, "12.7 days"),
            "paid_on_time": (5, 0.6, "60.00 %"),
            "promise_kept": (3, 0.3333, "33.33 %"),
            "autopay": (0, None, "–"),
            "suspensions": (2, None, "2"),
            "reconnections": (1, None, "1"),
            "channel_bank": (3, 0.4286, "42.86 %"),
            "channel_manual": (1, 0.4082, "40.82 %"),
            "channel_card": (1, 0.1633, "16.33 %"),
        }
        for key in set(figures) - set(expected):  # other add-ons' channels
            self.assertTrue(key.startswith("channel_"), key)
            expected[key] = (0, 0.0, "0.00 %")
        self.assertEqual(figures, expected)
        self.assertIn("2,500.00", tiles["dso"]["detail"])
        self.assertIn("5,900.00", tiles["dso"]["detail"])
        self.assertEqual(tiles["dso"]["records"].move_id, self.i3)
        self.assertEqual(tiles["dso"]["records"].amount_residual, 2500.0)
        self.assertEqual(tiles["paid_on_time"]["detail"], "3 of 5 invoices")
        self.assertEqual(
            tiles["paid_on_time"]["records"].move_id,
            self.i1 | self.i2 | self.i3 | self.i4 | self.i6,
        )
        self.assertEqual(tiles["promise_kept"]["detail"], "1 of 3 kept")
        self.assertEqual(
            tiles["promise_kept"]["records"].mapped("promise_until"),
            [self.d("2026-04-22"), self.d("2026-04-16"), self.d("2026-04-12")],
        )
        self.assertEqual(
            tiles["suspensions"]["records"].mapped("event_date"),
            [self.d("2026-04-21"), self.d("2026-04-09")],
        )
        self.assertEqual(
            tiles["reconnections"]["records"].mapped("event_date"),
            [self.d("2026-04-15")],
        )
        amounts = {
            key: tiles[f"channel_{key}"]["amount"] for key in ("bank", "manual", "card")
        }
        self.assertEqual(amounts, {"bank": 2100.0, "manual": 2000.0, "card": 800.0})
        self.assertEqual(
            tiles["channel_bank"]["records"].payment_id.reconciled_invoice_ids,
            self.i1 | self.i4 | self.i5,
        )
        self.assertEqual(tiles["channel_card"]["records"].payment_id, self.card_payment)
        # The same figures as the collections service (ISP → Reporting).
        paid = self.service._prepare_paid_on_time("2026-04-01", "2026-04-30")
        self.assertEqual(paid["rate"], tiles["paid_on_time"]["figure"])

    def test_plan_filter(self):
        """The home plan (subscription S, customer A): I1 and I4 of I1-I4
        paid by their due date, 2 of 4; S's promises and suspensions. The
        business plan: none of them. DSO and money have no plan: the same
        figures, shown for all plans."""
        self._log_promises()
        self._log_suspensions()
        home = self._figures(self._tiles(plan_id=self.plan_home.id))
        self.assertEqual(home["paid_on_time"], (4, 0.5, "50.00 %"))
        self.assertEqual(home["promise_kept"], (3, 0.3333, "33.33 %"))
        self.assertEqual(home["suspensions"][0], 2)
        tiles = self._tiles(plan_id=self.plan_business.id)
        business = self._figures(tiles)
        self.assertEqual(business["paid_on_time"], (0, None, "–"))
        self.assertEqual(business["promise_kept"], (0, None, "–"))
        self.assertEqual(
            (business["suspensions"][0], business["reconnections"][0]), (0, 0)
        )
        self.assertEqual(business["dso"], (1, 12.7, "12.7 days"))
        self.assertEqual(business["channel_bank"], (3, 0.4286, "42.86 %"))
        for key in ("dso", "channel_bank"):
            self.assertFalse(tiles[key]["by_plan"])
        self.assertTrue(tiles["paid_on_time"]["by_plan"])

    def test_autopay_success_rate(self):
        """On 01/11/2026: one card accepted, one declined: 1 of 2 paid; on
        03/11, after the declined card's retry of 02/11 failed too: 1 of 3.
        Not on the business plan."""
        for day in self._autopay_book():
            if day == "2026-11-01":
                tiles = self._tiles("2026-11", "2026-11-01 12:00:00")
                self.assertEqual(self._figures(tiles)["autopay"], (2, 0.5, "50.00 %"))
                self.assertEqual(tiles["autopay"]["detail"], "1 of 2 paid")
        tiles = self._tiles("2026-11", "2026-11-03 12:00:00")
        self.assertEqual(self._figures(tiles)["autopay"], (3, 0.3333, "33.33 %"))
        self.assertEqual(
            sorted(tiles["autopay"]["records"].mapped("state")),
            ["done", "failed", "failed"],
        )
        tiles = self._tiles(
            "2026-11", "2026-11-03 12:00:00", plan_id=self.plan_business.id
        )
        self.assertEqual(self._figures(tiles)["autopay"], (0, None, "–"))

    def test_a_future_month_has_no_figures(self):
        """May 2026 seen on 15/04/2026: nothing has happened yet."""
        tiles = self._tiles("2026-05", "2026-04-15 10:00:00")
        self.assertEqual({tile["value"] for tile in tiles.values()}, {0})
        self.assertEqual(tiles["dso"]["display"], "–")
