# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IspRadiusCommon

MODELS_LOGGER = "odoo.addons.isp_radius.models.isp_subscription"


@tagged("post_install", "-at_install")
class TestProvisioning(IspRadiusCommon):
    def test_active_subscriber_logs_in_with_plan_speed(self):
        sub = self._provisioned(
            self.plan_home, radius_static_ip="10.20.0.7", radius_username=False
        )
        self.assertEqual(sub.radius_username, sub.account_number.lower())
        self.assertEqual(len(sub.radius_password), 12)
        self.assertEqual(sub.radius_sync_state, "synced")
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertTrue(accepted)
        # 10 Mbps down / 10 up: MikroTik's rx/tx (upload first), WISPr in bit/s
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["10M/10M"])
        self.assertEqual(reply["WISPr-Bandwidth-Max-Down"], [10000000])
        self.assertEqual(reply["Acct-Interim-Interval"], [300])
        self.assertEqual(reply["Framed-IP-Address"], ["10.20.0.7"])
        accepted, __ = self.authenticate(sub.radius_username, "wrong password")
        self.assertFalse(accepted)

    def test_suspended_rejected_then_reconnected(self):
        sub = self._provisioned(self.plan_home)
        sub.action_suspend("Unpaid")
        sub._radius_sync()
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertFalse(accepted)
        self.assertEqual(reply.get("Reply-Message"), ["Account suspended"])
        self.assertNotIn("Mikrotik-Rate-Limit", reply)
        sub.action_reactivate("Paid")
        sub._radius_sync()
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertTrue(accepted)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["10M/10M"])

    def test_walled_garden_policy(self):
        self.company.write(
            {
                "isp_radius_suspend_policy": "walled_garden",
                "isp_radius_garden_mbps": 0.25,
                "isp_radius_garden_pool": "garden",
            }
        )
        sub = self._provisioned(self.plan_business)
        sub.action_suspend("Unpaid")
        sub._radius_sync()
        self.env["isp.radius"]._reconcile(self.company)
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertTrue(accepted)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["0.25M/0.25M"])
        self.assertEqual(reply["Framed-Pool"], ["garden"])

    def test_terminated_removed(self):
        sub = self._provisioned(self.plan_home)
        self.assertTrue(self.radius_rows(sub.radius_username))
        sub.action_terminate(sub._today(), "Left", credit=False)
        sub._radius_sync()
        self.assertEqual(self.radius_rows(sub.radius_username), set())
        accepted, __ = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertFalse(accepted)

    def test_plan_change_changes_speed(self):
        sub = self._provisioned(self.plan_home, start="2026-11-01")
        self._bill(sub, self.d("2026-11-01"))
        sub._change_plan(self.plan_business, sub._today())
        sub._radius_sync()
        __, reply = self.authenticate(sub.radius_username, sub.radius_password)
        # 50 down / 25 up
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["25M/50M"])

    def test_credentials_change_and_mac_binding(self):
        sub = self._provisioned(self.plan_home)
        old = sub.radius_username
        sub.write(
            {"radius_username": "wanjiru@home", "radius_mac": "aa-bb-cc-dd-ee-ff"}
        )
        sub._radius_sync(forget=[old])
        self.assertEqual(self.radius_rows(old), set())
        self.assertEqual(sub.radius_mac, "AA:BB:CC:DD:EE:FF")
        self.assertIn(
            ("radcheck", "Calling-Station-Id", "==", "AA:BB:CC:DD:EE:FF"),
            self.radius_rows("wanjiru@home"),
        )
        # Without the bound device's Calling-Station-Id, no login.
        accepted, __ = self.authenticate("wanjiru@home", sub.radius_password)
        self.assertFalse(accepted)

    def test_bad_usernames_refused(self):
        sub = self._provisioned(self.plan_home)
        for bad in ("o'brien", "two words", "wanjĩru", "x" * 65, ""):
            with self.assertRaises(ValidationError):
                sub.radius_username = bad or " "
        self.assertTrue(sub.radius_username.startswith("t"))
        with self.assertRaises(ValidationError):
            sub.radius_static_ip = "10.0.0.300"
        with self.assertRaises(ValidationError):
            sub.radius_mac = "not-a-mac"

    @mute_logger(MODELS_LOGGER)
    def test_radius_down_keeps_change_pending(self):
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        sub.action_activate()
        # Nothing listens on port 9: connection refused.
        self.company.isp_radius_dsn = "host=127.0.0.1 port=9 dbname=radius"
        sub._radius_sync()
        self.assertEqual(sub.radius_sync_state, "error")
        self.assertIn("cannot be reached", sub.radius_sync_error)
        # Billing is not blocked by the network.
        self.assertEqual(len(self._bill(sub, self.d("2026-11-01"))), 1)
        # Back up: the reconciliation job applies what was pending.
        self.company.isp_radius_dsn = self.radius_dsn
        self.env["isp.subscription"]._cron_radius_reconcile()
        self.assertEqual(sub.radius_sync_state, "synced")
        accepted, __ = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertTrue(accepted)


@tagged("post_install", "-at_install")
class TestReconciliation(IspRadiusCommon):
    def test_drift_found_fixed_and_idempotent(self):
        sub = self._provisioned(self.plan_home)
        other = self._provisioned(self.plan_business, partner=self.customer_2)
        expected = self.radius_rows(sub.radius_username)
        # Someone edits FreeRADIUS by hand: a lost password row, a foreign reply
        # attribute, a wrong group, and a duplicate row.
        self.radius_query(
            "DELETE FROM radcheck WHERE username = %s "
            "AND attribute = 'Cleartext-Password'",
            [sub.radius_username],
        )
        self.radius_query(
            "INSERT INTO radreply (username, attribute, op, value) "
            "VALUES (%s, 'Session-Timeout', ':=', '60')",
            [sub.radius_username],
        )
        self.radius_query(
            "UPDATE radusergroup SET groupname = 'free_for_all' WHERE username = %s",
            [other.radius_username],
        )
        self.radius_query(
            "INSERT INTO radcheck (username, attribute, op, value) "
            "SELECT username, attribute, op, value FROM radcheck WHERE username = %s",
            [other.radius_username],
        )
        drift = self.env["isp.radius"]._reconcile(self.company)
        # 1 insert + 1 delete for sub; 1 delete + 1 insert (group) and 2 duplicate
        # rows deleted for other
        self.assertEqual(drift["users"], 6)
        self.assertEqual(self.radius_rows(sub.radius_username), expected)
        again = self.env["isp.radius"]._reconcile(self.company)
        self.assertEqual(again, {"users": 0, "groups": 0, "nas": 0})

    def test_nas_table_follows_registry(self):
        nas = self.env["isp.radius.nas"].create(
            {
                "name": "Kisumu BRAS",
                "ip_address": "127.0.0.9",
                "secret": "kisumu-secret",
                "nas_type": "mikrotik",
                "company_id": self.company.id,
            }
        )
        self.env["isp.radius"]._reconcile(self.company)
        marker = f"odoo:{self.company.id}"
        self.assertEqual(
            self.radius_query(
                "SELECT nasname, shortname, type, secret FROM nas "
                "WHERE description = %s",
                [marker],
            ),
            [("127.0.0.9", "Kisumu BRAS", "mikrotik", "kisumu-secret")],
        )
        nas.unlink()
        self.env["isp.radius"]._reconcile(self.company)
        self.assertFalse(
            self.radius_query("SELECT id FROM nas WHERE description = %s", [marker])
        )
        with self.assertRaises(ValidationError):
            self.env["isp.radius.nas"].create(
                {"name": "bad", "ip_address": "10.0.0", "secret": "x"}
            )

    def test_simultaneous_use_limit_and_unlimited(self):
        limited = self._provisioned(self.plan_home)
        unlimited = self._provisioned(self.plan_home, radius_simultaneous_use=0)
        user = unlimited.radius_username
        self.assertIn(
            ("radcheck", "Simultaneous-Use", ":=", "1"),
            self.radius_rows(limited.radius_username),
        )
        # 0 = unlimited: no Simultaneous-Use row at all, only the password.
        self.assertEqual(
            {row for row in self.radius_rows(user) if row[0] == "radcheck"},
            {("radcheck", "Cleartext-Password", ":=", unlimited.radius_password)},
        )
        # Two sessions open: the unlimited login still gets in, the limited
        # one is refused from its first open session.
        self.accounting("Start", user, "unlimited-1")
        self.accounting("Start", user, "unlimited-2")
        accepted, __ = self.authenticate(user, unlimited.radius_password)
        self.assertTrue(accepted)
        self.accounting("Start", limited.radius_username, "limited-1")
        accepted, reply = self.authenticate(
            limited.radius_username, limited.radius_password
        )
        self.assertFalse(accepted)
        # Back to a limit of 2: the row comes back, the third login is refused.
        unlimited.radius_simultaneous_use = 2
        unlimited._radius_sync()
        self.assertIn(
            ("radcheck", "Simultaneous-Use", ":=", "2"), self.radius_rows(user)
        )
        accepted, __ = self.authenticate(user, unlimited.radius_password)
        self.assertFalse(accepted)
        with self.assertRaises(ValidationError):
            unlimited.radius_simultaneous_use = -1
