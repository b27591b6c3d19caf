# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The public methods of isp_radius are RPC endpoints: called over JSON-RPC by
a portal subscriber or an Invoicing-only user, each is refused and changes
nothing, in Odoo or in FreeRADIUS."""

from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import IspRadiusCommon

# Public methods (no leading underscore) of isp_radius's models, and who may
# call them.
PUBLIC_METHODS = {
    ("isp.subscription", "action_radius_sync"): "ISP user",
    ("res.config.settings", "action_isp_radius_test_connection"): "administrator",
    ("res.config.settings", "action_isp_radius_reconcile"): "ISP manager or admin",
}


@tagged("post_install", "-at_install")
class TestRights(IspRadiusCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("radius")

    def _login(self, login):
        HttpCase.authenticate(self, login, login)

    def _call(self, model, method, ids):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": {"allowed_company_ids": self.company.ids}},
            },
        )

    def _state(self, sub):
        self.env.invalidate_all()
        return (
            self.radius_rows(sub.radius_username),
            sub.radius_sync_state,
            self.company.isp_radius_last_reconcile,
            self.env["isp.radius.outbox"].search_count([]),
        )

    @mute_logger("odoo.http")
    def test_refused_to_portal_and_invoicing_users(self):
        # The subscriber's own subscription: the portal user can read it.
        sub = self._provisioned(self.plan_home, partner=self.customer)
        sub.with_user(self.portal_user).check_access("read")
        # A change Odoo has not sent yet: a call that got through would send it.
        sub.with_context(tracking_disable=True).radius_password = "not-sent-yet"
        settings = self.env["res.config.settings"].create({})
        pending = (
            self.env["isp.radius.outbox"]
            .sudo()
            .create(
                {
                    "company_id": self.company.id,
                    "subscription_id": sub.id,
                    "kind": "session",
                    "username": sub.radius_username,
                    "action": "suspend",
                }
            )
        )
        ids = {
            "isp.subscription": sub.ids,
            "res.config.settings": settings.ids,
            "isp.radius.outbox": pending.ids,
        }
        # The outbox is written by the code only; staff may at most read it.
        calls = [*PUBLIC_METHODS, ("isp.radius.outbox", "unlink")]
        before = self._state(sub)
        for login in ("radius_portal", "radius_invoicing", "radius_isp_user"):
            self._login(login)
            for model, method in calls:
                if login == "radius_isp_user" and model != "isp.radius.outbox":
                    continue  # see test_each_method_for_its_role
                with self.subTest(user=login, method=method):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._call(model, method, ids[model])
                    self.assertEqual(
                        caught.exception.args[0], "odoo.exceptions.AccessError"
                    )
                    self.assertEqual(self._state(sub), before)
        self.assertTrue(pending.exists())

    @mute_logger("odoo.http")
    def test_each_method_for_its_role(self):
        sub = self._provisioned(self.plan_home)
        sub.radius_password = "changed-by-staff"
        settings = self.env["res.config.settings"].create({})
        # ISP user: the subscription's sync, not the settings' actions.
        self._login("radius_isp_user")
        self._call("isp.subscription", "action_radius_sync", sub.ids)
        self.assertIn(
            ("radcheck", "Cleartext-Password", ":=", "changed-by-staff"),
            self.radius_rows(sub.radius_username),
        )
        for method in (
            "action_isp_radius_test_connection",
            "action_isp_radius_reconcile",
        ):
            with self.assertRaises(JsonRpcException):
                self._call("res.config.settings", method, settings.ids)
        # ISP manager: reconciliation (the settings are not saved), not the
        # connection test, which uses the administrators' connection string.
        self._login("radius_isp_manager")
        self.company.isp_radius_last_reconcile = False
        self._call("res.config.settings", "action_isp_radius_reconcile", settings.ids)
        self.env.invalidate_all()
        self.assertIn("rows fixed", self.company.isp_radius_last_reconcile)
        with self.assertRaises(JsonRpcException):
            self._call(
                "res.config.settings", "action_isp_radius_test_connection", settings.ids
            )
