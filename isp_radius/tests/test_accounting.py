# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import time
import uuid
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..models import isp_radius as gateway
from .common import IspRadiusCommon

GB = 10**9
WRAP = 2**32


@tagged("post_install", "-at_install")
class TestAccountingImport(IspRadiusCommon):
    def _usage(self, username):
        usage = self.env["isp.radius.usage"].search([("username", "=", username)])
        return (
            sum(usage.mapped("bytes_in")),
            sum(usage.mapped("bytes_out")),
            sum(usage.mapped("session_time")),
        )

    def _import(self):
        return self.env["isp.radius"]._import_accounting(self.company)

    def test_interims_counted_once_with_gigawords(self):
        sub = self._provisioned(self.plan_home)
        user, session = sub.radius_username, uuid.uuid4().hex[:12]
        self.accounting("Start", user, session)
        # 1 GiB + 1000 in, 2 * 4 GiB + 2000 out
        self.accounting(
            "Interim-Update", user, session, WRAP + 1000, 2 * WRAP + 2000, 60
        )
        self._import()
        self.assertEqual(self._usage(user), (WRAP + 1000, 2 * WRAP + 2000, 60))
        # The same interim again (a NAS retry), then an import: nothing added.
        self.accounting(
            "Interim-Update", user, session, WRAP + 1000, 2 * WRAP + 2000, 60
        )
        self._import()
        self._import()
        self.assertEqual(self._usage(user), (WRAP + 1000, 2 * WRAP + 2000, 60))
        self.accounting("Stop", user, session, 3 * WRAP + 5000, 4 * WRAP + 7000, 120)
        self._import()
        self.assertEqual(self._usage(user), (3 * WRAP + 5000, 4 * WRAP + 7000, 120))
        usage = self.env["isp.radius.usage"].search([("username", "=", user)])
        self.assertEqual(usage.subscription_id, sub)
        session_row = self.env["isp.radius.session"].search([("username", "=", user)])
        self.assertTrue(session_row.date_stop)

    def test_out_of_order_stop_without_start_and_counter_wrap(self):
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        # A Stop whose Start was lost: FreeRADIUS still records the session.
        self.accounting("Stop", user, "lost-start", 300, 400, session_time=30)
        # A NAS without Gigawords: its 32-bit counter wraps between two interims.
        session = uuid.uuid4().hex[:12]
        self.accounting("Start", user, session)
        self.accounting("Interim-Update", user, session, WRAP - 100, 0, session_time=10)
        self._import()
        self.accounting("Interim-Update", user, session, 50, 0, session_time=20)
        self._import()
        # An older interim arriving late: must not take anything back, nor count
        # again what comes after it.
        self.accounting("Interim-Update", user, session, 10, 0, session_time=15)
        self._import()
        self.accounting("Stop", user, session, 80, 0, session_time=40)
        self._import()
        # in: 300 + (2^32 - 100) + 150 (through the wrap) + 30; out: 400
        # online: 30 + 40 s
        self.assertEqual(self._usage(user), (300 + WRAP - 100 + 150 + 30, 400, 70))

    def test_unknown_usernames_kept_and_reported(self):
        stranger = f"stranger-{uuid.uuid4().hex[:8]}"
        self.accounting("Stop", stranger, "s1", 123, 456, session_time=5)
        self._import()
        usage = self.env["isp.radius.usage"].search([("username", "=", stranger)])
        self.assertEqual((usage.bytes_in, usage.bytes_out), (123, 456))
        self.assertFalse(usage.subscription_id)
        self.assertIn(
            usage,
            self.env["isp.radius.usage"].search([("subscription_id", "=", False)]),
        )

    def test_usage_company_is_the_subscriptions_or_stored_when_unmatched(self):
        """Only a usage row without a subscription stores its company; the
        others take their subscription's, for display, search and the
        multi-company rule alike. A deleted subscription's usage keeps it."""
        sub = self._provisioned(self.plan_home)
        draft = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        stranger = f"stranger-{uuid.uuid4().hex[:8]}"
        self.accounting("Stop", sub.radius_username, "c1", 10, 20, session_time=3)
        self.accounting("Stop", draft.radius_username, "c2", 30, 40, session_time=4)
        self.accounting("Stop", stranger, "c3", 50, 60, session_time=5)
        self._import()
        Usage = self.env["isp.radius.usage"]
        matched = Usage.search([("subscription_id", "=", sub.id)])
        unmatched = Usage.search([("username", "=", stranger)])
        self.assertEqual((matched.bytes_in, matched.bytes_out), (10, 20))
        self.assertFalse(matched.unmatched_company_id)
        self.assertEqual(matched.company_id, self.company)
        self.assertEqual(unmatched.unmatched_company_id, self.company)
        self.assertEqual(unmatched.company_id, self.company)
        mine = Usage.search([("company_id", "=", self.company.id)])
        self.assertIn(matched, mine)
        self.assertIn(unmatched, mine)
        other = self.env["res.company"].create({"name": "Other ISP"})
        self.assertFalse(
            Usage.search([("company_id", "=", other.id)]) & (matched | unmatched)
        )
        # A user of the other company only sees that company's usage.
        outsider = self.env["res.users"].create(
            {
                "name": "Other ISP clerk",
                "login": f"clerk-{uuid.uuid4().hex[:8]}",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "groups_id": [(6, 0, self.env.ref("isp_billing.group_isp_user").ids)],
            }
        )
        outsiders_view = Usage.with_user(outsider).with_context(
            allowed_company_ids=other.ids
        )
        self.assertFalse(outsiders_view.search([]) & (matched | unmatched))
        insider = self.env["res.users"].create(
            {
                "name": "ISP clerk",
                "login": f"clerk-{uuid.uuid4().hex[:8]}",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [(6, 0, self.env.ref("isp_billing.group_isp_user").ids)],
            }
        )
        insiders_view = Usage.with_user(insider).with_context(
            allowed_company_ids=self.company.ids
        )
        self.assertEqual(
            insiders_view.search([("id", "in", (matched | unmatched).ids)]),
            matched | unmatched,
        )
        # The unmatched username gets a subscription later the same day: its
        # usage from then on is the subscription's (a row per subscription and
        # day), the unmatched row keeps what came before.
        adopted = self._provisioned(self.plan_home, radius_username=stranger)
        self.accounting("Stop", stranger, "c4", 7, 8, session_time=9)
        self._import()
        self.assertEqual(
            (unmatched.bytes_in, unmatched.bytes_out, unmatched.session_time),
            (50, 60, 5),
        )
        adopted_usage = Usage.search([("subscription_id", "=", adopted.id)])
        self.assertEqual(
            (
                adopted_usage.bytes_in,
                adopted_usage.bytes_out,
                adopted_usage.session_time,
            ),
            (7, 8, 9),
        )
        self.assertEqual(adopted_usage.date, unmatched.date)
        self.assertFalse(adopted_usage.unmatched_company_id)
        # Deleting the draft subscription keeps its usage, with its company.
        drafted = Usage.search([("subscription_id", "=", draft.id)])
        self.assertEqual((drafted.bytes_in, drafted.bytes_out), (30, 40))
        draft.unlink()
        self.assertFalse(drafted.subscription_id)
        self.assertEqual(drafted.unmatched_company_id, self.company)
        self.assertEqual(drafted.company_id, self.company)
        self.assertEqual(drafted.bytes_in + drafted.bytes_out, 70)

    def test_hostile_usernames_are_data_not_sql(self):
        """A NAS may report any username; it goes through COPY and parameters,
        never into SQL text."""
        run = uuid.uuid4().hex[:8]
        hostile = [
            f"robert{run}'); DROP TABLE isp_radius_usage;--",
            f"tab{run}\tand\nnewline\\",
            f"wanjĩru ümlaut {run}",
        ]
        for index, username in enumerate(hostile):
            self.accounting("Stop", username, f"hostile-{run}-{index}", 10, 20, 1)
        self._import()
        # FreeRADIUS stores them as its SQL escaping made them (=27 for ');
        # whatever it stored arrives intact, and every table is still there.
        stored = self.radius_query(
            "SELECT username FROM radacct WHERE acctsessionid LIKE %s",
            [f"hostile-{run}-%"],
        )
        self.assertEqual(len(stored), 3)
        for (username,) in stored:
            usage = self.env["isp.radius.usage"].search([("username", "=", username)])
            self.assertEqual((usage.bytes_in, usage.bytes_out), (10, 20), username)
        self.assertIn(
            (f"robert{run}=27=29=3B DROP TABLE isp_radius_usage=3B--",), stored
        )

    def test_stale_sessions_closed_so_the_user_can_log_in(self):
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        an_hour_ago = int(time.time()) - 3600
        self.accounting("Start", user, "stale-1", Event_Timestamp=an_hour_ago)
        # Simultaneous-Use 1: the open session blocks a new login.
        accepted, reply = self.authenticate(user, sub.radius_password)
        self.assertFalse(accepted)
        result = self._import()
        self.assertGreaterEqual(result["closed"], 1)
        self.assertEqual(
            self.radius_query(
                "SELECT acctterminatecause FROM radacct WHERE username = %s", [user]
            ),
            [("Stale-Session",)],
        )
        accepted, __ = self.authenticate(user, sub.radius_password)
        self.assertTrue(accepted)

    def _sessions(self, username):
        return self.env["isp.radius.session"].search([("username", "=", username)])

    def test_backlog_summed_without_ledger_open_session_in_it(self):
        """An import that finds a backlog: sessions closed hours ago are summed
        per day in the RADIUS database (no session row), the open one is in
        the ledger (online), and nothing is counted twice afterwards."""
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        now = int(time.time())
        # Two sessions closed 5 and 3 hours ago, never imported (Stop only).
        self.accounting(
            "Stop", user, "old-1", 1000, 2000, 60, Event_Timestamp=now - 5 * 3600
        )
        self.accounting(
            "Stop", user, "old-2", 300, 400, 30, Event_Timestamp=now - 3 * 3600
        )
        self.accounting("Start", user, "open-1")
        self.accounting("Interim-Update", user, "open-1", 50, 70, 9)
        self._import()
        self.assertEqual(self._usage(user), (1350, 2470, 99))
        self.assertEqual(self._sessions(user).mapped("session_id"), ["open-1"])
        self.assertTrue(sub.radius_online)
        self._import()
        self.assertEqual(self._usage(user), (1350, 2470, 99))
        self.accounting("Stop", user, "open-1", 80, 100, 20)
        self._import()
        self.assertEqual(self._usage(user), (1380, 2500, 110))
        sub.invalidate_recordset(["radius_online"])
        self.assertFalse(sub.radius_online)

    def test_spooled_to_disk_same_figures(self):
        """Past COPY_SPOOL_BYTES the transfer goes through a file: same usage."""
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        now = int(time.time())
        for index in range(5):
            self.accounting(
                "Stop",
                user,
                f"spool-{index}",
                10**10 + index,
                7,
                1,
                Event_Timestamp=now - (2 + index) * 3600,
            )
        with patch.object(gateway, "COPY_SPOOL_BYTES", 64):
            result = self._import()
        self.assertGreaterEqual(result["rows"], 5)
        self.assertEqual(self._usage(user), (5 * 10**10 + 10, 35, 5))

    def test_stale_session_stop_after_closure_counted_once(self):
        """A session closed as stale keeps its ledger row: when the NAS comes
        back and sends the Stop hours later, only the growth is added."""
        self.company.isp_radius_stale_minutes = 60
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        three_hours_ago = int(time.time()) - 3 * 3600
        self.accounting("Start", user, "stale-2", Event_Timestamp=three_hours_ago)
        self.accounting(
            "Interim-Update",
            user,
            "stale-2",
            5000,
            6000,
            600,
            Event_Timestamp=three_hours_ago + 600,
        )
        result = self._import()
        self.assertGreaterEqual(result["closed"], 1)
        self.assertEqual(self._usage(user), (5000, 6000, 600))
        self.assertEqual(self._sessions(user).terminate_cause, "Stale-Session")
        # The Stop (FreeRADIUS's last stop query rewrites the closed row).
        self.accounting("Stop", user, "stale-2", 9000, 16000, 10800)
        self._import()
        self.assertEqual(self._usage(user), (9000, 16000, 10800))

    def test_session_seen_open_then_closed_during_an_outage(self):
        """Odoo did not import for hours: a session it had seen open was
        closed more than an hour ago. It is still in the ledger, so only its
        growth since then is added, not its whole total."""
        sub = self._provisioned(self.plan_home)
        user = sub.radius_username
        four_hours_ago = int(time.time()) - 4 * 3600
        self.accounting("Start", user, "outage-1", Event_Timestamp=four_hours_ago)
        self.accounting(
            "Interim-Update",
            user,
            "outage-1",
            700,
            800,
            300,
            Event_Timestamp=four_hours_ago + 300,
        )
        self._import()
        self.assertEqual(self._usage(user), (700, 800, 300))
        # The outage: the last import was 4 hours ago; the Stop came 2 hours ago.
        self.company.isp_radius_import_watermark = datetime.now() - timedelta(hours=4)
        self.accounting(
            "Stop",
            user,
            "outage-1",
            1700,
            1800,
            7200,
            Event_Timestamp=four_hours_ago + 7200,
        )
        self._import()
        self.assertEqual(self._usage(user), (1700, 1800, 7200))

    def test_import_survives_radius_down(self):
        self.company.isp_radius_dsn = "host=127.0.0.1 port=9 dbname=radius"
        watermark = self.company.isp_radius_import_watermark
        with self.assertLogs(
            "odoo.addons.isp_radius.models.isp_subscription", "WARNING"
        ):
            self.env["isp.subscription"]._cron_radius_import()
        self.assertEqual(self.company.isp_radius_import_watermark, watermark)


@tagged("post_install", "-at_install")
class TestUsageBilling(IspRadiusCommon):
    def test_overage_billed_in_arrears(self):
        today = fields.Date.context_today(self.env["isp.subscription"])
        start = today - timedelta(days=3)
        sub = self._create_subscription(self.plan_overage, start)
        sub.action_activate()
        sub._radius_sync()
        first = self._bill(sub, start)
        self.assertMoveAmounts(first, 1500.0, 0.0, 1500.0)
        # 7.25 GB used today through real accounting: 3 GB up, 4.25 GB down.
        user, session = sub.radius_username, "overage-1"
        self.accounting("Start", user, session)
        self.accounting("Stop", user, session, 3 * GB, 4_250_000_000, session_time=9)
        self.env["isp.radius"]._import_accounting(self.company)
        self.assertAlmostEqual(sub.radius_period_gb, 7.25)
        second = self._bill(sub, sub.next_invoice_date)
        # Plan 1500 in advance; over 5 GB by 2.25 GB -> 3 blocks of 1 GB x 100
        self.assertMoveAmounts(second, 1800.0, 0.0, 1800.0)
        line = second.invoice_line_ids.filtered(
            lambda line: line.product_id == self.overage
        )
        self.assertEqual((line.quantity, line.price_unit), (3.0, 100.0))
        self.assertIn("7.250 GB used, 5 GB included, 2.250 GB over", line.name)

    def test_under_allowance_bills_no_overage(self):
        today = fields.Date.context_today(self.env["isp.subscription"])
        sub = self._create_subscription(self.plan_overage, today - timedelta(days=3))
        sub.action_activate()
        sub._radius_sync()
        self._bill(sub, sub.date_start)
        self.accounting("Stop", sub.radius_username, "small", GB, GB, session_time=9)
        self.env["isp.radius"]._import_accounting(self.company)
        second = self._bill(sub, sub.next_invoice_date)
        self.assertMoveAmounts(second, 1500.0, 0.0, 1500.0)

    def test_alerts_and_fair_use(self):
        today = fields.Date.context_today(self.env["isp.subscription"])
        sub = self._create_subscription(self.plan_fup, today - timedelta(days=3))
        sub.action_activate()
        sub._radius_sync()
        self._bill(sub, sub.date_start)
        user = sub.radius_username
        # 8.5 GB of 10: the 80 % alert.
        self.accounting("Stop", user, "fup-1", 4 * GB, 4_500_000_000, session_time=9)
        self.env["isp.radius"]._import_accounting(self.company)
        sub._radius_check_usage()
        self.assertEqual(sub.radius_alert_level, 80)
        self.assertFalse(sub.radius_fup_active)
        mails = self.env["mail.mail"].search(
            [("model", "=", "isp.subscription"), ("res_id", "=", sub.id)]
        )
        self.assertEqual(len(mails), 1)
        self.assertIn("80% of your data used", mails.subject)
        # 11 GB: the 100 % alert and the fair-use speed in FreeRADIUS.
        self.accounting("Stop", user, "fup-2", GB, 1_500_000_000, session_time=9)
        self.env["isp.radius"]._import_accounting(self.company)
        sub._radius_check_usage()
        self.assertEqual(sub.radius_alert_level, 100)
        self.assertTrue(sub.radius_fup_active)
        sub._radius_sync()
        __, reply = self.authenticate(user, sub.radius_password)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["0.5M/1M"])
        # A check again sends nothing more.
        sub._radius_check_usage()
        self.assertEqual(
            self.env["mail.mail"].search_count(
                [("model", "=", "isp.subscription"), ("res_id", "=", sub.id)]
            ),
            2,
        )
        # The next period: full speed again, alerts re-armed.
        next_start = sub.next_invoice_date
        self._bill(sub, next_start)
        with freeze_time(next_start + timedelta(days=1)):
            sub._radius_check_usage()
        self.assertFalse(sub.radius_fup_active)
        self.assertEqual(sub.radius_alert_level, 0)
        self.assertEqual(sub.radius_alert_period, next_start)
        sub._radius_sync()
        __, reply = self.authenticate(user, sub.radius_password)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["20M/20M"])
