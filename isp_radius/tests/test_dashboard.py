# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The FreeRADIUS tiles of the ISP dashboard, against the real FreeRADIUS
database: changes not in FreeRADIUS yet, and the outbox."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IspRadiusCommon

DOWN_DSN = "host=127.0.0.1 port=9 dbname=radius connect_timeout=2"
LOGGERS = (
    "odoo.addons.isp_radius.models.isp_subscription",
    "odoo.addons.isp_radius.models.isp_radius_outbox",
)


@tagged("post_install", "-at_install")
class TestDashboardRadius(IspRadiusCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("raddash")

    def _tiles(self, **filters):
        dashboard = self.env["isp.dashboard"].with_user(self.isp_user)
        data = dashboard.get_dashboard_data(filters)
        return {tile["key"]: tile for tile in data["tiles"]}

    def assertClickThrough(self, tile):
        action = tile["action"]
        found = (
            self.env[action["res_model"]]
            .with_user(self.isp_user)
            .search_count(action["domain"])
        )
        self.assertEqual(found, tile["value"], tile["key"])

    @mute_logger(*LOGGERS)
    def test_changes_pending_and_queued(self):
        """In FreeRADIUS: home and business. Then FreeRADIUS goes down: a
        new home subscription pushed meanwhile (unreachable), a new business
        one not pushed yet (pending), business suspended (pending, and its
        Disconnect queued in the outbox): 3 pending, 2 of the business plan;
        1 queued change."""
        home = self._provisioned(self.plan_home)
        business = self._provisioned(self.plan_business)
        tiles = self._tiles()
        self.assertEqual(
            (tiles["radius_pending"]["value"], tiles["radius_outbox"]["value"]),
            (0, 0),
        )
        self.company.isp_radius_dsn = DOWN_DSN
        unreachable = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        unreachable.action_activate()
        unreachable._radius_sync()
        waiting = self._create_subscription(self.plan_business, self.d("2026-11-01"))
        waiting.action_activate()
        business.action_suspend("Unpaid")
        self.assertEqual(
            (home | business | unreachable | waiting).mapped("radius_sync_state"),
            ["synced", "pending", "error", "pending"],
        )
        tiles = self._tiles()
        self.assertEqual(tiles["radius_pending"]["value"], 3)
        self.assertEqual(tiles["radius_outbox"]["value"], 1)
        for tile in (tiles["radius_pending"], tiles["radius_outbox"]):
            self.assertClickThrough(tile)
        tiles = self._tiles(plan_id=self.plan_business.id)
        self.assertEqual(tiles["radius_pending"]["value"], 2)
        self.assertEqual(tiles["radius_outbox"]["value"], 1)
        tiles = self._tiles(plan_id=self.plan_home.id)
        self.assertEqual(tiles["radius_pending"]["value"], 1)
        self.assertEqual(tiles["radius_outbox"]["value"], 0)
        for tile in tiles.values():
            self.assertClickThrough(tile)
