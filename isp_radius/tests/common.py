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
from pyrad.client import Client

from odoo import Command

from odoo.addons.isp_billing.tests.common import IspBillingCommon
from odoo.addons.isp_radius.models.isp_radius import _dictionary

REPO_TESTS = Path(__file__).resolve().parents[2] / "tests"


def radius_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: the isp_radius tests need the FreeRADIUS that "
            "tests/run starts; run them through tests/run"
        )
    return value


def nas_simulator_module():
    """The NAS simulator of the repository's tests/ (a pyrad CoA server)."""
    if str(REPO_TESTS) not in sys.path:
        sys.path.insert(0, str(REPO_TESTS))
    import nas_simulator  # noqa: PLC0415

    return nas_simulator


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

    def radius_client(self, secret=None):
        client = Client(
            server="127.0.0.1",
            authport=self.auth_port,
            acctport=self.acct_port,
            secret=(secret or self.radius_secret).encode(),
            dict=_dictionary(),
        )
        client.timeout = 2
        client.retries = 1
        return client

    def authenticate(self, username, password):
        """PAP Access-Request; return ``(accepted, reply attributes)``."""
        client = self.radius_client()
        request = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=username)
        request["User-Password"] = request.PwCrypt(password)
        request["NAS-IP-Address"] = "127.0.0.1"
        reply = client.SendPacket(request)
        attributes = {key: reply[key] for key in reply.keys()}
        return reply.code == packet.AccessAccept, attributes

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
        """Send an Accounting-Request as a NAS does: the same NAS identification in
        every packet of a session, byte counters split into 32-bit octets and
        Gigawords (a NAS without Gigawords just never exceeds 2^32)."""
        client = self.radius_client()
        request = client.CreateAcctPacket(User_Name=username)
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = session_id
        request["NAS-IP-Address"] = "127.0.0.1"
        request["NAS-Port"] = 1
        request["Acct-Input-Octets"] = bytes_in % 2**32
        request["Acct-Input-Gigawords"] = bytes_in // 2**32
        request["Acct-Output-Octets"] = bytes_out % 2**32
        request["Acct-Output-Gigawords"] = bytes_out // 2**32
        request["Acct-Session-Time"] = session_time
        for name, value in extra.items():
            request[name.replace("_", "-")] = value
        reply = client.SendPacket(request)
        self.assertEqual(reply.code, packet.AccountingResponse)

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
