# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from pyrad import packet

from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from .common import IspRadiusCommon


@tagged("post_install", "-at_install")
class TestNeutralize(IspRadiusCommon):
    """A neutralised copy of the database never reaches the live network."""

    def test_neutralised_database_sends_nothing(self):
        nas = self._start_nas("Live BRAS")
        sub = self._provisioned(self.plan_home)
        session = self.nas.login(sub.radius_username, sub.radius_password)
        before = self.radius_rows(sub.radius_username)
        sub.action_suspend("Unpaid, before the copy")  # pending in the copy

        self.env.flush_all()
        for query in get_neutralization_queries(["isp_radius"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.company.sudo().isp_radius_dsn)
        self.assertFalse(self.company.isp_radius_coa_enabled)
        self.assertFalse(nas.secret)
        self.assertFalse(self.env["isp.radius.outbox"].search([]))

        sub.action_reactivate("Paid on staging")
        sub.action_suspend("Suspended on staging")
        self.assertFalse(self.env["isp.radius.outbox"].search([]))
        # What the commit, the reconciliation job and the buttons would run.
        self.env["isp.subscription"]._cron_radius_reconcile()
        sub._radius_apply_pending()
        sub._radius_sync(actions={sub.id: "suspend"})
        sub._radius_act("suspend")
        self.assertEqual(
            self.env["isp.radius"]._radius_send(
                nas, packet.DisconnectRequest, {"User-Name": sub.radius_username}
            ),
            ("disabled", ""),
        )
        self.assertEqual(self.radius_rows(sub.radius_username), before)
        self.assertFalse(self.nas.received)
        self.assertIn(session.session_id, self.nas.sessions)
