# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import uuid

from pyrad import packet

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IspRadiusCommon

DOWN_DSN = "host=127.0.0.1 port=9 dbname=radius connect_timeout=2"
LOGGERS = (
    "odoo.addons.isp_radius.models.isp_subscription",
    "odoo.addons.isp_radius.models.isp_radius_outbox",
)


@tagged("post_install", "-at_install")
class TestOutbox(IspRadiusCommon):
    """What a change owes the network is kept in the outbox, in the change's
    own transaction, and applied in order once FreeRADIUS or the NAS answers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"isp_radius_coa_timeout": 1, "isp_radius_coa_retries": 1})

    def setUp(self):
        super().setUp()
        self._start_nas("Outbox BRAS")
        self.Outbox = self.env["isp.radius.outbox"]

    def _outbox(self, sub):
        return self.Outbox.search([("subscription_id", "=", sub.id)])

    @mute_logger(*LOGGERS)
    def test_outage_changes_kept_then_applied_in_order(self):
        sub = self._provisioned(self.plan_home, start="2026-11-01")
        self._bill(sub, self.d("2026-11-01"))
        old, password = sub.radius_username, sub.radius_password
        session = self.nas.login(old, password)
        self.company.isp_radius_dsn = DOWN_DSN
        new = f"{old}-renamed"
        sub.radius_username = new
        sub._change_plan(self.plan_business, sub._today())
        sub.action_suspend("Unpaid")
        # Written with the changes, not after them.
        self.assertEqual(
            [(r.kind, r.username, r.action) for r in self._outbox(sub)],
            [
                ("forget", old, False),
                ("session", new, "rate"),
                ("session", new, "suspend"),
            ],
        )
        # Still down: nothing applied, each change kept with its error.
        self.env["isp.subscription"]._cron_radius_reconcile()
        rows = self._outbox(sub)
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows.mapped("attempts"), [1, 1, 1])
        self.assertIn("cannot be reached", rows[0].last_error)
        self.assertFalse(self.nas.received)
        self.assertIn(
            ("radusergroup", self._group(self.plan_home)), self.radius_rows(old)
        )

        self.company.isp_radius_dsn = self.radius_dsn
        self.env["isp.subscription"]._cron_radius_reconcile()
        self.assertFalse(self._outbox(sub))
        self.assertEqual(self.radius_rows(old), set())
        self.assertEqual(
            self.radius_rows(new),
            {
                ("radcheck", "Cleartext-Password", ":=", password),
                ("radcheck", "Simultaneous-Use", ":=", "1"),
                ("radusergroup", "isp_suspended"),
            },
        )
        accepted, __ = self.authenticate(old, password)
        self.assertFalse(accepted)
        # The session, still under the former username, got the CoA of the
        # plan change, then the suspension's Disconnect.
        self.assertEqual([r.kind for r in self.nas.received], ["coa", "disconnect"])
        self.assertEqual(self.nas.received[1].attributes["User-Name"], [session.user])
        self.assertEqual(sub.radius_sync_state, "synced")

    def _group(self, plan):
        return self.env["isp.radius"]._plan_group(plan)

    @mute_logger(*LOGGERS)
    def test_silent_nas_keeps_the_change_and_its_followers(self):
        sub = self._provisioned(self.plan_home)
        session = self.nas.login(sub.radius_username, sub.radius_password)
        self.nas.script["disconnect"] = "timeout"
        sub.action_suspend("Unpaid")
        sub.action_reactivate("Paid")
        self.env["isp.subscription"]._cron_radius_reconcile()
        rows = self._outbox(sub)
        # The suspension's Disconnect got no answer: kept with its error, and
        # the reactivation's waits behind it (never sent before it).
        self.assertEqual(rows.mapped("action"), ["suspend", "reconnect"])
        self.assertEqual(rows.mapped("attempts"), [1, 0])
        self.assertIn("No answer from Outbox BRAS", rows[0].last_error)
        self.assertEqual([r.kind for r in self.nas.received], ["disconnect"])
        self.nas.script["disconnect"] = "ack"
        self.env["isp.subscription"]._cron_radius_reconcile()
        self.assertFalse(self._outbox(sub))
        # The suspension's Disconnect is acknowledged and ends the session;
        # then the reactivation's.
        received = self.nas.received
        self.assertEqual({r.kind for r in received}, {"disconnect"})
        self.assertEqual(received[1].reply_code, packet.DisconnectACK)
        self.assertTrue(
            self.wait_for(lambda: session.session_id not in self.nas.sessions)
        )

    def test_reconciliation_removes_released_usernames_only(self):
        sub = self._provisioned(self.plan_home)
        old = sub.radius_username
        self.assertEqual(
            self.env["isp.radius.username"]
            .search([("username", "=", old)])
            .subscription_id,
            sub,
        )
        # The rename's own removal is lost (e.g. an outbox row deleted by
        # hand): the full pass still removes what Odoo wrote under ``old``.
        sub.radius_username = f"{old}-2"
        self._outbox(sub).unlink()
        handmade = f"hand{uuid.uuid4().hex[:10]}"
        self.radius_query(
            "INSERT INTO radcheck (username, attribute, op, value) "
            "VALUES (%s, 'Cleartext-Password', ':=', 'x')",
            [handmade],
        )
        self.addCleanup(
            self.radius_query, "DELETE FROM radcheck WHERE username = %s", [handmade]
        )
        self.env["isp.subscription"]._cron_radius_reconcile()
        self.assertEqual(self.radius_rows(old), set())
        self.assertTrue(self.radius_rows(f"{old}-2"))
        self.assertEqual(
            self.radius_rows(handmade), {("radcheck", "Cleartext-Password", ":=", "x")}
        )

    def test_former_username_taken_by_another_subscription_is_kept(self):
        first = self._provisioned(self.plan_home)
        second = self._provisioned(self.plan_business, partner=self.customer_2)
        name = first.radius_username
        first.radius_username = f"{name}-old"
        second.radius_username = name
        self.env["isp.subscription"]._cron_radius_reconcile()
        rows = self.radius_rows(name)
        self.assertIn(("radusergroup", self._group(self.plan_business)), rows)
        self.assertIn(
            ("radcheck", "Cleartext-Password", ":=", second.radius_password), rows
        )
        self.assertFalse(self._outbox(first) | self._outbox(second))
