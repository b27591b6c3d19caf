# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import IspRadiusCommon


@tagged("post_install", "-at_install")
class TestLimits(IspRadiusCommon):
    """What FreeRADIUS cannot carry is refused with a clear message."""

    def test_password_at_most_128_octets(self):
        sub = self._provisioned(self.plan_home)
        # 64 two-byte characters: 128 octets in UTF-8, the most a
        # User-Password carries.
        longest = "é" * 64
        sub.radius_password = longest
        sub._radius_sync()
        accepted, __ = self.authenticate(sub.radius_username, longest)
        self.assertTrue(accepted)
        with self.assertRaisesRegex(ValidationError, "at most 128 bytes"):
            sub.radius_password = longest + "x"
        with self.assertRaisesRegex(ValidationError, "at most 128 bytes"):
            self._create_subscription(
                self.plan_home, self.d("2026-11-01"), radius_password="p" * 129
            )
        for bad in ("tab\there", "line\nbreak", "nul\x00"):
            with self.assertRaisesRegex(ValidationError, "control character"):
                sub.radius_password = bad
        self.assertEqual(sub.radius_password, longest)

    def test_simultaneous_use_bounded(self):
        sub = self._provisioned(self.plan_home)
        sub.radius_simultaneous_use = 1000
        for bad in (2**31, 1001, -1):
            with self.assertRaisesRegex(ValidationError, "from 0 .unlimited. to 1000"):
                sub.radius_simultaneous_use = bad
        with self.assertRaisesRegex(ValidationError, "from 0 .unlimited. to 1000"):
            self._create_subscription(
                self.plan_home, self.d("2026-11-01"), radius_simultaneous_use=2**31
            )
        self.assertEqual(sub.radius_simultaneous_use, 1000)
