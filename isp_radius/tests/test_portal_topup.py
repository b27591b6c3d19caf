# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The usage card of the subscriber portal and the data top-up near the cap:
usage through the real FreeRADIUS (accounting packets, then the import),
the top-up bought over HTTP and in Chromium, the money against hand figures."""

from datetime import timedelta

from odoo import fields, http
from odoo.tests import HttpCase, tagged

from .common import IspRadiusCommon

GB = 10**9


@tagged("post_install", "-at_install")
class TestPortalTopup(HttpCase, IspRadiusCommon):
    """HttpCase first: ``authenticate`` is the portal login; the RADIUS
    Access-Request is ``IspRadiusCommon.authenticate``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 2 GB for 300.00 before taxes, taxed as Kenyan data: 15 % excise,
        # then 16 % VAT on price + excise: 300 + 45.00 + 55.20 = 400.20.
        cls.topup = cls._isp_product("Extra 2 GB", 300.0, taxes=cls.excise | cls.vat)
        cls.plan_overage.product_tmpl_id.write(
            {"isp_topup_product_id": cls.topup.id, "isp_topup_gb": 2.0}
        )
        cls.portal_user = cls._create_portal_user("wanjiru")

    def _running(self, used_bytes):
        """An active 5 GB subscription (overage 100 per GB) since 3 days ago,
        its first period billed, ``used_bytes`` used today."""
        today = self._today()
        sub = self._provisioned(self.plan_overage, start=str(today - timedelta(days=3)))
        first = self._bill(sub, sub.date_start)
        self.assertMoveAmounts(first, 1500.0, 0.0, 1500.0)
        self._use(sub, used_bytes)
        return sub

    def _today(self):
        return fields.Date.context_today(
            self.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )

    def _use(self, sub, used_bytes, session="s1"):
        self.accounting(
            "Stop",
            sub.radius_username,
            f"{sub.radius_username}-{session}",
            used_bytes // 2,
            used_bytes - used_bytes // 2,
            session_time=9,
        )
        self.env["isp.radius"]._import_accounting(self.company)
        sub.invalidate_recordset()

    def _buy(self, sub):
        return self.url_open(
            f"/my/subscriptions/{sub.id}/topup",
            data={"csrf_token": http.Request.csrf_token(self)},
        )

    def test_offer_from_the_threshold_money_and_overage(self):
        sub = self._running(3_900_000_000)  # 3.9 GB of 5: 78 %
        self.assertIsNone(sub._radius_topup_offer())
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertNotIn("o_isp_radius_topup_offer", page)
        self.assertIn("3.90 GB", page)
        # Not offered: a request anyway buys nothing.
        moves = sub.invoice_line_ids.move_id
        response = self._buy(sub)
        self.assertIn("message=topup_refused", response.url)
        self.assertIn("No data top-up is offered now.", response.text)
        self.assertEqual(sub.invoice_line_ids.move_id, moves)
        # The threshold is the company's setting: 75 % offers it at 78 %.
        self.company.isp_radius_near_cap_percent = 75
        self.assertTrue(sub._radius_topup_offer())
        self.company.isp_radius_near_cap_percent = 80
        self._use(sub, 350_000_000, "s2")  # 4.25 GB: 85 %
        offer = sub._radius_topup_offer()
        self.assertEqual(
            (offer["gb"], offer["price"], offer["price_incl"]), (2.0, 300.0, 400.2)
        )
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertIn("o_isp_radius_topup_offer", page)
        self.assertIn("400.20", page.split("o_isp_radius_topup_price")[1][:200])
        response = self._buy(sub)
        self.assertIn("message=topup", response.url)
        self.assertIn("2 GB added to this period", response.text)
        topup = self.env["isp.radius.topup"].search([("subscription_id", "=", sub.id)])
        self.assertEqual(len(topup), 1)
        move = topup.move_id
        self.assertEqual((move.state, move.move_type), ("posted", "out_invoice"))
        # 300.00 + excise 45.00 + VAT 16 % of 345.00 = 55.20
        self.assertMoveAmounts(move, 300.0, 100.2, 400.2)
        self.assertEqual(
            move.invoice_line_ids.isp_period_start, sub.period_ids.date_start
        )
        # 4.25 GB of 7 GB: 61 %, not near the cap any more.
        self.assertIsNone(sub._radius_topup_offer())
        self.assertNotIn("o_isp_radius_topup_offer", response.text)
        self.assertIn("of 7 GB", response.text)
        # 7.25 GB used in all: over 5 + 2 = 7 GB by 0.25 GB, 1 block of 100
        # (without the top-up: 3 blocks, 300).
        self._use(sub, 3 * GB, "s3")
        second = self._bill(sub, sub.next_invoice_date)
        self.assertMoveAmounts(second, 1600.0, 0.0, 1600.0)
        line = second.invoice_line_ids.filtered(
            lambda line: line.product_id == self.overage
        )
        self.assertEqual((line.quantity, line.price_unit), (1.0, 100.0))
        self.assertIn("7.250 GB used, 7 GB included, 0.250 GB over", line.name)
        # The new period: the top-up is gone, 5 GB again.
        self.assertEqual(
            sub._radius_allowance_bytes(
                sub.period_ids.sorted("date_start")[-1].date_start
            ),
            5 * GB,
        )

    def test_a_link_alone_cannot_buy(self):
        sub = self._running(4_500_000_000)
        token = sub._portal_ensure_token()
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/subscriptions/{sub.id}/topup?access_token={token}",
            data={"csrf_token": http.Request.csrf_token(self)},
        )
        self.assertIn("/web/login", response.url)
        self.assertFalse(
            self.env["isp.radius.topup"].search([("subscription_id", "=", sub.id)])
        )

    def test_topup_gives_full_speed_back_under_fair_use(self):
        self.plan_fup.product_tmpl_id.write(
            {"isp_topup_product_id": self.topup.id, "isp_topup_gb": 2.0}
        )
        today = (
            self.env["isp.subscription"]
            ._fields["date_start"]
            .context_today(
                self.env["isp.subscription"].with_context(tz="Africa/Nairobi")
            )
        )
        sub = self._provisioned(self.plan_fup, start=str(today - timedelta(days=3)))
        self._bill(sub, sub.date_start)
        self._use(sub, 11 * GB)
        sub._radius_check_usage()
        self.assertTrue(sub.radius_fup_active)
        sub._radius_sync()
        __, reply = IspRadiusCommon.authenticate(
            self, sub.radius_username, sub.radius_password
        )
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["0.5M/1M"])
        sub._radius_buy_topup()
        # 11 GB of 12: under the allowance, full speed; alerts re-armed at 80 %
        self.assertFalse(sub.radius_fup_active)
        self.assertEqual(sub.radius_alert_level, 80)
        sub._radius_sync()
        __, reply = IspRadiusCommon.authenticate(
            self, sub.radius_username, sub.radius_password
        )
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["20M/20M"])

    def test_tour_topup_near_the_cap(self):
        sub = self._running(4_250_000_000)
        self.start_tour(
            f"/my/subscriptions/{sub.id}", "isp_radius_portal_topup", login="wanjiru"
        )
        topup = self.env["isp.radius.topup"].search([("subscription_id", "=", sub.id)])
        self.assertEqual(topup.gb, 2.0)
        self.assertMoveAmounts(topup.move_id, 300.0, 100.2, 400.2)
        self.assertEqual(sub._radius_allowance_bytes(topup.period_start), 7 * GB)

    def test_portal_and_emails_in_swahili(self):
        """Swahili (sw.po of the three add-ons) loaded: the subscription page,
        the invoice e-mail and the usage alert speak Swahili."""
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(
            ["isp_billing", "isp_radius", "isp_mpesa"], ["sw"]
        )
        self.customer.lang = "sw"
        self.portal_user.lang = "sw"
        sub = self._running(4_250_000_000)
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        for phrase in (
            "Kifurushi chako",  # Your plan
            "Ankara na malipo",  # Invoices and payments
            "Data iliyotumika kipindi hiki",  # Data used this period
            "Siku zilizobaki:",  # Days left:
            "Nunua data ya ziada",  # Buy a data top-up
            "Badilisha kifurushi",  # Change plan
        ):
            self.assertIn(phrase, page)
        self.assertNotIn("Data used this period", page)
        invoice = sub.invoice_line_ids.move_id
        template = self.env.ref("isp_billing.mail_template_isp_invoice")
        body = template._render_field("body_html", invoice.ids, compute_lang=True)
        subject = template._render_field("subject", invoice.ids, compute_lang=True)
        self.assertIn("Hii ndiyo ankara yako", body[invoice.id])
        self.assertIn("Jibu barua pepe hii tu", body[invoice.id])
        self.assertIn(f"Ankara (Kumb. {invoice.name})", subject[invoice.id])
        alert = self.env.ref("isp_radius.mail_template_usage_alert").with_context(
            isp_used_gb=4.25, isp_level=80
        )
        subject = alert._render_field("subject", sub.ids, compute_lang=True)
        self.assertIn("80% ya data yako imetumika", subject[sub.id])
