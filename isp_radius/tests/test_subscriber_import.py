# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The RADIUS columns of the migration import, against the real FreeRADIUS:
the imported username and password log in unchanged, with the static IP."""

import uuid

from freezegun import freeze_time

from odoo.tests import tagged

from .common import IspRadiusCommon

HEADER = (
    "account_number,customer_ref,name,phone,email,street,city,plan,addons,"
    "start_date,billing_anchor,billed_until,state,currency,price,opening_balance,"
    "radius_username,radius_password,static_ip"
)


@tagged("post_install", "-at_install")
class TestSubscriberImportRadius(IspRadiusCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan_home.default_code = "HOME10"
        cls.service = cls.env["isp.subscriber.import"]

    def _prepare(self, *rows):
        content = "\n".join((HEADER, *rows)).encode()
        rows = self.service._read_file("generic", content, "radius.csv")
        return self.service._prepare_rows(rows, self.company)

    def _row(self, number, username, password, ip=""):
        return (
            f"{number},R-{number},Subscriber {number},,,,,HOME10,,2025-05-01,"
            f"2025-06-01,2026-12-01,active,,,,{username},{password},{ip}"
        )

    def test_imported_credentials_authenticate_unchanged(self):
        """The old system's PPPoE username and password log in through
        FreeRADIUS right after the import, with the plan's speed and the
        static IP; a suspended one is refused."""
        tag = uuid.uuid4().hex[:8]
        rows = [
            self._row(
                f"RAD{tag}1", f"old.{tag}@isp.example", "Kept-Pass 1!", "10.77.0.11"
            ),
            self._row(f"RAD{tag}2", f"old2.{tag}", "x:y/z-2"),
        ]
        prepared = self._prepare(*rows)
        self.assertEqual([item["status"] for item in prepared], ["new", "new"])
        with freeze_time("2026-11-10 09:00:00"):
            result = self.service._import_prepared(prepared, self.company)
        subs = self.env["isp.subscription"].browse(result["created"])
        self.assertEqual(
            subs.mapped("radius_username"), [f"old.{tag}@isp.example", f"old2.{tag}"]
        )
        subs._radius_sync()
        self.assertEqual(set(subs.mapped("radius_sync_state")), {"synced"})
        accepted, reply = self.authenticate(f"old.{tag}@isp.example", "Kept-Pass 1!")
        self.assertTrue(accepted)
        self.assertEqual(reply["Framed-IP-Address"], ["10.77.0.11"])
        self.assertEqual(reply["Mikrotik-Rate-Limit"], ["10M/10M"])
        accepted, __ = self.authenticate(f"old2.{tag}", "x:y/z-2")
        self.assertTrue(accepted)
        accepted, __ = self.authenticate(f"old2.{tag}", "another password")
        self.assertFalse(accepted)
        # Importing the same file again changes nothing in Odoo or FreeRADIUS.
        before = self.radius_rows(f"old.{tag}@isp.example")
        prepared = self._prepare(*rows)
        self.assertEqual([item["status"] for item in prepared], ["exists", "exists"])
        self.assertEqual(
            self.service._import_prepared(prepared, self.company)["created"], []
        )
        self.assertEqual(self.radius_rows(f"old.{tag}@isp.example"), before)

    def test_dry_run_radius_problems(self):
        """A username another subscription has, a username twice in the
        file, a username FreeRADIUS cannot match or its filter_username policy
        rejects, a password a RADIUS packet cannot carry, an IP that is not
        IPv4 or taken: each listed, nothing written."""
        taken = self._provisioned(self.plan_home, radius_static_ip="10.77.1.1")
        tag = uuid.uuid4().hex[:8]
        prepared = self._prepare(
            self._row(f"DUP{tag}1", taken.radius_username, "pw1"),
            self._row(f"DUP{tag}2", f"twin.{tag}", "pw2"),
            self._row(f"DUP{tag}3", f"twin.{tag}", "pw3"),
            self._row(f"DUP{tag}4", "has space", "pw4"),
            self._row(f"DUP{tag}5", f"tab.{tag}", "pw\t5"),
            self._row(f"DUP{tag}6", f"ip.{tag}", "pw6", "10.77.300.1"),
            self._row(f"DUP{tag}7", f"ip2.{tag}", "pw7", "10.77.1.1"),
            self._row(f"DUP{tag}8", f"fine.{tag}", "pw8"),
            self._row(f"DUP{tag}9", f"realm.{tag}@pppoe", "pw9"),
            self._row(f"DUP{tag}10", f"two..dots.{tag}", "pw10"),
        )
        errors = {item["line"]: "; ".join(item["errors"]) for item in prepared}
        self.assertRegex(
            errors[2],
            f"duplicate username {taken.radius_username}: subscription "
            f"{taken.account_number} has it",
        )
        self.assertRegex(errors[3], f"duplicate username twin.{tag} \\(lines 3, 4\\)")
        self.assertRegex(errors[4], f"duplicate username twin.{tag} \\(lines 3, 4\\)")
        self.assertRegex(errors[5], "RADIUS username has space: only letters")
        self.assertRegex(errors[6], "control character")
        self.assertRegex(errors[7], "static IP 10.77.300.1 is not an IPv4 address")
        self.assertRegex(
            errors[8], f"static IP 10.77.1.1: subscription {taken.account_number}"
        )
        self.assertEqual(errors[9], "")
        for line in (10, 11):
            self.assertRegex(errors[line], "filter_username policy rejects it")
        self.assertFalse(
            self.env["isp.subscription"].search(
                [("account_number", "=like", f"DUP{tag}%")]
            )
        )
