# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Staff screens of isp_radius: traffic and time online in human units, and
the subscriptions' search by RADIUS username and IP address."""

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import IspRadiusCommon


@tagged("post_install", "-at_install")
class TestBackendViews(IspRadiusCommon):
    def _session(self, sub, **vals):
        return (
            self.env["isp.radius.session"]
            .sudo()
            .create(
                {
                    "company_id": self.company.id,
                    "unique_id": f"views-{sub.id}-{len(sub.radius_session_ids)}",
                    "username": sub.radius_username,
                    "subscription_id": sub.id,
                    **vals,
                }
            )
        )

    def test_bytes_and_time_online_in_human_units(self):
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        session = self._session(
            sub, bytes_in=812_300_000, bytes_out=1_536_000_000, session_time=7500
        )
        # 812,300,000 B = 812.30 MB; 1,536,000,000 B = 1.54 GB; 7,500 s = 2 h 05
        self.assertEqual(
            (
                session.upload_display,
                session.download_display,
                session.session_time_display,
            ),
            ("812.30 MB", "1.54 GB", "2 h 05 min"),
        )
        usage = (
            self.env["isp.radius.usage"]
            .sudo()
            .create(
                {
                    "username": sub.radius_username,
                    "subscription_id": sub.id,
                    "date": self.d("2026-11-02"),
                    "bytes_in": 512,
                    "bytes_out": 2_500_000_000_000,
                    "session_time": 3 * 86400 + 4 * 3600 + 59,
                }
            )
        )
        # 2.5 × 10^12 B = 2.50 TB; 3 days 4 h 59 s
        self.assertEqual(
            (usage.upload_display, usage.download_display, usage.session_time_display),
            ("512 B", "2.50 TB", "3 d 4 h"),
        )

    def _search_view_domain(self, field, value):
        """The domain the subscriptions' search view builds when ``value`` is
        typed into its ``field`` (its ``filter_domain``)."""
        arch = self.env["isp.subscription"].get_view(view_type="search")["arch"]
        [node] = etree.fromstring(arch).xpath(f"//field[@name='{field}']")
        return safe_eval(node.get("filter_domain"), {"self": value})

    def test_search_by_ip_address_static_or_of_a_session(self):
        static = self._create_subscription(
            self.plan_home, self.d("2026-11-01"), radius_static_ip="100.64.0.10"
        )
        dynamic = self._create_subscription(
            self.plan_home, self.d("2026-11-01"), partner=self.customer_2
        )
        self._session(dynamic, framed_ip="100.64.7.21")
        Sub = self.env["isp.subscription"]
        mine = [("id", "in", (static | dynamic).ids)]
        for typed, found in (
            ("100.64.0.10", static),
            ("100.64.7.21", dynamic),
            ("100.64.9.9", Sub),
        ):
            domain = self._search_view_domain("radius_static_ip", typed)
            self.assertEqual(Sub.search([*mine, *domain]), found, typed)
        self.assertEqual(
            Sub.search([*mine, ("radius_username", "=", dynamic.radius_username)]),
            dynamic,
        )
