"""A real FreeRADIUS 3.2 on PostgreSQL for the tests, and a NAS-like client.

``tests/run`` starts one FreeRADIUS per run (``test_services()``) on a fresh
database with FreeRADIUS's own schema, and exports to the Odoo test process
and to pytest:

==========================  ====================================================
``ISP_RADIUS_DSN``          libpq conninfo of the RADIUS database
                            (``dbname=isp_radius_... host=/var/run/postgresql``)
``ISP_RADIUS_DB``           its name
``ISP_RADIUS_HOST``         ``127.0.0.1``
``ISP_RADIUS_AUTH_PORT``    FreeRADIUS's auth port (UDP, a free one per run)
``ISP_RADIUS_ACCT_PORT``    its accounting port (auth port + 1)
``ISP_RADIUS_SECRET``       the shared secret of the client 127.0.0.1
``ISP_RADIUS_DICTIONARY``   the pyrad dictionary (isp_radius/radius_dictionary)
``ISP_RADIUS_RADDB``        the server's config directory (a per-run copy)
``ISP_RADIUS_LOG``          the server's output (``-f -l stdout``)
``ISP_RADIUS_CONTROL``      Unix socket of tests/run: ``restart_freeradius()``
``ISP_TESTS_DIR``           this directory, to import these helpers
==========================  ====================================================

From an Odoo test (the module is not a package; put ``tests/`` on the path)::

    sys.path.insert(0, os.environ["ISP_TESTS_DIR"])
    import radius_services

    nas = radius_services.nas_client()
    code, reply = nas.access_request("alice", "secret")
    nas.start("alice", "sess-1")

FreeRADIUS reads the SQL ``nas`` table only at startup: after changing it,
call ``radius_services.restart_freeradius()`` (it asks tests/run, which owns
the process, to restart it on the same ports; about 0.1 s).

Only the standard library, psycopg2 and pyrad are used. Background:
shared facts/freeradius.md and tests/freeradius/README.md.
"""

import functools
import hashlib
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import zlib
from collections import namedtuple
from pathlib import Path

import psycopg2
from psycopg2 import sql
from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
# The repository's config directory; never run from it (see FreeRadius).
RADDB_SOURCE = TESTS_DIR / "freeradius" / "raddb"
# FreeRADIUS's own PostgreSQL schema, as Debian installs it (unmodified).
SCHEMA_SQL = Path("/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql")
DICTIONARY_PATH = REPO_ROOT / "isp_radius" / "radius_dictionary" / "dictionary"
LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 10.0  # seconds from exec to an answered Status-Server
# The RADIUS tables of FreeRADIUS's schema.
RADIUS_TABLES = (
    "radcheck",
    "radreply",
    "radusergroup",
    "radgroupcheck",
    "radgroupreply",
    "radacct",
    "radpostauth",
    "nas",
)

Reply = namedtuple("Reply", "code attributes")
Reply.__doc__ = """A RADIUS reply: the code and {attribute name: [values]}."""


class FreeRadiusError(Exception):
    """FreeRADIUS did not start, stopped, or could not be restarted."""


# --- PostgreSQL -------------------------------------------------------------


def _conninfo_value(value):
    value = str(value)
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(dbname, **params):
    """A libpq conninfo string for ``dbname`` on the local PostgreSQL.

    The Unix socket (``/var/run/postgresql``) with peer authentication unless
    PGHOST, PGPORT, PGUSER or PGPASSWORD say otherwise; ``params`` override.
    FreeRADIUS (FR_DB) and psycopg2 both take it.
    """
    values = {
        "dbname": dbname,
        "host": os.environ.get("PGHOST") or "/var/run/postgresql",
    }
    for key, variable in (
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
    ):
        if os.environ.get(variable):
            values[key] = os.environ[variable]
    values.update(params)
    return " ".join(f"{key}={_conninfo_value(value)}" for key, value in values.items())


def _check_db_name(name):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ValueError(f"invalid RADIUS database name {name!r}")
    return name


def _admin_execute(statement):
    conn = psycopg2.connect(conninfo("postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute(statement)
    finally:
        conn.close()


def create_radius_db(name, schema=SCHEMA_SQL):
    """CREATE DATABASE ``name`` with FreeRADIUS's PostgreSQL schema; its conninfo."""
    _check_db_name(name)
    schema = Path(schema)
    if not schema.is_file():
        raise FreeRadiusError(
            f"{schema} is missing: apt-get install freeradius freeradius-postgresql"
        )
    _admin_execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = conninfo(name)
    try:
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as cr:
                cr.execute(schema.read_text(encoding="utf-8"))
        finally:
            conn.close()
    except BaseException:
        drop_radius_db(name)
        raise
    return dsn


def drop_radius_db(name):
    """DROP DATABASE ``name`` (if it exists), closing its connections."""
    _check_db_name(name)
    _admin_execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def radius_connection(dsn=None):
    """A psycopg2 connection (autocommit) to the RADIUS database of the run."""
    conn = psycopg2.connect(dsn or _env("ISP_RADIUS_DSN"))
    conn.autocommit = True
    return conn


def wait_for(predicate, timeout=2.0, interval=0.05):
    """Poll ``predicate()`` until it returns a true value (returned) or ``timeout``.

    For what a NAS does after its answer, e.g. the Accounting Stop that
    follows a Disconnect-ACK. Returns the last (false) value on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --- pyrad ------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load_dictionary(path):
    # The only warning while loading is "Skipped 1 unsupported dictionary
    # attributes (data type vsa)", Vendor-Specific itself: harmless, and a
    # WARNING in Odoo's log fails tests/run.
    logging.getLogger("pyrad").setLevel(logging.ERROR)
    return Dictionary(path)


def load_dictionary(path=None):
    """The pyrad Dictionary of isp_radius (loaded once per path)."""
    path = path or os.environ.get("ISP_RADIUS_DICTIONARY") or DICTIONARY_PATH
    return _load_dictionary(str(path))


def reply_attributes(pkt):
    """{attribute name: [values]} of a decoded pyrad packet."""
    return {str(key): list(pkt[key]) for key in pkt.keys()}


def octets_and_gigawords(total):
    """Split a byte count into (Acct-*-Octets, Acct-*-Gigawords) (RFC 2869)."""
    return total & 0xFFFFFFFF, total >> 32


def chap_password(password, challenge, chap_id=None):
    """CHAP-Password (RFC 1994 / RFC 2865 §5.3): id + MD5(id + password + challenge)."""
    chap_id = chap_id if chap_id is not None else os.urandom(1)
    if isinstance(password, str):
        password = password.encode()
    return chap_id + hashlib.md5(chap_id + password + challenge).digest()


def _attribute_name(name):
    return name.replace("_", "-")


# --- free ports -------------------------------------------------------------


def _ephemeral_range():
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _udp_port_free(port, host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_udp_port_pair(host=LOOPBACK, attempts=200):
    """Two consecutive UDP ports free on ``host`` (auth, acct).

    Chosen below the kernel's ephemeral range, so that the client sockets of
    the tests never take them, not even while FreeRADIUS restarts.
    """
    low = _ephemeral_range()[0]
    first, last = (20000, low - 2) if low > 20100 else (10000, 19998)
    rng = random.Random()
    for _ in range(attempts):
        port = rng.randrange(first, last)
        if _udp_port_free(port, host) and _udp_port_free(port + 1, host):
            return port, port + 1
    raise FreeRadiusError(f"no two consecutive free UDP ports on {host}")


# --- FreeRADIUS -------------------------------------------------------------


def _copy_raddb(source, target):
    """Copy the config directory with modes FreeRADIUS accepts (0750 / 0640)."""
    shutil.copytree(source, target, symlinks=False)
    for root, dirs, files in os.walk(target):
        os.chmod(root, 0o750)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o750)
        for name in files:
            os.chmod(os.path.join(root, name), 0o640)


class FreeRadius:
    """``freeradius -d <copy of raddb> -f -l stdout`` on 127.0.0.1.

    The repository's ``tests/freeradius/raddb`` is copied to a temporary
    directory on the first start (FreeRADIUS refuses config files writable by
    others and writes into ``log/``); the copy is ``raddb`` and is removed by
    :meth:`close`. The server's output goes to ``log_path`` (default
    ``<raddb>/log/freeradius.log``).

    Attributes: ``auth_port``, ``acct_port``, ``secret``, ``dsn``,
    ``log_path``, ``raddb``, ``proc``.
    """

    def __init__(
        self,
        dsn,
        *,
        secret=None,
        auth_port=None,
        log_path=None,
        raddb_source=RADDB_SOURCE,
        binary=None,
        ready_timeout=READY_TIMEOUT,
    ):
        self.dsn = dsn
        self.secret = secret or secrets.token_hex(12)
        self.auth_port = auth_port
        self.acct_port = auth_port + 1 if auth_port else None
        self.log_path = Path(log_path) if log_path else None
        self.raddb_source = Path(raddb_source)
        self.binary = binary or shutil.which("freeradius") or "/usr/sbin/freeradius"
        self.ready_timeout = ready_timeout
        self.work_dir = None
        self.raddb = None
        self.proc = None
        self.control = None
        self._log_file = None
        self._log_offset = 0
        self._lock = threading.RLock()

    # environment --------------------------------------------------------

    def environment(self):
        """The process environment: all four FR_* variables, always.

        An unset $ENV{X} silently becomes "" in FreeRADIUS, and "port = "
        means the standard ports 1812/1813.
        """
        return {
            **os.environ,
            "FR_AUTH_PORT": str(self.auth_port),
            "FR_ACCT_PORT": str(self.acct_port),
            "FR_SECRET": self.secret,
            "FR_DB": self.dsn,
        }

    def exports(self):
        """The ISP_RADIUS_* variables that tell tests where this server is."""
        env = {
            "ISP_RADIUS_DSN": self.dsn,
            "ISP_RADIUS_HOST": LOOPBACK,
            "ISP_RADIUS_AUTH_PORT": str(self.auth_port),
            "ISP_RADIUS_ACCT_PORT": str(self.acct_port),
            "ISP_RADIUS_SECRET": self.secret,
            "ISP_RADIUS_DICTIONARY": str(DICTIONARY_PATH),
            "ISP_RADIUS_RADDB": str(self.raddb),
            "ISP_RADIUS_LOG": str(self.log_path),
        }
        if self.control is not None:
            env["ISP_RADIUS_CONTROL"] = self.control.path
        return env

    # lifecycle ----------------------------------------------------------

    def _prepare(self):
        if self.raddb is not None:
            return
        self.work_dir = Path(tempfile.mkdtemp(prefix="isp-freeradius-"))
        self.raddb = self.work_dir / "raddb"
        _copy_raddb(self.raddb_source, self.raddb)
        if self.log_path is None:
            self.log_path = self.raddb / "log" / "freeradius.log"

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Start the server and wait until it answers Status-Server.

        Free ports are picked on the first start (and again if they were taken
        in the meantime); a restart keeps them. Raises FreeRadiusError with the
        end of the log when the server exits or does not answer in time.
        """
        with self._lock:
            if self.running:
                return self
            self._prepare()
            fixed_ports = self.auth_port is not None
            for attempt in range(1 if fixed_ports else 3):
                if not fixed_ports:
                    self.auth_port, self.acct_port = free_udp_port_pair()
                try:
                    self._spawn()
                    return self
                except FreeRadiusError:
                    in_use = "Address already in use" in self._log_since_start()
                    if fixed_ports or not in_use or attempt == 2:
                        raise
            return self

    def _spawn(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._log_offset = self._log_file.tell()
        cmd = [self.binary, "-d", str(self.raddb), "-f", "-l", "stdout"]
        self._log_file.write(
            f"### {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)} "
            f"(auth {self.auth_port}, acct {self.acct_port})\n"
        )
        self._log_file.flush()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=self.environment(),
            cwd=self.work_dir,
        )
        try:
            self._wait_ready()
        except BaseException:
            self._terminate()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        client = Client(
            LOOPBACK,
            authport=self.auth_port,
            acctport=self.acct_port,
            secret=self.secret.encode(),
            dict=load_dictionary(),
            retries=1,
            timeout=0.1,
        )
        try:
            while True:
                returncode = self.proc.poll()
                if returncode is not None:
                    raise FreeRadiusError(
                        f"freeradius exited with status {returncode} at startup; "
                        f"the end of {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    status = client.CreateAuthPacket(code=packet.StatusServer)
                    if client.SendPacket(status).code == packet.AccessAccept:
                        return
                except (Timeout, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise FreeRadiusError(
                        "freeradius did not answer Status-Server on "
                        f"{LOOPBACK}:{self.auth_port} within "
                        f"{self.ready_timeout:.0f}s; "
                        f"the end of {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(0.02)
        finally:
            client._CloseSocket()

    def _terminate(self, timeout=10):
        returncode = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            returncode = self.proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return returncode

    def stop(self, timeout=10):
        """SIGTERM and wait (SIGKILL after ``timeout``); the exit status."""
        with self._lock:
            return self._terminate(timeout)

    def restart(self):
        """Stop and start again on the same ports, e.g. after ``nas`` changes.

        FreeRADIUS reads SQL clients only at startup; a SIGHUP does not
        reload them.
        """
        with self._lock:
            self.stop()
            return self.start()

    def close(self):
        """Stop the server and the control socket, remove the temporary copy."""
        with self._lock:
            if self.control is not None:
                self.control.close()
                self.control = None
            self.stop()
            if self.work_dir is not None:
                shutil.rmtree(self.work_dir, ignore_errors=True)
                self.work_dir = self.raddb = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()

    def _log_since_start(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                log.seek(self._log_offset)
                return log.read()
        except OSError:
            return ""

    def log_tail(self, lines=40):
        """The last ``lines`` lines of the server's output."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, AttributeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # control socket -----------------------------------------------------

    def serve_control(self):
        """Accept restart requests from other processes (``restart_freeradius``).

        The process that started FreeRADIUS owns it; tests in the Odoo process
        or in pytest ask it to restart through this Unix socket.
        """
        with self._lock:
            self._prepare()
            if self.control is None:
                self.control = _ControlServer(self, str(self.work_dir / "control.sock"))
            return self.control.path


class _ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        command = self.rfile.readline(200).decode("ascii", "replace").strip()
        radius = self.server.radius
        if command == "restart":
            try:
                radius.restart()
                answer = "ok"
            except Exception as exc:  # reported to the requesting test
                answer = "error " + " | ".join(str(exc).splitlines())
        elif command == "status":
            answer = "ok" if radius.running else "error not running"
        else:
            answer = f"error unknown command {command!r}"
        self.wfile.write((answer + "\n").encode())


class _ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, radius, path):
        super().__init__(path, _ControlHandler)
        os.chmod(path, 0o600)
        self.radius = radius
        self.path = path
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="freeradius-control",
            daemon=True,
        )
        self._thread.start()

    def close(self):
        self.shutdown()
        self.server_close()
        self._thread.join()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def restart_freeradius(control=None, timeout=30):
    """Ask the owner of the run's FreeRADIUS (tests/run) to restart it.

    Same ports, secret and database; returns once the new process answers
    Status-Server. Needed after changes to the SQL ``nas`` table.
    """
    path = control or _env("ISP_RADIUS_CONTROL")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(b"restart\n")
        answer = sock.makefile("rb").readline().decode().strip()
    if answer != "ok":
        raise FreeRadiusError(f"restarting FreeRADIUS failed: {answer or 'no answer'}")


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise FreeRadiusError(
            f"{name} is not set: run the tests through tests/run, which starts "
            "FreeRADIUS (docs/testing.md)"
        )
    return value


# --- a NAS towards FreeRADIUS -----------------------------------------------


class NasClient:
    """Sends what a NAS sends to FreeRADIUS: Access-Request and accounting.

    Every packet carries the same NAS identification (NAS-IP-Address,
    NAS-Identifier, NAS-Port-Type and a NAS-Port derived from the session
    id), because FreeRADIUS's Acct-Unique-Session-Id hashes them: a session
    whose packets differ there is split into several radacct rows.

    ``source_ip`` binds the client socket, e.g. to ``127.0.0.2`` to act as a
    NAS that is known only from the SQL ``nas`` table. Thread-safe: each
    request uses its own socket.
    """

    def __init__(
        self,
        *,
        auth_port,
        acct_port,
        secret,
        server=LOOPBACK,
        dictionary=None,
        nas_ip="127.0.0.1",
        nas_identifier="isp-test-nas",
        nas_port_type="Ethernet",
        source_ip=None,
        timeout=2.0,
        retries=2,
    ):
        self.server = server
        self.auth_port = int(auth_port)
        self.acct_port = int(acct_port)
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.dictionary = dictionary or load_dictionary()
        self.nas_ip = nas_ip
        self.nas_identifier = nas_identifier
        self.nas_port_type = nas_port_type
        self.source_ip = source_ip
        self.timeout = timeout
        self.retries = retries

    def _send(self, build, timeout=None, retries=None):
        client = Client(
            self.server,
            authport=self.auth_port,
            acctport=self.acct_port,
            secret=self.secret,
            dict=self.dictionary,
            retries=self.retries if retries is None else retries,
            timeout=self.timeout if timeout is None else timeout,
        )
        try:
            if self.source_ip:
                client.bind((self.source_ip, 0))
            reply = client.SendPacket(build(client))
        finally:
            client._CloseSocket()
        return Reply(reply.code, reply_attributes(reply))

    @staticmethod
    def _apply(pkt, attrs):
        for name, value in attrs.items():
            if value is not None:
                pkt[_attribute_name(name)] = value

    def access_request(self, user, password, chap=False, **attrs):
        """PAP (or CHAP) Access-Request; a ``Reply(code, attributes)``.

        ``attrs`` are more attributes (``Calling_Station_Id="..."`` or
        ``**{"Calling-Station-Id": ...}``); ``timeout`` / ``retries`` keywords
        override the client's for this request. Raises pyrad's ``Timeout``
        when FreeRADIUS does not answer (e.g. a wrong secret).
        """
        timeout = attrs.pop("timeout", None)
        retries = attrs.pop("retries", None)

        def build(client):
            pkt = client.CreateAuthPacket(code=packet.AccessRequest)
            pkt["User-Name"] = user
            if chap:
                challenge = os.urandom(16)
                pkt["CHAP-Password"] = chap_password(password, challenge)
                pkt["CHAP-Challenge"] = challenge
            else:
                pkt["User-Password"] = pkt.PwCrypt(password)
            self._apply(
                pkt,
                {
                    "NAS-IP-Address": self.nas_ip,
                    "NAS-Identifier": self.nas_identifier,
                    "NAS-Port-Type": self.nas_port_type,
                    "Service-Type": "Framed-User",
                    **attrs,
                },
            )
            return pkt

        return self._send(build, timeout, retries)

    @staticmethod
    def nas_port(session_id):
        """The NAS-Port of a session: the same for all its packets."""
        return zlib.crc32(str(session_id).encode()) % 65536

    def accounting(
        self,
        status,
        user,
        session_id,
        *,
        nas_ip=None,
        input_octets=None,
        output_octets=None,
        input_gigawords=None,
        output_gigawords=None,
        session_time=None,
        terminate_cause=None,
        framed_ip=None,
        **attrs,
    ):
        """An Accounting-Request; the reply code (5, Accounting-Response)."""
        timeout = attrs.pop("timeout", None)
        retries = attrs.pop("retries", None)
        values = {
            "Acct-Status-Type": status,
            "User-Name": user,
            "Acct-Session-Id": session_id,
            "NAS-IP-Address": nas_ip or self.nas_ip,
            "NAS-Identifier": self.nas_identifier,
            "NAS-Port": self.nas_port(session_id),
            "NAS-Port-Type": self.nas_port_type,
            "Framed-IP-Address": framed_ip,
            "Acct-Input-Octets": input_octets,
            "Acct-Output-Octets": output_octets,
            "Acct-Input-Gigawords": input_gigawords,
            "Acct-Output-Gigawords": output_gigawords,
            "Acct-Session-Time": session_time,
            "Acct-Terminate-Cause": terminate_cause,
            "Acct-Delay-Time": 0,
            "Event-Timestamp": int(time.time()),
            **attrs,
        }

        def build(client):
            pkt = client.CreateAcctPacket(code=packet.AccountingRequest)
            self._apply(pkt, values)
            return pkt

        return self._send(build, timeout, retries).code

    def start(self, user, session_id, nas_ip=None, **kw):
        """Acct-Status-Type = Start (opens the radacct row)."""
        return self.accounting("Start", user, session_id, nas_ip=nas_ip, **kw)

    def interim(
        self,
        user,
        session_id,
        nas_ip=None,
        input_octets=0,
        output_octets=0,
        input_gigawords=0,
        output_gigawords=0,
        session_time=0,
        **kw,
    ):
        """Interim-Update with the session's cumulative counters."""
        return self.accounting(
            "Interim-Update",
            user,
            session_id,
            nas_ip=nas_ip,
            input_octets=input_octets,
            output_octets=output_octets,
            input_gigawords=input_gigawords,
            output_gigawords=output_gigawords,
            session_time=session_time,
            **kw,
        )

    def stop(
        self,
        user,
        session_id,
        nas_ip=None,
        input_octets=0,
        output_octets=0,
        input_gigawords=0,
        output_gigawords=0,
        session_time=0,
        terminate_cause="User-Request",
        **kw,
    ):
        """Stop with the final counters (closes the radacct row)."""
        return self.accounting(
            "Stop",
            user,
            session_id,
            nas_ip=nas_ip,
            input_octets=input_octets,
            output_octets=output_octets,
            input_gigawords=input_gigawords,
            output_gigawords=output_gigawords,
            session_time=session_time,
            terminate_cause=terminate_cause,
            **kw,
        )

    def _nas_status(self, status, nas_ip, kw):
        values = {
            "Acct-Status-Type": status,
            "Acct-Session-Id": f"{int(time.time()):08X}",
            "NAS-IP-Address": nas_ip or self.nas_ip,
            "NAS-Identifier": self.nas_identifier,
            "Acct-Delay-Time": 0,
            "Event-Timestamp": int(time.time()),
            **kw,
        }

        def build(client):
            pkt = client.CreateAcctPacket(code=packet.AccountingRequest)
            self._apply(pkt, values)
            return pkt

        return self._send(build).code

    def accounting_on(self, nas_ip=None, **kw):
        """Accounting-On: the NAS (re)booted; FreeRADIUS closes its open sessions."""
        return self._nas_status("Accounting-On", nas_ip, kw)

    def accounting_off(self, nas_ip=None, **kw):
        """Accounting-Off: the NAS shuts down; its open sessions are closed."""
        return self._nas_status("Accounting-Off", nas_ip, kw)


def nas_client(**overrides):
    """A NasClient for the run's FreeRADIUS (ISP_RADIUS_* variables)."""
    settings = {
        "server": os.environ.get("ISP_RADIUS_HOST") or LOOPBACK,
        "auth_port": overrides.pop("auth_port", None) or _env("ISP_RADIUS_AUTH_PORT"),
        "acct_port": overrides.pop("acct_port", None) or _env("ISP_RADIUS_ACCT_PORT"),
        "secret": overrides.pop("secret", None) or _env("ISP_RADIUS_SECRET"),
    }
    settings.update(overrides)
    return NasClient(**settings)
