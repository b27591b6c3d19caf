# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The FreeRADIUS tiles of the ISP dashboard: what the network has not
received yet."""

from odoo import models


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    def _get_dashboard_tiles(self, flt):
        tiles = super()._get_dashboard_tiles(flt)
        subs = self._dashboard_subscription_domain(flt)
        tiles.append(
            self._dashboard_count_tile(
                "radius_pending",
                self.env._("FreeRADIUS changes pending"),
                "isp.subscription",
                [*subs, ("radius_sync_state", "in", ("pending", "error"))],
                sequence=90,
                section="network",
                alert=True,
                definition=self.env._(
                    "Subscriptions whose last change has not reached FreeRADIUS "
                    "yet: Change pending, or FreeRADIUS unreachable."
                ),
            )
        )
        outbox = [("company_id", "in", flt["companies"].ids)]
        if flt["plan"]:
            outbox = [*outbox, ("subscription_id.plan_id", "=", flt["plan"].id)]
        tiles.append(
            self._dashboard_count_tile(
                "radius_outbox",
                self.env._("Network changes queued"),
                "isp.radius.outbox",
                outbox,
                sequence=100,
                section="network",
                alert=True,
                view="isp_radius.isp_radius_outbox_view_list",
                definition=self.env._(
                    "Rows of the outbox not applied yet: former usernames' rows "
                    "to remove and CoA / Disconnect requests owed to live "
                    "sessions."
                ),
            )
        )
        return tiles
