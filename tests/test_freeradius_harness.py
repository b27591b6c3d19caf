"""The RADIUS test infrastructure against the real FreeRADIUS that tests/run starts.

FreeRADIUS 3.2 on its PostgreSQL schema (ISP_RADIUS_* variables), the
NasClient of radius_services and the NAS simulator: what the tests of
isp_radius build on. Rows are inserted by hand, for users and groups named
``harness_*``, and removed afterwards.
"""

import os
import stat
import time
from pathlib import Path

import pytest
from pyrad import packet
from pyrad.client import Client, Timeout

import radius_services
from nas_simulator import LoginRejected, NasSimulator

REQUIRED_ENV = (
    "ISP_RADIUS_DSN",
    "ISP_RADIUS_AUTH_PORT",
    "ISP_RADIUS_ACCT_PORT",
    "ISP_RADIUS_SECRET",
    "ISP_RADIUS_DICTIONARY",
    "ISP_RADIUS_RADDB",
    "ISP_RADIUS_CONTROL",
)
GIB4 = 1 << 32
# A NAS-IP-Address no other test uses: Accounting-On closes all its sessions.
REBOOT_NAS_IP = "192.0.2.7"


@pytest.fixture(scope="session")
def radius_env():
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run these tests through tests/run, "
            "which starts FreeRADIUS"
        )
    return {name: os.environ[name] for name in REQUIRED_ENV}


def _cleanup(cr):
    cr.execute(
        r"""
        DELETE FROM radcheck WHERE username LIKE 'harness\_%%';
        DELETE FROM radreply WHERE username LIKE 'harness\_%%';
        DELETE FROM radusergroup WHERE username LIKE 'harness\_%%';
        DELETE FROM radgroupcheck WHERE groupname LIKE 'harness\_%%';
        DELETE FROM radgroupreply WHERE groupname LIKE 'harness\_%%';
        DELETE FROM radpostauth WHERE username LIKE 'harness\_%%';
        DELETE FROM radacct
         WHERE username LIKE 'harness\_%%' OR nasipaddress = %s;
        DELETE FROM nas WHERE shortname LIKE 'harness\_%%';
        """,
        [REBOOT_NAS_IP],
    )


@pytest.fixture
def cr(radius_env):
    """A cursor (autocommit) on the RADIUS database; harness_* rows removed after."""
    conn = radius_services.radius_connection(radius_env["ISP_RADIUS_DSN"])
    cursor = conn.cursor()
    _cleanup(cursor)
    try:
        yield cursor
    finally:
        _cleanup(cursor)
        conn.close()


@pytest.fixture
def nas(radius_env):
    return radius_services.nas_client()


@pytest.fixture
def simulator(radius_env):
    with NasSimulator(nas_identifier="harness-nas") as sim:
        yield sim


def add_user(cr, user, password, group=None, check=(), reply=()):
    """radcheck Cleartext-Password := password, more check / reply items, group."""
    rows = [("Cleartext-Password", ":=", password), *check]
    cr.executemany(
        "INSERT INTO radcheck (username, attribute, op, value) VALUES (%s, %s, %s, %s)",
        [(user, *row) for row in rows],
    )
    cr.executemany(
        "INSERT INTO radreply (username, attribute, op, value) VALUES (%s, %s, %s, %s)",
        [(user, *row) for row in reply],
    )
    if group:
        cr.execute(
            "INSERT INTO radusergroup (username, groupname, priority) "
            "VALUES (%s, %s, 1)",
            [user, group],
        )


def add_plan(cr, group, rate="10M/10M"):
    cr.executemany(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) "
        "VALUES (%s, %s, ':=', %s)",
        [
            (group, "Mikrotik-Rate-Limit", rate),
            (group, "Acct-Interim-Interval", "300"),
            (group, "Session-Timeout", "86400"),
        ],
    )


def radacct(cr, user):
    cr.execute(
        """
        SELECT acctsessionid, acctstarttime, acctstoptime, acctinputoctets,
               acctoutputoctets, acctsessiontime, acctterminatecause,
               host(framedipaddress), host(nasipaddress)
          FROM radacct WHERE username = %s ORDER BY radacctid
        """,
        [user],
    )
    names = (
        "session_id start stop input output session_time cause framed_ip nas_ip"
    ).split()
    return [dict(zip(names, row, strict=True)) for row in cr.fetchall()]


def dynauth(sim, code, secret=None, timeout=1.0, **attrs):
    """What Odoo does: a CoA-Request or Disconnect-Request to the NAS."""
    secret = secret or os.environ["ISP_RADIUS_SECRET"]
    client = Client(
        radius_services.LOOPBACK,
        coaport=sim.coa_port,
        secret=secret.encode(),
        dict=radius_services.load_dictionary(),
        retries=1,
        timeout=timeout,
    )
    pkt = client.CreateCoAPacket(code=code)
    for name, value in attrs.items():
        pkt[name.replace("_", "-")] = value
    try:
        reply = client.SendPacket(pkt)
    finally:
        client._CloseSocket()
    return reply.code, radius_services.reply_attributes(reply)


# --- authentication --------------------------------------------------------


class TestFreeRadiusAuth:
    def test_pap_accept_with_reply_attributes(self, cr, nas):
        add_plan(cr, "harness_plan")
        add_user(
            cr,
            "harness_pap",
            "s3cret pw",
            group="harness_plan",
            reply=[("Framed-IP-Address", ":=", "10.99.0.10")],
        )
        code, reply = nas.access_request("harness_pap", "s3cret pw")
        assert code == packet.AccessAccept
        assert reply["Mikrotik-Rate-Limit"] == ["10M/10M"]
        assert reply["Framed-IP-Address"] == ["10.99.0.10"]
        assert reply["Acct-Interim-Interval"] == [300]
        assert reply["Session-Timeout"] == [86400]

    def test_chap_accept_and_reject(self, cr, nas):
        add_plan(cr, "harness_plan", rate="20M/5M")
        add_user(cr, "harness_chap", "chap-pw", group="harness_plan")
        code, reply = nas.access_request("harness_chap", "chap-pw", chap=True)
        assert code == packet.AccessAccept
        assert reply["Mikrotik-Rate-Limit"] == ["20M/5M"]
        code, reply = nas.access_request("harness_chap", "wrong", chap=True)
        assert code == packet.AccessReject
        assert "Mikrotik-Rate-Limit" not in reply

    def test_wrong_password_rejected_fast_without_plan_attributes(self, cr, nas):
        add_plan(cr, "harness_plan")
        add_user(
            cr,
            "harness_badpw",
            "right",
            group="harness_plan",
            reply=[("Framed-IP-Address", ":=", "10.99.0.11")],
        )
        started = time.monotonic()
        code, reply = nas.access_request("harness_badpw", "wrong")
        elapsed = time.monotonic() - started
        assert code == packet.AccessReject
        # attr_filter.access_reject strips the plan; reject_delay = 0.
        assert "Mikrotik-Rate-Limit" not in reply
        assert "Framed-IP-Address" not in reply
        assert elapsed < 0.5, f"Access-Reject took {elapsed:.2f}s (reject_delay?)"

    def test_auth_type_reject(self, cr, nas):
        add_plan(cr, "harness_plan")
        add_user(
            cr,
            "harness_blocked",
            "pw",
            group="harness_plan",
            check=[("Auth-Type", ":=", "Reject")],
        )
        code, reply = nas.access_request("harness_blocked", "pw")
        assert code == packet.AccessReject
        assert "Mikrotik-Rate-Limit" not in reply

    def test_suspended_group_reject_keeps_reply_message(self, cr, nas):
        cr.execute(
            "INSERT INTO radgroupcheck (groupname, attribute, op, value) "
            "VALUES ('harness_suspended', 'Auth-Type', ':=', 'Reject')"
        )
        cr.execute(
            "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES "
            "('harness_suspended', 'Reply-Message', ':=', 'Account suspended')"
        )
        add_user(cr, "harness_suspended", "pw", group="harness_suspended")
        code, reply = nas.access_request("harness_suspended", "pw")
        assert code == packet.AccessReject
        assert reply.get("Reply-Message") == ["Account suspended"]

    def test_unknown_user_rejected(self, cr, nas):
        code, _reply = nas.access_request("harness_nobody", "pw")
        assert code == packet.AccessReject

    def test_post_auth_logs_without_passwords(self, cr, nas):
        add_user(cr, "harness_postauth", "topsecret")
        assert nas.access_request("harness_postauth", "topsecret").code == 2
        assert nas.access_request("harness_postauth", "wrongsecret").code == 3
        cr.execute(
            "SELECT reply, pass FROM radpostauth WHERE username = %s ORDER BY id",
            ["harness_postauth"],
        )
        assert cr.fetchall() == [("Access-Accept", ""), ("Access-Reject", "")]

    def test_wrong_secret_is_dropped_not_rejected(self, cr, nas):
        add_user(cr, "harness_secret", "pw")
        wrong = radius_services.nas_client(secret="not-the-secret", timeout=0.3)
        with pytest.raises(Timeout):
            wrong.access_request("harness_secret", "pw", retries=1)
        assert nas.access_request("harness_secret", "pw").code == packet.AccessAccept

    def test_sql_nas_client_needs_restart(self, cr, nas):
        """A NAS known only from the `nas` table counts after a restart."""
        add_user(cr, "harness_nas2", "pw")
        as_nas2 = radius_services.nas_client(
            source_ip="127.0.0.2", secret="harness-nas2-secret", timeout=0.3
        )
        cr.execute(
            "INSERT INTO nas (nasname, shortname, type, secret) "
            "VALUES ('127.0.0.2', 'harness_nas2', 'other', 'harness-nas2-secret')"
        )
        try:
            with pytest.raises(Timeout):  # read_clients: only at startup
                as_nas2.access_request("harness_nas2", "pw", retries=1)
            radius_services.restart_freeradius()
            code, _reply = as_nas2.access_request("harness_nas2", "pw")
            assert code == packet.AccessAccept
            assert nas.access_request("harness_nas2", "pw").code == 2
        finally:
            cr.execute("DELETE FROM nas WHERE shortname = 'harness_nas2'")
            radius_services.restart_freeradius()
        with pytest.raises(Timeout):
            as_nas2.access_request("harness_nas2", "pw", retries=1)


# --- accounting ----------------------------------------------------------------


class TestFreeRadiusAccounting:
    def test_start_interim_stop_with_gigawords(self, cr, nas):
        session = "harness-acct-1"
        assert nas.start("harness_acct", session, framed_ip="10.99.0.20") == 5
        [row] = radacct(cr, "harness_acct")
        assert row["session_id"] == session
        assert row["start"] is not None and row["stop"] is None
        assert row["framed_ip"] == "10.99.0.20"
        assert row["nas_ip"] == "127.0.0.1"

        code = nas.interim(
            "harness_acct",
            session,
            input_octets=1000,
            input_gigawords=1,
            output_octets=2000,
            output_gigawords=2,
            session_time=60,
        )
        assert code == packet.AccountingResponse
        [row] = radacct(cr, "harness_acct")
        assert (row["input"], row["output"]) == (GIB4 + 1000, 2 * GIB4 + 2000)
        assert row["stop"] is None

        nas.stop(
            "harness_acct",
            session,
            input_octets=5000,
            input_gigawords=3,
            output_octets=7000,
            output_gigawords=4,
            session_time=120,
        )
        [row] = radacct(cr, "harness_acct")  # one row: the same NAS identification
        assert (row["input"], row["output"]) == (12884906888, 17179876184)
        assert row["stop"] is not None
        assert row["cause"] == "User-Request"
        assert row["session_time"] == 120

    def test_simultaneous_use_counts_open_sessions(self, cr, nas):
        add_user(cr, "harness_simul", "pw", check=[("Simultaneous-Use", ":=", "1")])
        assert nas.access_request("harness_simul", "pw").code == 2
        nas.start("harness_simul", "harness-simul-1")
        code, reply = nas.access_request("harness_simul", "pw")
        assert code == packet.AccessReject
        assert reply["Reply-Message"] == ["You are already logged in - access denied"]
        nas.stop("harness_simul", "harness-simul-1", session_time=5)
        assert nas.access_request("harness_simul", "pw").code == 2

    def test_accounting_on_closes_the_nas_sessions(self, cr, nas):
        nas.start("harness_reboot", "harness-reboot-1", nas_ip=REBOOT_NAS_IP)
        nas.start("harness_reboot", "harness-reboot-2", nas_ip=REBOOT_NAS_IP)
        nas.start("harness_other", "harness-other-1")
        assert nas.accounting_on(nas_ip=REBOOT_NAS_IP) == 5
        rows = radacct(cr, "harness_reboot")
        assert len(rows) == 2
        assert all(row["stop"] and row["cause"] == "NAS-Reboot" for row in rows)
        [other] = radacct(cr, "harness_other")
        assert other["stop"] is None


# --- NAS simulator ---------------------------------------------------------------


class TestNasSimulator:
    def test_login_applies_the_plan_and_opens_a_session(self, cr, simulator):
        add_plan(cr, "harness_plan")
        add_user(cr, "harness_sim", "pw", group="harness_plan")
        session = simulator.login("harness_sim", "pw")
        assert session.rate == "10M/10M"
        assert simulator.session_of("harness_sim") is session
        [row] = radacct(cr, "harness_sim")
        assert row["session_id"] == session.session_id
        assert row["framed_ip"] == session.framed_ip
        assert row["stop"] is None
        with pytest.raises(LoginRejected):
            simulator.login("harness_sim", "wrong")

    def test_transfer_sends_cumulative_counters(self, cr, simulator):
        add_user(cr, "harness_sim", "pw")
        simulator.login("harness_sim", "pw")
        simulator.transfer("harness_sim", 3 * GIB4 + 10, 500)
        simulator.transfer("harness_sim", GIB4, 1500)
        [row] = radacct(cr, "harness_sim")
        assert (row["input"], row["output"]) == (4 * GIB4 + 10, 2000)
        simulator.logout("harness_sim")
        [row] = radacct(cr, "harness_sim")
        assert row["stop"] is not None and row["cause"] == "User-Request"
        assert simulator.session_of("harness_sim") is None

    def test_coa_changes_the_rate(self, cr, simulator):
        add_plan(cr, "harness_plan")
        add_user(cr, "harness_sim", "pw", group="harness_plan")
        session = simulator.login("harness_sim", "pw")
        code, _reply = dynauth(
            simulator,
            packet.CoARequest,
            User_Name="harness_sim",
            Acct_Session_Id=session.session_id,
            Mikrotik_Rate_Limit="2M/2M",
        )
        assert code == packet.CoAACK
        assert session.rate == "2M/2M"
        [request] = simulator.received
        assert request.code == packet.CoARequest
        assert request.reply_code == packet.CoAACK
        assert request.attributes["Mikrotik-Rate-Limit"] == ["2M/2M"]

    def test_disconnect_ack_then_stop_in_radacct(self, cr, simulator):
        add_user(cr, "harness_sim", "pw")
        session = simulator.login("harness_sim", "pw")
        simulator.transfer("harness_sim", 1000, 2000)
        code, _reply = dynauth(
            simulator, packet.DisconnectRequest, Framed_IP_Address=session.framed_ip
        )
        assert code == packet.DisconnectACK
        rows = radius_services.wait_for(
            lambda: [r for r in radacct(cr, "harness_sim") if r["stop"]], timeout=2
        )
        assert rows, "no Stop in radacct 2s after the Disconnect-ACK"
        assert rows[0]["cause"] == "Admin-Reset"
        assert (rows[0]["input"], rows[0]["output"]) == (1000, 2000)
        code, reply = dynauth(
            simulator, packet.DisconnectRequest, User_Name="harness_sim"
        )
        assert code == packet.DisconnectNAK
        assert reply["Error-Cause"] == ["Session-Context-Not-Found"]

    def test_unknown_session_and_foreign_nas(self, cr, simulator):
        add_user(cr, "harness_sim", "pw")
        simulator.login("harness_sim", "pw")
        code, reply = dynauth(
            simulator,
            packet.CoARequest,
            User_Name="harness_ghost",
            Mikrotik_Rate_Limit="1M/1M",
        )
        assert (code, reply["Error-Cause"]) == (
            packet.CoANAK,
            ["Session-Context-Not-Found"],
        )
        code, reply = dynauth(
            simulator,
            packet.DisconnectRequest,
            User_Name="harness_sim",
            NAS_IP_Address="10.255.255.1",
        )
        assert (code, reply["Error-Cause"]) == (
            packet.DisconnectNAK,
            ["NAS-Identification-Mismatch"],
        )
        assert simulator.session_of("harness_sim") is not None

    def test_scripted_nak_and_timeout(self, cr, simulator):
        add_user(cr, "harness_sim", "pw")
        session = simulator.login("harness_sim", "pw")
        simulator.script["coa"] = "nak"
        code, reply = dynauth(
            simulator,
            packet.CoARequest,
            User_Name="harness_sim",
            Mikrotik_Rate_Limit="1M/1M",
        )
        assert code == packet.CoANAK
        assert reply["Error-Cause"] == ["Administratively-Prohibited"]
        assert session.rate is None

        simulator.user_script["harness_sim"] = {"disconnect": "timeout"}
        with pytest.raises(Timeout):
            dynauth(
                simulator,
                packet.DisconnectRequest,
                User_Name="harness_sim",
                timeout=0.3,
            )
        assert simulator.received[-1].code == packet.DisconnectRequest
        assert simulator.received[-1].reply_code is None
        assert simulator.session_of("harness_sim") is session

        del simulator.user_script["harness_sim"]
        code, _reply = dynauth(
            simulator, packet.DisconnectRequest, User_Name="harness_sim"
        )
        assert code == packet.DisconnectACK

    def test_wrong_secret_times_out(self, cr, simulator):
        add_user(cr, "harness_sim", "pw")
        simulator.login("harness_sim", "pw")
        with pytest.raises(Timeout):
            dynauth(
                simulator,
                packet.DisconnectRequest,
                secret="not-the-secret",
                timeout=0.3,
                User_Name="harness_sim",
            )
        assert simulator.received == []
        assert simulator.dropped
        assert simulator.session_of("harness_sim") is not None
        assert [r["stop"] for r in radacct(cr, "harness_sim")] == [None]


# --- the files ---------------------------------------------------------------


class TestHarnessFiles:
    def test_server_runs_from_a_private_copy(self, radius_env):
        raddb = Path(radius_env["ISP_RADIUS_RADDB"])
        assert radius_services.RADDB_SOURCE not in raddb.parents
        assert (raddb / "radiusd.conf").is_file()
        for path in [raddb, *raddb.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if path.is_dir():
                assert mode == 0o750, path
            elif path.suffix != ".log" and path.suffix != ".sock":
                assert mode == 0o640, path
        # The repository's copy stays pristine: nothing is written into it.
        for name in ("log", "run"):
            entries = sorted(
                p.name for p in (radius_services.RADDB_SOURCE / name).iterdir()
            )
            assert entries == [".gitkeep"], entries

    def test_schema_copy_is_freeradius_own(self):
        copy = (
            radius_services.RADDB_SOURCE / "mods-config/sql/main/postgresql/schema.sql"
        )
        assert copy.read_bytes() == radius_services.SCHEMA_SQL.read_bytes()

    def test_dictionary_is_verbatim_and_loads(self, radius_env):
        path = Path(radius_env["ISP_RADIUS_DICTIONARY"])
        for copy in path.parent.glob("dictionary.*"):
            original = Path("/usr/share/freeradius") / copy.name
            assert copy.read_bytes() == original.read_bytes(), copy.name
            assert b"CC-BY version 4.0" in copy.read_bytes()
        radius_dict = radius_services.load_dictionary(path)
        rate = radius_dict.attributes["Mikrotik-Rate-Limit"]
        assert (rate.vendor, rate.code) == ("Mikrotik", 8)
        wispr = radius_dict.attributes["WISPr-Bandwidth-Max-Down"]
        assert (wispr.vendor, wispr.code) == ("WISPr", 8)
        assert radius_dict.attributes["User-Password"].encrypt == 1
        for name in ("Acct-Input-Gigawords", "Error-Cause", "Delegated-IPv6-Prefix"):
            assert name in radius_dict.attributes
