#!/usr/bin/env python3
"""A NAS (MikroTik-like) for the tests: RADIUS client of FreeRADIUS, CoA server.

Towards FreeRADIUS it does what a NAS does: ``login()`` sends an
Access-Request and, if accepted, an Accounting Start; ``transfer()`` sends
Interim-Updates with cumulative counters (Gigawords on 4 GiB wrap);
``logout()`` sends a Stop.

Towards Odoo it is the NAS's dynamic authorization server (RFC 5176),
listening ONLY on a CoA port of 127.0.0.1 (a free one unless given):

* Disconnect-Request: the sessions matching Acct-Session-Id, User-Name and
  Framed-IP-Address (each that the request carries) are ended: Disconnect-ACK,
  then an Accounting Stop with Acct-Terminate-Cause = Admin-Reset. No
  matching session: Disconnect-NAK with Error-Cause 503
  (Session-Context-Not-Found).
* CoA-Request: the matching sessions take the new Mikrotik-Rate-Limit: CoA-ACK.
  No matching session: CoA-NAK 503.
* A NAS-IP-Address (or NAS-Identifier) other than the NAS's own: NAK with
  Error-Cause 403 (NAS-Identification-Mismatch).
* A wrong secret: pyrad drops the request (the sender times out).

Scripting: ``script = {"coa": "ack" | "nak" | "timeout", "disconnect": ...}``
("ack" = normal behaviour above, "nak" = NAK with ``nak_error_cause``,
"timeout" = no answer at all), and per user in ``user_script``
(``{"alice": {"disconnect": "timeout"}}``). Every valid request is recorded
in ``received`` (``Request(code, attributes, source, reply_code)``), dropped
ones in ``dropped``.

Use::

    with NasSimulator() as nas:           # FreeRADIUS from ISP_RADIUS_* vars
        session = nas.login("alice", "pw")
        nas.transfer("alice", 5_000_000_000, 1_000)
        ... send CoA / Disconnect to 127.0.0.1:nas.coa_port ...

Standalone: ``python3 tests/nas_simulator.py --help``. tests/serve and the
Docker stack run it so, with ``--control-port`` (a JSON API over HTTP for
tests/demo_builder.py: log users in, send traffic, replay the accounting of
past sessions with their timestamps, list the live sessions: see
``serve_control``) and ``--interim`` (an Interim-Update of every live session
every so many seconds, as a NAS does, so they never look stale).
"""

import argparse
import itertools
import json
import logging
import os
import secrets
import select
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pyrad import packet
from pyrad.client import Timeout
from pyrad.server import RemoteHost, Server, ServerPacketError

sys.path.insert(0, str(Path(__file__).resolve().parent))

import radius_services  # noqa: E402

_logger = logging.getLogger("nas_simulator")

ACTIONS = ("ack", "nak", "timeout")
NAK_CODES = {
    packet.CoARequest: packet.CoANAK,
    packet.DisconnectRequest: packet.DisconnectNAK,
}
# Session identification attributes (RFC 5176 §3), in matching order.
SESSION_KEYS = (
    ("Acct-Session-Id", "session_id"),
    ("User-Name", "user"),
    ("Framed-IP-Address", "framed_ip"),
)


class LoginRejected(Exception):
    """FreeRADIUS answered the Access-Request of login() with a reject."""

    def __init__(self, user, reply):
        self.user = user
        self.reply = reply
        message = reply.attributes.get("Reply-Message", [""])[0]
        super().__init__(
            f"{user}: Access-Reject (code {reply.code})"
            + (f": {message}" if message else "")
        )


@dataclass
class Session:
    """A user session on the NAS."""

    user: str
    session_id: str
    framed_ip: str
    rate: str | None
    reply: dict
    input_bytes: int = 0
    output_bytes: int = 0
    started: float = field(default_factory=time.time)
    # Attributes of the CoA-Requests applied to the session, in order.
    coa: list = field(default_factory=list)

    @property
    def session_time(self):
        return int(time.time() - self.started)


@dataclass
class Request:
    """A CoA-Request or Disconnect-Request the NAS received."""

    code: int
    attributes: dict
    source: tuple
    reply_code: int | None = None  # None: not answered (scripted timeout)

    @property
    def kind(self):
        return "coa" if self.code == packet.CoARequest else "disconnect"


class NasSimulator(Server):
    """See the module docstring.

    :param auth_port, acct_port, radius_secret: FreeRADIUS (default: the
        ISP_RADIUS_* variables of tests/run)
    :param coa_secret: the secret of CoA / Disconnect requests (default: the
        RADIUS secret)
    :param coa_port: the CoA port, 0 = a free one (then ``coa_port``)
    """

    def __init__(
        self,
        *,
        auth_port=None,
        acct_port=None,
        radius_secret=None,
        radius_server=None,
        coa_secret=None,
        coa_port=0,
        address=radius_services.LOOPBACK,
        nas_ip="127.0.0.1",
        nas_identifier="nas-simulator",
        dictionary=None,
        ip_pool="10.64.0.",
        timeout=2.0,
        retries=2,
    ):
        dictionary = dictionary or radius_services.load_dictionary()
        client_settings = {
            "auth_port": auth_port,
            "acct_port": acct_port,
            "secret": radius_secret,
            "dictionary": dictionary,
            "nas_ip": nas_ip,
            "nas_identifier": nas_identifier,
            "timeout": timeout,
            "retries": retries,
        }
        if radius_server:
            client_settings["server"] = radius_server
        self.radius = radius_services.nas_client(**client_settings)
        coa_secret = coa_secret or self.radius.secret
        if isinstance(coa_secret, str):
            coa_secret = coa_secret.encode()
        super().__init__(
            hosts={"0.0.0.0": RemoteHost("0.0.0.0", coa_secret, "odoo")},
            dict=dictionary,
            coaport=coa_port,
            auth_enabled=False,
            acct_enabled=False,
            coa_enabled=True,
        )
        self.BindToAddress(address)  # binds only the CoA port
        if not self.coafds:
            raise OSError(f"cannot bind a CoA port on {address}")
        self.coaport = self.coa_port = self.coafds[0].getsockname()[1]
        self.address = address
        self.nas_ip = nas_ip
        self.nas_identifier = nas_identifier
        self.ip_pool = ip_pool
        self.sessions = {}  # session id -> Session
        self.received = []
        self.dropped = []  # why pyrad refused requests (e.g. a wrong secret)
        self.stop_failures = []  # (session id, error) of Stops without answer
        self.script = {"coa": "ack", "disconnect": "ack"}
        self.user_script = {}
        self.nak_error_cause = "Administratively-Prohibited"
        self.on_request = None  # callable(Request), e.g. to print it
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3).upper()
        self._stopping = threading.Event()
        self._thread = None

    @property
    def coa_secret(self):
        return self.hosts["0.0.0.0"].secret

    @coa_secret.setter
    def coa_secret(self, value):
        self.hosts["0.0.0.0"].secret = (
            value.encode() if isinstance(value, str) else value
        )

    # --- towards FreeRADIUS -------------------------------------------------

    def login(self, user, password, chap=False, framed_ip=None, **attrs):
        """Access-Request, then Accounting Start: the new Session.

        The framed IP is the reply's Framed-IP-Address, else ``framed_ip``,
        else the next address of ``ip_pool``. Raises LoginRejected.
        """
        reply = self.radius.access_request(user, password, chap=chap, **attrs)
        if reply.code != packet.AccessAccept:
            raise LoginRejected(user, reply)
        number = next(self._ids)
        session = Session(
            user=user,
            session_id=f"{self._prefix}{number:06X}",
            framed_ip=(reply.attributes.get("Framed-IP-Address") or [framed_ip])[0]
            or f"{self.ip_pool}{number % 250 + 2}",
            rate=(reply.attributes.get("Mikrotik-Rate-Limit") or [None])[0],
            reply=reply.attributes,
        )
        with self._lock:
            self.sessions[session.session_id] = session
        self.radius.start(user, session.session_id, framed_ip=session.framed_ip)
        return session

    def session_of(self, user):
        """The user's most recent session, or None."""
        with self._lock:
            found = [s for s in self.sessions.values() if s.user == user]
        return found[-1] if found else None

    def _session(self, user, session_id):
        with self._lock:
            session = (
                self.sessions.get(session_id) if session_id else self.session_of(user)
            )
        if session is None:
            raise KeyError(f"no session of {user or session_id} on the NAS")
        return session

    def _counters(self, session):
        input_octets, input_gigawords = radius_services.octets_and_gigawords(
            session.input_bytes
        )
        output_octets, output_gigawords = radius_services.octets_and_gigawords(
            session.output_bytes
        )
        return {
            "input_octets": input_octets,
            "input_gigawords": input_gigawords,
            "output_octets": output_octets,
            "output_gigawords": output_gigawords,
            "session_time": session.session_time,
            "framed_ip": session.framed_ip,
        }

    def transfer(self, user, in_bytes, out_bytes, session_id=None):
        """Count traffic and send an Interim-Update with the cumulative counters.

        ``in_bytes`` is what the user sent (Acct-Input-*), ``out_bytes`` what
        the user received (Acct-Output-*). Returns the Session.
        """
        session = self._session(user, session_id)
        with self._lock:
            session.input_bytes += in_bytes
            session.output_bytes += out_bytes
            counters = self._counters(session)
        self.radius.interim(session.user, session.session_id, **counters)
        return session

    def logout(self, user, session_id=None, cause="User-Request"):
        """End the session with an Accounting Stop. Returns the Session."""
        session = self._session(user, session_id)
        self._end(session, cause)
        return session

    def reboot(self):
        """Forget every session and send Accounting-On (FreeRADIUS closes them)."""
        with self._lock:
            self.sessions.clear()
        return self.radius.accounting_on()

    def _end(self, session, cause):
        with self._lock:
            self.sessions.pop(session.session_id, None)
            counters = self._counters(session)
        try:
            self.radius.stop(
                session.user, session.session_id, terminate_cause=cause, **counters
            )
        except Timeout as exc:
            self.stop_failures.append((session.session_id, exc))
            _logger.warning("no answer to the Stop of %s", session.session_id)

    def replay(
        self, user, start, stop, in_bytes, out_bytes, framed_ip=None, nas_ip=None
    ):
        """The accounting of a past session, as a NAS that sends it late:
        Start at ``start``, an Interim-Update half-way and Stop at ``stop``
        (epoch seconds, as Event-Timestamp), with the session's counters.
        No Access-Request: the session was authorised when it began (the
        subscriber may be suspended now). Returns the session id."""
        number = next(self._ids)
        session_id = f"{self._prefix}{number:06X}"
        framed_ip = framed_ip or f"{self.ip_pool}{number % 250 + 2}"
        start, stop = int(start), int(stop)

        def counters(share, at):
            inp, inp_gw = radius_services.octets_and_gigawords(int(in_bytes * share))
            out, out_gw = radius_services.octets_and_gigawords(int(out_bytes * share))
            return {
                "nas_ip": nas_ip,
                "input_octets": inp,
                "input_gigawords": inp_gw,
                "output_octets": out,
                "output_gigawords": out_gw,
                "session_time": at - start,
                "framed_ip": framed_ip,
                "Event-Timestamp": at,
            }

        self.radius.start(
            user,
            session_id,
            nas_ip=nas_ip,
            framed_ip=framed_ip,
            **{"Event-Timestamp": start},
        )
        middle = (start + stop) // 2
        self.radius.interim(user, session_id, **counters(0.5, middle))
        self.radius.stop(user, session_id, **counters(1, stop))
        return session_id

    def keep_alive(self, interval, in_bytes=0, out_bytes=0):
        """Every ``interval`` seconds until stop(): each live session counts
        ``in_bytes`` / ``out_bytes`` more and sends its Interim-Update, as a
        NAS does at its Acct-Interim-Interval (so the sessions never look
        stale). Runs in a daemon thread."""

        def loop():
            while not self._stopping.wait(interval):
                with self._lock:
                    sessions = list(self.sessions.values())
                for session in sessions:
                    try:
                        self.transfer(
                            session.user, in_bytes, out_bytes, session.session_id
                        )
                    except (Timeout, KeyError, OSError) as exc:
                        _logger.warning(
                            "interim update of %s failed: %s", session.session_id, exc
                        )

        thread = threading.Thread(target=loop, name="nas-keep-alive", daemon=True)
        thread.start()
        return thread

    # --- CoA / Disconnect (from Odoo) ---------------------------------------

    def _matching_sessions(self, attributes):
        keys = [
            (field_name, attributes[name][0])
            for name, field_name in SESSION_KEYS
            if attributes.get(name)
        ]
        if not keys:
            return []
        with self._lock:
            return [
                session
                for session in self.sessions.values()
                if all(str(getattr(session, f)) == str(v) for f, v in keys)
            ]

    def _foreign(self, attributes):
        nas_ip = attributes.get("NAS-IP-Address")
        nas_id = attributes.get("NAS-Identifier")
        return bool(
            (nas_ip and str(nas_ip[0]) != self.nas_ip)
            or (nas_id and nas_id[0] != self.nas_identifier)
        )

    def _action(self, kind, user):
        action = self.user_script.get(user, {}).get(kind) or self.script.get(kind)
        action = action or "ack"
        if action not in ACTIONS:
            raise ValueError(f"script {kind}: {action!r} is not one of {ACTIONS}")
        return action

    def _handle(self, pkt):
        attributes = radius_services.reply_attributes(pkt)
        request = Request(pkt.code, attributes, pkt.source)
        with self._lock:
            self.received.append(request)
        sessions = self._matching_sessions(attributes)
        user = (
            sessions[0].user if sessions else (attributes.get("User-Name") or [""])[0]
        )
        action = self._action(request.kind, user)
        reply = None
        if action != "timeout":
            reply = self.CreateReplyPacket(pkt)  # an ACK
            error_cause = None
            if action == "nak":
                error_cause = self.nak_error_cause
            elif self._foreign(attributes):
                error_cause = "NAS-Identification-Mismatch"
            elif not sessions:
                error_cause = "Session-Context-Not-Found"
            if error_cause:
                reply.code = NAK_CODES[pkt.code]
                reply["Error-Cause"] = error_cause
            elif request.kind == "coa":
                self._apply_coa(sessions, attributes)
            request.reply_code = reply.code  # before the sender sees the reply
            self.SendReplyPacket(pkt.fd, reply)
        if self.on_request:
            self.on_request(request)
        if reply is not None and reply.code == packet.DisconnectACK:
            # A NAS sends the Stop after its ACK: tests poll radacct.
            for session in sessions:
                self._end(session, "Admin-Reset")

    def _apply_coa(self, sessions, attributes):
        with self._lock:
            for session in sessions:
                if attributes.get("Mikrotik-Rate-Limit"):
                    session.rate = attributes["Mikrotik-Rate-Limit"][0]
                session.coa.append(attributes)

    def HandleCoaPacket(self, pkt):
        self._handle(pkt)

    def HandleDisconnectPacket(self, pkt):
        self._handle(pkt)

    # --- serving --------------------------------------------------------------

    def serve_forever(self, poll_interval=0.1):
        """Serve until stop(); pyrad's Run() never returns."""
        poller = select.poll()
        fds = {}
        for sock in self.coafds:
            fds[sock.fileno()] = sock
            poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
        self._realcoafds = list(fds)
        while not self._stopping.is_set():
            for fd, event in poller.poll(poll_interval * 1000):
                if not event & select.POLLIN:
                    continue
                try:
                    self._ProcessInput(fds[fd])
                except (ServerPacketError, packet.PacketError) as err:
                    self.dropped.append(str(err))
                    _logger.info("dropped a request: %s", err)
                except OSError as err:
                    if self._stopping.is_set():
                        return
                    _logger.exception("NAS simulator: %s", err)
                except Exception:
                    _logger.exception("NAS simulator: error handling a request")

    def run_in_thread(self):
        """serve_forever() in a daemon thread; returns self."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self.serve_forever, name="nas-simulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self):
        """Stop serving and close the CoA socket."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        for sock in self.coafds:
            sock.close()
        self.coafds = []

    def __enter__(self):
        return self.run_in_thread()

    def __exit__(self, *exc_info):
        self.stop()


# --- control API (standalone) --------------------------------------------------


def _session_json(session):
    return {
        "user": session.user,
        "session_id": session.session_id,
        "framed_ip": session.framed_ip,
        "rate": session.rate,
        "input_bytes": session.input_bytes,
        "output_bytes": session.output_bytes,
        "coa": [attrs.get("Mikrotik-Rate-Limit", [None])[0] for attrs in session.coa],
    }


class _ControlHandler(BaseHTTPRequestHandler):
    """JSON over HTTP, for the scripts that drive the standalone simulator
    (tests/demo_builder.py): see ``serve_control``."""

    server_version = "nas-simulator"

    def log_message(self, fmt, *args):
        _logger.info("control: " + fmt, *args)

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        nas = self.server.nas
        if self.path == "/sessions":
            with nas._lock:
                sessions = [_session_json(s) for s in nas.sessions.values()]
            return self._answer(200, sessions)
        if self.path == "/received":
            with nas._lock:
                received = [
                    {
                        "kind": r.kind,
                        "attributes": {
                            k: [str(v) for v in vs] for k, vs in r.attributes.items()
                        },
                        "reply_code": r.reply_code,
                    }
                    for r in nas.received
                ]
            return self._answer(200, received)
        return self._answer(404, {"error": f"no {self.path}"})

    def do_POST(self):
        nas = self.server.nas
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/login":
                session = nas.login(body["user"], body["password"])
                return self._answer(200, _session_json(session))
            if self.path == "/transfer":
                session = nas.transfer(
                    body["user"], int(body["in_bytes"]), int(body["out_bytes"])
                )
                return self._answer(200, _session_json(session))
            if self.path == "/logout":
                return self._answer(200, _session_json(nas.logout(body["user"])))
            if self.path == "/replay":
                session_id = nas.replay(
                    body["user"],
                    body["start"],
                    body["stop"],
                    int(body["in_bytes"]),
                    int(body["out_bytes"]),
                )
                return self._answer(200, {"session_id": session_id})
            if self.path == "/reboot":
                return self._answer(200, {"code": nas.reboot()})
        except LoginRejected as exc:
            return self._answer(409, {"error": str(exc)})
        except (KeyError, ValueError, TypeError) as exc:
            return self._answer(400, {"error": f"bad request: {exc!r}"})
        except (Timeout, OSError) as exc:
            return self._answer(504, {"error": f"FreeRADIUS did not answer: {exc}"})
        return self._answer(404, {"error": f"no {self.path}"})


def serve_control(nas, address, port):
    """The control API of the standalone simulator, in a daemon thread:

    * ``GET /sessions``: the live sessions (user, session id, framed IP,
      rate, counters, the rates of the CoA-Requests applied);
    * ``GET /received``: the CoA / Disconnect requests received;
    * ``POST /login`` ``{"user", "password"}``: Access-Request + Start (409
      with the reason when FreeRADIUS rejects);
    * ``POST /transfer`` ``{"user", "in_bytes", "out_bytes"}``: traffic and
      an Interim-Update;
    * ``POST /logout`` ``{"user"}``: Stop;
    * ``POST /replay`` ``{"user", "start", "stop", "in_bytes", "out_bytes"}``:
      the accounting of a past session (``NasSimulator.replay``);
    * ``POST /reboot``: Accounting-On, every session forgotten.

    Returns the server (``server_address`` has the port)."""
    server = ThreadingHTTPServer((address, port), _ControlHandler)
    server.daemon_threads = True
    server.nas = nas
    threading.Thread(
        target=server.serve_forever, name="nas-control", daemon=True
    ).start()
    return server


# --- standalone ----------------------------------------------------------------


def _parse_args(argv):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="nas_simulator.py",
        description="A NAS for tests: logs users in at FreeRADIUS and answers "
        "CoA / Disconnect requests (RFC 5176) on 127.0.0.1. FreeRADIUS defaults "
        "come from the ISP_RADIUS_* variables that tests/run exports.",
    )
    parser.add_argument("--radius-server", default=env("ISP_RADIUS_HOST", "127.0.0.1"))
    parser.add_argument("--auth-port", type=int, default=env("ISP_RADIUS_AUTH_PORT"))
    parser.add_argument("--acct-port", type=int, default=env("ISP_RADIUS_ACCT_PORT"))
    parser.add_argument(
        "--radius-secret",
        default=env("ISP_RADIUS_SECRET"),
        help="secret shared with FreeRADIUS",
    )
    parser.add_argument(
        "--coa-secret",
        help="secret of CoA / Disconnect requests (default: --radius-secret)",
    )
    parser.add_argument("--bind", default="127.0.0.1", help="address of the CoA port")
    parser.add_argument(
        "--coa-port",
        type=int,
        default=3799,
        help="CoA port (0: a free one; default 3799)",
    )
    parser.add_argument("--nas-ip", default="127.0.0.1", help="NAS-IP-Address")
    parser.add_argument("--nas-identifier", default="nas-simulator")
    parser.add_argument(
        "--dictionary",
        default=env("ISP_RADIUS_DICTIONARY") or str(radius_services.DICTIONARY_PATH),
    )
    parser.add_argument(
        "--login",
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="log this user in at start (repeatable)",
    )
    parser.add_argument(
        "--control-port",
        type=int,
        help="serve the control API (JSON over HTTP, see serve_control) on this "
        "TCP port",
    )
    parser.add_argument(
        "--control-bind", default="127.0.0.1", help="address of the control API"
    )
    parser.add_argument(
        "--interim",
        type=float,
        default=0,
        help="send an Interim-Update for every live session every this many "
        "seconds (0: never)",
    )
    parser.add_argument(
        "--interim-bytes",
        type=int,
        default=0,
        help="bytes each live session downloads per interim (a tenth uploaded)",
    )
    parser.add_argument("--coa", choices=ACTIONS, default="ack", help="answer to CoA")
    parser.add_argument(
        "--disconnect", choices=ACTIONS, default="ack", help="answer to Disconnect"
    )
    args = parser.parse_args(argv)
    for name in ("auth_port", "acct_port", "radius_secret"):
        if getattr(args, name) in (None, ""):
            parser.error(f"--{name.replace('_', '-')} is required (or ISP_RADIUS_*)")
    return args


def main(argv=None):
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    nas = NasSimulator(
        radius_server=args.radius_server,
        auth_port=args.auth_port,
        acct_port=args.acct_port,
        radius_secret=args.radius_secret,
        coa_secret=args.coa_secret,
        coa_port=args.coa_port,
        address=args.bind,
        nas_ip=args.nas_ip,
        nas_identifier=args.nas_identifier,
        dictionary=radius_services.load_dictionary(args.dictionary),
    )
    nas.script = {"coa": args.coa, "disconnect": args.disconnect}
    nas.on_request = lambda request: _logger.info(
        "%s %s -> %s", request.kind, request.attributes, request.reply_code
    )
    for item in args.login:
        user, _, password = item.partition(":")
        try:
            session = nas.login(user, password)
        except (LoginRejected, Timeout) as exc:
            _logger.info("login %s failed: %s", user, exc)
        else:
            _logger.info(
                "login %s: session %s, ip %s, rate %s",
                user,
                session.session_id,
                session.framed_ip,
                session.rate,
            )
    if args.control_port is not None:
        control = serve_control(nas, args.control_bind, args.control_port)
        _logger.info(
            "NAS simulator: control API on http://%s:%d",
            args.control_bind,
            control.server_address[1],
        )
    if args.interim:
        nas.keep_alive(args.interim, args.interim_bytes // 10, args.interim_bytes)
    _logger.info("NAS simulator: CoA / Disconnect on %s:%d", args.bind, nas.coa_port)
    try:
        nas.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        nas.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
