# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Coverage areas: the coverage of a lead's address worked out by hand
against the ISP's areas, the confirmation rule of an order whose service
address is not covered (as a salesman over the ORM, as an attacking salesman
over JSON-RPC), and the isolation of the companies' areas."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspSaleCommon


@tagged("post_install", "-at_install")
class TestSaleCoverage(IspSaleCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uganda = cls.env.ref("base.ug")
        cls.coast = cls.env["res.country.state"].create(
            {"name": "Coast (test)", "code": "CST9", "country_id": cls.kenya.id}
        )
        Area = cls.env["isp.coverage.area"]
        # Nairobi CBD first (sequence 5), then Nairobi by city or zip, then
        # the coast (Mombasa in the Coast state only).
        cls.cbd = Area.create(
            {
                "name": "Nairobi CBD",
                "sequence": 5,
                "company_id": cls.company.id,
                "rule_ids": [
                    Command.create({"country_id": cls.kenya.id, "zip_codes": "00100"})
                ],
            }
        )
        cls.nairobi = Area.create(
            {
                "name": "Nairobi fibre",
                "sequence": 10,
                "company_id": cls.company.id,
                "rule_ids": [
                    Command.create(
                        {"country_id": cls.kenya.id, "cities": "Nairobi,\nWestlands"}
                    ),
                    Command.create(
                        {"country_id": cls.kenya.id, "zip_codes": "00100, 006*"}
                    ),
                ],
            }
        )
        cls.coast_area = Area.create(
            {
                "name": "Coast wireless",
                "sequence": 20,
                "company_id": cls.company.id,
                "rule_ids": [
                    Command.create(
                        {
                            "country_id": cls.kenya.id,
                            "state_id": cls.coast.id,
                            "cities": "Mombasa",
                        }
                    )
                ],
            }
        )
        # Another ISP of the database, in Kisumu.
        cls.company_b = cls.env["res.company"].create({"name": "Lakeside ISP"})
        cls.kisumu = Area.sudo().create(
            {
                "name": "Kisumu wireless",
                "company_id": cls.company_b.id,
                "rule_ids": [
                    Command.create({"country_id": cls.kenya.id, "cities": "Kisumu"})
                ],
            }
        )
        companies = {
            "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
        }
        cls.salesman = new_test_user(
            cls.env,
            login="coverage_salesman",
            groups="sales_team.group_sale_salesman_all_leads",
            **companies,
        )
        cls.sales_manager = new_test_user(
            cls.env,
            login="coverage_manager",
            groups="sales_team.group_sale_manager",
            **companies,
        )
        cls.eldoret = cls._buyer("Chebet Eldoret", city="Eldoret")
        cls.westlands = cls._buyer("Mwangi Westlands", city="Westlands")

    @classmethod
    def _buyer(cls, name, **address):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "country_id": cls.kenya.id,
                "tz": "Africa/Nairobi",
                **address,
            }
        )

    def _lead(self, company=None, **address):
        # another company's: as the superuser (the test user works in one)
        Lead = self.env["crm.lead"].sudo() if company else self.env["crm.lead"]
        return Lead.create(
            {
                "name": "Internet",
                "company_id": (company or self.company).id,
                **address,
            }
        )

    def _coverage(self, record):
        return record.isp_coverage_state, record.isp_coverage_area_id

    # ------------------------------------------------------------------
    # Coverage of an address
    # ------------------------------------------------------------------

    def test_lead_coverage_of_addresses_inside_and_outside_the_areas(self):
        ke, ug, none = self.kenya.id, self.uganda.id, self.env["isp.coverage.area"]
        cases = [
            # city, compared without case and extra spaces: Nairobi fibre
            ({"city": "  westLANDS ", "country_id": ke}, ("covered", self.nairobi)),
            # zip 00100: Nairobi CBD (sequence 5) before Nairobi fibre
            (
                {"city": "Nairobi", "zip": "00100", "country_id": ke},
                ("covered", self.cbd),
            ),
            # zip prefix 006*, spaces ignored: Nairobi fibre's second rule
            (
                {"city": "Ruaka", "zip": "00 610", "country_id": ke},
                ("covered", self.nairobi),
            ),
            # a zip code of the list, but another country
            (
                {"city": "Ruaka", "zip": "00610", "country_id": ug},
                ("not_covered", none),
            ),
            # 00710 does not start with 006
            (
                {"city": "Ruaka", "zip": "00710", "country_id": ke},
                ("not_covered", none),
            ),
            # Mombasa in the Coast state: Coast wireless
            (
                {"city": "Mombasa", "state_id": self.coast.id, "country_id": ke},
                ("covered", self.coast_area),
            ),
            # Mombasa without its state: the rule's state is not met
            ({"city": "Mombasa", "country_id": ke}, ("not_covered", none)),
            ({"city": "Eldoret", "country_id": ke}, ("not_covered", none)),
            # Kisumu: another company's area
            ({"city": "Kisumu", "country_id": ke}, ("not_covered", none)),
            # too little to place the address
            ({"street": "Moi Avenue 1", "country_id": ke}, ("unknown", none)),
            ({"city": "Nairobi"}, ("unknown", none)),
        ]
        for address, expected in cases:
            with self.subTest(address=address):
                self.assertEqual(self._coverage(self._lead(**address)), expected)

    def test_lead_of_another_company_or_of_none(self):
        """A lead is checked against its company's areas; a lead without a
        company against every company's."""
        lead_b = self._lead(self.company_b, city="Nairobi", country_id=self.kenya.id)
        self.assertEqual(self._coverage(lead_b), ("not_covered", self.nairobi.browse()))
        lead_b.city = "Kisumu"
        self.assertEqual(self._coverage(lead_b), ("covered", self.kisumu))
        shared = (
            self.env["crm.lead"]
            .sudo()
            .create(
                {
                    "name": "Internet",
                    "company_id": False,
                    "city": "Kisumu",
                    "country_id": self.kenya.id,
                }
            )
        )
        self.assertEqual(self._coverage(shared), ("covered", self.kisumu))

    def test_lead_coverage_follows_its_address_and_the_areas(self):
        lead = self._lead(city="Eldoret", country_id=self.kenya.id)
        self.assertEqual(lead.isp_coverage_state, "not_covered")
        self.env["isp.coverage.rule"].create(
            {
                "area_id": self.coast_area.id,
                "country_id": self.kenya.id,
                "cities": "Eldoret",
            }
        )
        self.assertEqual(self._coverage(lead), ("covered", self.coast_area))
        self.coast_area.rule_ids[-1:].cities = "Nakuru"
        self.assertEqual(lead.isp_coverage_state, "not_covered")
        lead.city = "Nakuru"
        self.assertEqual(self._coverage(lead), ("covered", self.coast_area))
        self.coast_area.active = False
        self.assertEqual(lead.isp_coverage_state, "not_covered")
        # stored, so that the CRM filters and groups by it
        found = self.env["crm.lead"].search(
            [("id", "=", lead.id), ("isp_coverage_state", "=", "not_covered")]
        )
        self.assertEqual(found, lead)
        (self.cbd | self.nairobi).unlink()
        self.assertEqual(lead.isp_coverage_state, "none", "no area left: not checked")

    # ------------------------------------------------------------------
    # Confirmation
    # ------------------------------------------------------------------

    def test_salesman_cannot_confirm_an_order_outside_coverage(self):
        order = self._order([self.plan_fibre, self.install_fee], partner=self.eldoret)
        self.assertEqual(order.isp_coverage_state, "not_covered")
        with self.assertRaisesRegex(UserError, "outside the coverage areas"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertFalse(self._subscriptions(order))
        # an unknown address is refused too
        unknown = self._order([self.plan_fibre], partner=self._buyer("No city"))
        self.assertEqual(unknown.isp_coverage_state, "unknown")
        with self.assertRaisesRegex(UserError, "complete the delivery address"):
            unknown.with_user(self.salesman).action_confirm()
        # the delivery address counts, not the customer's
        order.partner_shipping_id = self._buyer(
            "Eldoret buyer, Westlands", city="Westlands"
        )
        self.assertEqual(self._coverage(order), ("covered", self.nairobi))
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(len(self._subscriptions(order)), 1)

    def test_order_without_plan_or_without_areas_is_not_checked(self):
        fee_only = self._order([self.install_fee], partner=self.eldoret)
        fee_only.with_user(self.salesman).action_confirm()
        self.assertEqual(fee_only.state, "sale")
        (self.cbd | self.nairobi | self.coast_area).active = False
        order = self._order([self.plan_fibre], partner=self.eldoret)
        self.assertEqual(order.isp_coverage_state, "none")
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_manager_override_with_a_reason(self):
        order = self._order([self.plan_fibre], partner=self.eldoret)
        as_salesman = order.with_user(self.salesman)
        with self.assertRaisesRegex(AccessError, "Only a Sales administrator"):
            as_salesman.write(
                {"isp_coverage_override": True, "isp_coverage_override_reason": "x"}
            )
        with self.assertRaisesRegex(AccessError, "Only a Sales administrator"):
            self.env["sale.order"].with_user(self.salesman).create(
                {
                    "partner_id": self.eldoret.id,
                    "company_id": self.company.id,
                    "isp_coverage_override": True,
                    "isp_coverage_override_reason": "x",
                }
            )
        as_manager = order.with_user(self.sales_manager)
        with self.assertRaisesRegex(ValidationError, "give the reason"):
            as_manager.write({"isp_coverage_override": True})
        as_manager.write(
            {
                "isp_coverage_override": True,
                "isp_coverage_override_reason": "Radio link from the Nakuru mast",
            }
        )
        self.assertEqual(order.isp_coverage_override_user_id, self.sales_manager)
        # another delivery address: the override was for the former one
        order.partner_shipping_id = self._buyer("Chebet farm", city="Iten")
        self.assertFalse(order.isp_coverage_override)
        self.assertFalse(order.isp_coverage_override_reason)
        self.assertFalse(order.isp_coverage_override_user_id)
        with self.assertRaisesRegex(UserError, "outside the coverage areas"):
            as_salesman.action_confirm()
        as_manager.write(
            {
                "isp_coverage_override": True,
                "isp_coverage_override_reason": "Radio link from the Iten mast",
            }
        )
        as_salesman.action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(len(self._subscriptions(order)), 1)
        copy = order.copy()
        self.assertFalse(copy.isp_coverage_override, "not copied")

    # ------------------------------------------------------------------
    # Over JSON-RPC, as the web client calls it
    # ------------------------------------------------------------------

    def _call(self, model, method, args, context=None, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {
                    "context": {
                        "allowed_company_ids": self.company.ids,
                        **(context or {}),
                    },
                    **kwargs,
                },
            },
        )

    @mute_logger("odoo.http", "odoo.models")
    def test_salesman_cannot_override_over_jsonrpc(self):
        order = self._order([self.plan_fibre, self.install_fee], partner=self.eldoret)
        order.user_id = self.salesman
        self.authenticate("coverage_salesman", "coverage_salesman")
        override = {
            "isp_coverage_override": True,
            "isp_coverage_override_reason": "I say so",
        }
        for method, args, context in (
            ("write", [order.ids, override], None),
            ("write", [order.ids, {"isp_coverage_override_reason": "x"}], None),
            ("create", [{"partner_id": self.eldoret.id, **override}], None),
            (
                "create",
                [{"partner_id": self.eldoret.id}],
                {
                    "default_isp_coverage_override": True,
                    "default_isp_coverage_override_reason": "x",
                },
            ),
        ):
            with self.subTest(method=method, args=args, context=context):
                with self.assertRaisesRegex(
                    JsonRpcException, "odoo.exceptions.AccessError"
                ):
                    self._call("sale.order", method, args, context=context)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.UserError"):
            self._call("sale.order", "action_confirm", [order.ids])
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.isp_coverage_override)
        self.assertFalse(self._subscriptions(order))
        self.assertFalse(
            self.env["sale.order"].search(
                [("partner_id", "=", self.eldoret.id), ("id", "!=", order.id)]
            )
        )
        # the manager allows it, the salesman confirms
        self.authenticate("coverage_manager", "coverage_manager")
        self._call("sale.order", "write", [order.ids, override])
        self.authenticate("coverage_salesman", "coverage_salesman")
        self._call("sale.order", "action_confirm", [order.ids])
        order.invalidate_recordset()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.isp_coverage_override_user_id, self.sales_manager)

    @mute_logger("odoo.http", "odoo.models")
    def test_salesman_reads_only_the_areas_of_their_companies(self):
        self.authenticate("coverage_salesman", "coverage_salesman")
        areas = self._call("isp.coverage.area", "search_read", [[], ["name"]])
        self.assertEqual(
            {area["id"] for area in areas},
            set((self.cbd | self.nairobi | self.coast_area).ids),
        )
        for model, method, args in (
            ("isp.coverage.area", "read", [self.kisumu.ids, ["name"]]),
            ("isp.coverage.rule", "read", [self.kisumu.rule_ids.ids, ["cities"]]),
            ("isp.coverage.area", "write", [self.nairobi.ids, {"active": False}]),
            (
                "isp.coverage.rule",
                "write",
                [self.nairobi.rule_ids.ids, {"cities": "x"}],
            ),
            ("isp.coverage.area", "create", [{"name": "Mine"}]),
        ):
            with self.subTest(model=model, method=method):
                with self.assertRaisesRegex(
                    JsonRpcException, "odoo.exceptions.AccessError"
                ):
                    self._call(model, method, args)
        self.assertTrue(self.nairobi.active)
        # the salesman reads the coverage of their company's leads
        lead = self._lead(city="Westlands", country_id=self.kenya.id)
        (values,) = self._call(
            "crm.lead",
            "read",
            [lead.ids, ["isp_coverage_state", "isp_coverage_area_id"]],
        )
        self.assertEqual(values["isp_coverage_state"], "covered")
        self.assertEqual(values["isp_coverage_area_id"][0], self.nairobi.id)
