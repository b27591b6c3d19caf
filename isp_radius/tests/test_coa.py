# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import IspRadiusCommon


@tagged("post_install", "-at_install")
class TestCoa(IspRadiusCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"isp_radius_coa_timeout": 1, "isp_radius_coa_retries": 1})

    def setUp(self):
        super().setUp()
        self.nas_record = self._start_nas("Nairobi BRAS")

    def _online(self, plan, **vals):
        sub = self._provisioned(plan, **vals)
        session = self.nas.login(sub.radius_username, sub.radius_password)
        return sub, session

    def _notes(self, sub):
        return " ".join(sub.message_ids.mapped("body"))

    def test_plan_change_sends_coa_with_new_rate(self):
        sub, session = self._online(self.plan_home, start="2026-11-01")
        self._bill(sub, self.d("2026-11-01"))
        sub._change_plan(self.plan_business, sub._today())
        sub._radius_sync(actions={sub.id: "rate"})
        coa = [r for r in self.nas.received if r.kind == "coa"]
        self.assertEqual(len(coa), 1)
        self.assertEqual(coa[0].attributes["Mikrotik-Rate-Limit"], ["25M/50M"])
        self.assertEqual(coa[0].attributes["Acct-Session-Id"], [session.session_id])
        self.assertEqual(session.rate, "25M/50M")
        self.assertIn("CoA-Request to Nairobi BRAS (127.0.0.1)", self._notes(sub))
        self.assertIn("acknowledged (ACK)", self._notes(sub))

    def test_dunning_throttle_by_coa_until_paid(self):
        self.company.isp_radius_throttle_mbps = 1.0
        # no session limit: the subscriber, online, can be authenticated again
        sub, session = self._online(
            self.plan_home, start="2026-11-01", radius_simultaneous_use=0
        )
        invoice = self._bill(sub, self.d("2026-11-01"))
        sub._isp_dunning_throttle("Invoice unpaid 3 days after its due date")
        sub._radius_sync(actions={sub.id: "rate"})
        coa = [r for r in self.nas.received if r.kind == "coa"]
        self.assertEqual(len(coa), 1)
        self.assertEqual(coa[0].attributes["Mikrotik-Rate-Limit"], ["1M/1M"])
        self.assertEqual(session.rate, "1M/1M")
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertTrue(accepted)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["1M/1M"])

        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": invoice.amount_residual})._create_payments()
        self.assertFalse(sub.throttled)
        sub._radius_sync(actions={sub.id: "rate"})
        coa = [r for r in self.nas.received if r.kind == "coa"]
        self.assertEqual(len(coa), 2)
        self.assertEqual(coa[1].attributes["Mikrotik-Rate-Limit"], ["10M/10M"])
        self.assertEqual(session.rate, "10M/10M")
        __, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["10M/10M"])

    def test_suspension_disconnects_and_login_is_refused(self):
        sub, session = self._online(self.plan_home)
        sub.action_suspend("Unpaid")
        sub._radius_sync(actions={sub.id: "suspend"})
        kinds = [r.kind for r in self.nas.received]
        self.assertEqual(kinds, ["disconnect"])
        self.assertTrue(
            self.wait_for(
                lambda: (
                    self.radius_query(
                        "SELECT acctterminatecause FROM radacct "
                        "WHERE acctsessionid = %s",
                        [session.session_id],
                    )
                    == [("Admin-Reset",)]
                )
            )
        )
        self.assertIn("Disconnect-Request", self._notes(sub))
        accepted, reply = self.authenticate(sub.radius_username, sub.radius_password)
        self.assertFalse(accepted)

    def test_walled_garden_by_coa_on_mikrotik(self):
        self.company.write(
            {
                "isp_radius_suspend_policy": "walled_garden",
                "isp_radius_garden_mbps": 0.25,
            }
        )
        sub, session = self._online(self.plan_home)
        sub.action_suspend("Unpaid")
        sub._radius_sync(actions={sub.id: "suspend"})
        self.assertEqual([r.kind for r in self.nas.received], ["coa"])
        self.assertEqual(session.rate, "0.25M/0.25M")

    def test_nak_falls_back_to_disconnect(self):
        sub, session = self._online(self.plan_home, start="2026-11-01")
        self._bill(sub, self.d("2026-11-01"))
        self.nas.script["coa"] = "nak"
        sub._change_plan(self.plan_business, sub._today())
        sub._radius_sync(actions={sub.id: "rate"})
        self.assertEqual([r.kind for r in self.nas.received], ["coa", "disconnect"])
        notes = self._notes(sub)
        self.assertIn("refused (NAK: Administratively-Prohibited)", notes)
        self.assertIn("Disconnect-Request", notes)

    def test_nas_without_answer_or_wrong_secret(self):
        sub, session = self._online(self.plan_home)
        self.nas.script["disconnect"] = "timeout"
        sub._radius_act("disconnect")
        self.assertIn(
            "no answer: the NAS is down or the shared secret does not match",
            self._notes(sub),
        )
        self.nas.script["disconnect"] = "ack"
        self.nas_record.secret = "not-the-secret"
        before = len(self.nas.received)
        sub._radius_act("disconnect")
        # pyrad drops a request with a bad authenticator: the NAS never saw it.
        self.assertEqual(len(self.nas.received), before)
        self.assertTrue(self.nas.dropped)
        self.assertEqual(self._notes(sub).count("shared secret does not match"), 2)

    def test_reactivation_disconnects_for_full_speed(self):
        self.company.write(
            {
                "isp_radius_suspend_policy": "walled_garden",
                "isp_radius_garden_mbps": 0.25,
            }
        )
        sub = self._provisioned(self.plan_home)
        sub.action_suspend("Unpaid")
        sub._radius_sync()
        session = self.nas.login(sub.radius_username, sub.radius_password)
        self.assertEqual(session.rate, "0.25M/0.25M")
        sub.action_reactivate("Paid")
        sub._radius_sync(actions={sub.id: "reconnect"})
        self.assertEqual([r.kind for r in self.nas.received], ["disconnect"])
        session = self.nas.login(sub.radius_username, sub.radius_password)
        self.assertEqual(session.rate, "10M/10M")
