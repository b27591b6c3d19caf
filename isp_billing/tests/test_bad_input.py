# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bad input gets a clear error and writes nothing."""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestPhones(IspBillingCommon):
    def test_kenyan_numbers_normalised_to_e164(self):
        for raw in ("0712 345 678", "+254 712 345 678", "254712345678", "0712-345-678"):
            partner = self.env["res.partner"].create(
                {"name": raw, "country_id": self.kenya.id, "mobile": raw, "phone": raw}
            )
            self.assertEqual((partner.mobile, partner.phone), ("+254712345678",) * 2)
        self.assertEqual(self.customer.mobile, "+254712345678")

    def test_country_of_the_company_reads_national_numbers(self):
        partner = (
            self.env["res.partner"]
            .with_company(self.company)
            .create({"name": "No country", "mobile": "0722 000 111"})
        )
        self.assertEqual(partner.mobile, "+254722000111")

    def test_invalid_number_refused_and_nothing_written(self):
        count = self.env["res.partner"].search_count([])
        for bad in ("12345", "0712 345", "+254 999 999 999 999", "call me"):
            with self.assertRaisesRegex(ValidationError, "not a valid phone number"):
                self.env["res.partner"].create(
                    {"name": "Bad", "country_id": self.kenya.id, "mobile": bad}
                )
        self.assertEqual(self.env["res.partner"].search_count([]), count)
        with self.assertRaisesRegex(ValidationError, "not a valid phone number"):
            self.customer.write({"phone": "0712"})
        self.assertFalse(self.customer.phone)
        self.assertEqual(self.customer.mobile, "+254712345678")


@tagged("post_install", "-at_install")
class TestBadInput(IspBillingCommon):
    def test_plan_without_price(self):
        with self.assertRaisesRegex(ValidationError, "has no price"):
            self._isp_plan("Free plan", 0.0)
        self.assertFalse(
            self.env["product.template"].search([("name", "=", "Free plan")])
        )

    def test_line_without_price_cannot_be_activated(self):
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        sub.line_ids.price_unit = 0.0
        with self.assertRaisesRegex(ValidationError, "has no price"):
            sub.action_activate()
        self.assertEqual(sub.state, "draft")
        self.assertFalse(sub.event_ids)

    def test_subscription_without_plan_cannot_be_activated(self):
        sub = self.env["isp.subscription"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "line_ids": [Command.create({"product_id": self.static_ip.id})],
            }
        )
        with self.assertRaisesRegex(ValidationError, "exactly one plan"):
            sub.action_activate()
        self.assertEqual(sub.state, "draft")

    def test_duplicate_lines(self):
        count = self.env["isp.subscription"].search_count([])
        with self.assertRaisesRegex(
            ValidationError, "already has a line for Static IP"
        ):
            self._create_subscription(
                self.plan_home,
                self.d("2026-11-01"),
                extra_lines=[(self.static_ip, {}), (self.static_ip, {})],
            )
        with self.assertRaisesRegex(ValidationError, "only have one plan"):
            self.env["isp.subscription"].create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "line_ids": [
                        Command.create({"product_id": self.plan_home.id}),
                        Command.create({"product_id": self.plan_business.id}),
                    ],
                }
            )
        self.assertEqual(self.env["isp.subscription"].search_count([]), count)

    def test_negative_or_zero_quantities(self):
        with self.assertRaisesRegex(ValidationError, "must be above zero"):
            self._create_subscription(
                self.plan_home,
                self.d("2026-11-01"),
                extra_lines=[(self.static_ip, {"quantity": 0.0})],
            )
        with self.assertRaisesRegex(ValidationError, "cannot have a negative price"):
            self._create_subscription(
                self.plan_home,
                self.d("2026-11-01"),
                extra_lines=[(self.static_ip, {"price_unit": -5.0})],
            )

    def test_dates_out_of_order(self):
        with self.assertRaisesRegex(ValidationError, "cannot be before the start"):
            self._create_subscription(
                self.plan_home, self.d("2026-11-15"), anchor=self.d("2026-11-01")
            )
        with self.assertRaisesRegex(ValidationError, "within one billing period"):
            self._create_subscription(
                self.plan_home, self.d("2026-11-15"), anchor=self.d("2027-01-01")
            )
        sub = self._active_subscription(self.plan_home, self.d("2026-11-15"))
        with self.assertRaisesRegex(ValidationError, "cannot end"):
            sub.action_terminate(self.d("2026-11-01"), "Typo")
        self.assertEqual(sub.state, "active")
        self.assertFalse(sub.date_end)
        with self.assertRaisesRegex(UserError, "only change while it is a draft"):
            sub.date_start = self.d("2026-10-01")

    @freeze_time("2026-11-21 09:00:00")
    def test_plan_change_before_current_period(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        self._bill(sub, self.d("2026-11-01"))
        moves = sub.invoice_line_ids.move_id
        with self.assertRaisesRegex(ValidationError, "before the current period"):
            sub._change_plan(self.plan_business, self.d("2026-10-15"))
        self.assertEqual(sub.plan_id, self.plan_home)
        self.assertEqual(sub.invoice_line_ids.move_id, moves)
        with self.assertRaisesRegex(ValidationError, "is not a plan"):
            sub._change_plan(self.static_ip, self.d("2026-11-21"))

    def test_currency_mismatch(self):
        usd_pricelist = self.env["product.pricelist"].create(
            {
                "name": "USD",
                "currency_id": self.env.ref("base.USD").id,
                "company_id": self.company.id,
            }
        )
        sub = self._create_subscription(self.plan_home, self.d("2026-11-01"))
        self.assertEqual(sub.currency_id, self.kes)
        sub.action_activate()
        with self.assertRaisesRegex(
            ValidationError, "is billed in KES but its pricelist"
        ):
            sub.pricelist_id = usd_pricelist
        self.assertEqual(sub.currency_id, self.kes)
