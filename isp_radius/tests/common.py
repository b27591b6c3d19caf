# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Tests against the real FreeRADIUS that ``tests/run`` starts.

``tests/run`` creates a FreeRADIUS database with FreeRADIUS's own schema, starts
FreeRADIUS on 127.0.0.1 and passes where to find them in ``ISP_RADIUS_*``
environment variables. Here the tests act as the NAS: they send real
Access-Request and Accounting-Request packets with pyrad.
"""

import os
import sys
import time
import uuid
from pathlib import Path

import psycopg2
from pyrad import packet

from odoo import Command

from odoo.addons.isp_billing.tests.common import IspBillingCommon

REPO_TESTS = Path(__file__).resolve().parents[2] / "tests"


def radius_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: the isp_radius tests need the FreeRADIUS that "
            "tests/run starts; run them through tests/run"
        )
    return value


def _repo_tests_on_path():
    if str(REPO_TESTS) not in sys.path:
        sys.path.insert(0, str(REPO_TESTS))


def nas_simulator_module():
    """The NAS simulator of the repository's tests/ (a pyrad CoA server)."""
    _repo_tests_on_path()
    import nas_simulator  # noqa: PLC0415

    return nas_simulator


def radius_services_module():
    """The FreeRADIUS helpers of the repository's tests/ (a NAS client)."""
    _repo_tests_on_path()
    import radius_services  # noqa: PLC0415

    return radius_services


COA_SECRET = "nas-coa-secret"


class IspRadiusCommon(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.radius_dsn = radius_env("ISP_RADIUS_DSN")
        cls.auth_port = int(radius_env("ISP_RADIUS_AUTH_PORT"))
        cls.acct_port = int(radius_env("ISP_RADIUS_ACCT_PORT"))
        cls.radius_secret = radius_env("ISP_RADIUS_SECRET")
        cls.company.write(
            {
                "isp_radius_dsn": cls.radius_dsn,
                "isp_radius_suspend_policy": "reject",
                "isp_radius_interim_interval": 300,
            }
        )
        cls.overage = cls._isp_product("Extra data (1 GB)", 100.0)
        cls.plan_overage = cls._isp_plan(
            "5 GB Overage", 1500.0, down=20, up=10, allowance=5.0
        )
        cls.plan_overage.product_tmpl_id.write(
            {
                "isp_usage_policy": "overage",
                "isp_overage_product_id": cls.overage.id,
                "isp_overage_block_gb": 1.0,
            }
        )
        cls.plan_fup = cls._isp_plan(
            "10 GB Fair use", 2000.0, down=20, up=20, allowance=10.0
        )
        cls.plan_fup.product_tmpl_id.write(
            {
                "isp_usage_policy": "fup",
                "isp_fup_download_mbps": 1.0,
                "isp_fup_upload_mbps": 0.5,
            }
        )

    # -- the RADIUS database, as FreeRADIUS sees it ---------------------------

    def radius_query(self, query, params=()):
        connection = psycopg2.connect(self.radius_dsn)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else cursor.rowcount
        finally:
            connection.close()

    def radius_rows(self, username):
        rows = set()
        for table in ("radcheck", "radreply"):
            for attribute, op, value in self.radius_query(
                f"SELECT attribute, op, value FROM {table} WHERE username = %s",  # noqa: S608
                [username],
            ):
                rows.add((table, attribute, op, value))
        for (group,) in self.radius_query(
            "SELECT groupname FROM radusergroup WHERE username = %s", [username]
        ):
            rows.add(("radusergroup", group))
        return rows

    # -- acting as a NAS towards FreeRADIUS -------------------------------------

    def authenticate(self, username, password):
        """PAP Access-Request; return ``(accepted, reply attributes)``."""
        reply = radius_services_module().nas_client().access_request(username, password)
        return reply.code == packet.AccessAccept, reply.attributes

    def accounting(
        self,
        status,
        username,
        session_id,
        bytes_in=0,
        bytes_out=0,
        session_time=0,
        **extra,
    ):
        """An Accounting-Request as a NAS sends it, byte counts split into
        32-bit octets and Gigawords (a NAS without Gigawords never exceeds 2^32)."""
        split = radius_services_module().octets_and_gigawords
        (in_octets, in_giga), (out_octets, out_giga) = split(bytes_in), split(bytes_out)
        code = (
            radius_services_module()
            .nas_client()
            .accounting(
                status,
                username,
                session_id,
                input_octets=in_octets,
                input_gigawords=in_giga,
                output_octets=out_octets,
                output_gigawords=out_giga,
                session_time=session_time,
                **extra,
            )
        )
        self.assertEqual(code, packet.AccountingResponse)

    def wait_for(self, predicate, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    # -- subscriptions -----------------------------------------------------------

    @classmethod
    def _create_subscription(
        cls, plan, start, anchor=None, partner=None, extra_lines=(), **vals
    ):
        """A subscription whose RADIUS username is new to the RADIUS database,
        whatever earlier runs left there (pass ``radius_username=False`` for the
        default one)."""
        vals.setdefault("radius_username", f"t{uuid.uuid4().hex[:12]}")
        return super()._create_subscription(
            plan, start, anchor=anchor, partner=partner, extra_lines=extra_lines, **vals
        )

    def _provisioned(self, plan, start="2026-11-01", **vals):
        """An active subscription written to FreeRADIUS."""
        sub = self._create_subscription(plan, self.d(start), **vals)
        sub.action_activate()
        sub._radius_sync()
        return sub

    def _add_line(self, sub, product):
        sub.line_ids = [Command.create({"product_id": product.id})]

    def _start_nas(self, name):
        """A NAS simulator taking CoA / Disconnect on 127.0.0.1 for this test
        (``self.nas``, stopped at the end), and its NAS record ``name`` in the
        company, with the simulator's port and ``COA_SECRET``."""
        simulator = nas_simulator_module().NasSimulator(coa_secret=COA_SECRET)
        simulator.run_in_thread()
        self.addCleanup(simulator.stop)
        self.nas = simulator
        return self.env["isp.radius.nas"].create(
            {
                "name": name,
                "ip_address": "127.0.0.1",
                "secret": COA_SECRET,
                "nas_type": "mikrotik",
                "coa_port": simulator.coa_port,
                "company_id": self.company.id,
            }
        )
