#!/usr/bin/env python3
"""A local Africa's Talking SMS API for the tests, on 127.0.0.1.

It speaks the real bulk SMS API that ``isp_billing`` sends through when a
company's SMS gateway is *Africa's Talking* (docs.africastalking.com/sms/sending,
last seen 2026-04):

* ``POST /version1/messaging``, form-encoded: ``username``, ``to`` (recipients
  in international format, comma-separated), ``message``, optional ``from``
  (a registered sender ID or short code). Header ``apiKey``; the answer is
  JSON with ``Accept: application/json``, else XML (as Africa's Talking does).
* Accepted: HTTP 201 with
  ``{"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000",
  "Recipients": [{"statusCode": 101, "number": "+2547...", "status":
  "Success", "cost": "KES 0.8000", "messageId": "ATXid_...",
  "messageParts": 1}]}}``, one recipient entry per number, each with its own
  status code: 100 Processed, 101 Sent, 102 Queued, 401 RiskHold, 402
  InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType, 405
  InsufficientBalance, 406 UserInBlacklist, 407 CouldNotRoute, 409
  DoNotDisturbRejection, 500 InternalServerError, 501 GatewayError, 502
  RejectedByGateway. A failed recipient costs ``0`` and has the message id
  ``None``.
* A wrong or missing ``apiKey``, or a username that is not the account's:
  HTTP 401 ``The supplied authentication is invalid`` (text). A missing form
  field: HTTP 400 (text). Another path: 404; another method: 405.

Numbers: ``+`` and 7 to 15 digits, else 403 InvalidPhoneNumber. Cost: KES 0.80
per part (160 GSM-7 characters, 153 per part beyond; 70 / 67 for UCS-2).

Switches (attributes, also ``configure(**settings)``):

* ``down()`` / ``up()``: stop listening (connection refused) and listen again on
  the same port;
* ``http_error = 503`` (or 500, 502...): every request gets that status and a
  text body, nothing is sent; ``None`` = normal;
* ``number_status = {"+254700000403": 403}``: the status of a number (any code
  above; by default 101 Success);
* ``blacklist = {"+2547..."}``: 406 UserInBlacklist (the subscriber opted out
  of the sender's messages at the network);
* ``sender_ids = {"MYISP"}``: the registered sender IDs; another ``from``
  gets 402 InvalidSenderId (``None``: any sender ID is accepted);
* ``balance = 1.0``: credit in KES; a recipient it does not cover gets 405
  InsufficientBalance (``None``: unlimited).

Records: ``requests`` (every HTTP request, including refused ones) and
``messages`` (accepted sends: ``Message(username, to, message, sender,
recipients)``); ``sent_to(number)`` lists the texts a number got.
``reset()`` clears records and switches.

Use::

    with SmsGatewaySimulator(username="sandbox", api_key="key") as sim:
        sim.base_url  # http://127.0.0.1:<free port>
        sim.number_status["+254700000403"] = 403
        ... point the company's base URL at sim.base_url ...
        sim.messages, sim.sent_to("+254712345678")

Standalone: ``python3 tests/sms_gateway_simulator.py --port 18081`` (``--help``).
"""

import argparse
import contextlib
import json
import logging
import math
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

_logger = logging.getLogger("sms_gateway_simulator")

PATH = "/version1/messaging"
COST_PER_PART = 0.8
CURRENCY = "KES"
AUTH_ERROR = "The supplied authentication is invalid"
# Per-recipient status codes and names (docs.africastalking.com/sms/sending).
STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
SUCCESS_CODES = (100, 101, 102)
NUMBER_RE = re.compile(r"^\+\d{7,15}$")
# GSM 03.38 default alphabet and its extension table (each extension
# character takes two septets).
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_parts(text):
    """How many SMS a text takes: (parts, encoding) with encoding ``GSM-7`` or
    ``UCS-2``."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return (1 if septets <= 160 else math.ceil(septets / 153)), "GSM-7"
    units = len(text.encode("utf-16-le")) // 2
    return (1 if units <= 70 else math.ceil(units / 67)), "UCS-2"


@dataclass
class Request:
    """An HTTP request the simulator received."""

    method: str
    path: str
    headers: dict
    form: dict
    status: int


@dataclass
class Message:
    """An accepted send: one request, one text, its recipients' results."""

    username: str
    to: list
    message: str
    sender: str | None
    recipients: list = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SmsGatewaySimulator/1.0"
    disable_nagle_algorithm = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status, content_type, data = self.server.simulator._handle(
            method, urlsplit(self.path).path, dict(self.headers.items()), body
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's
        pass  # SmsGatewaySimulator._handle logs each request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = set()  # open (keep-alive) client sockets

    def process_request(self, request, client_address):
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Cut the kept-alive connections too: a gateway that is down is."""
        for sock in list(self.connections):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SmsGatewaySimulator:
    """See the module docstring.

    :param username, api_key: the Africa's Talking account (``sandbox`` is the
        username of the sandbox app)
    :param port: 0 = a free one (``start()`` returns the base URL)
    """

    def __init__(self, username="sandbox", api_key="sim-api-key", host="127.0.0.1"):
        self.username = username
        self.api_key = api_key
        self.host = host
        self.port = 0
        self.base_url = None
        self.log_requests = False  # INFO (True) or DEBUG line per request
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self.reset()

    # --- records and switches ---------------------------------------------------

    def reset(self):
        """Records and switches back to their defaults (the server stays up)."""
        with self._lock:
            self.requests = []
            self.messages = []
            self.http_error = None
            self.number_status = {}
            self.blacklist = set()
            self.sender_ids = None
            self.balance = None

    def configure(self, **settings):
        for name, value in settings.items():
            if name not in (
                "http_error",
                "number_status",
                "blacklist",
                "sender_ids",
                "balance",
            ):
                raise ValueError(f"unknown setting {name!r}")
            setattr(self, name, value)

    def sent_to(self, number):
        """The texts accepted for ``number`` (any status), in order."""
        with self._lock:
            return [
                msg.message
                for msg in self.messages
                for rcpt in msg.recipients
                if rcpt["number"] == number
            ]

    # --- serving -------------------------------------------------------------------

    def start(self, port=None):
        """Listen (on ``port``, or the port of before, or a free one); returns
        the base URL."""
        if self._server is not None:
            return self.base_url
        self._server = _Server(
            (self.host, self.port if port is None else port), _Handler
        )
        self._server.simulator = self
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sms-gateway-simulator",
            daemon=True,
        )
        self._thread.start()
        _logger.debug("SMS gateway simulator on %s", self.base_url)
        return self.base_url

    def stop(self):
        """Stop listening: connections to the port are refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(5)
        self._server = None
        self._thread = None

    def down(self):
        """The gateway is unreachable (connection refused) until ``up()``."""
        self.stop()

    def up(self):
        """Listen again, on the same port."""
        return self.start()

    @property
    def is_up(self):
        return self._server is not None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # --- the API ---------------------------------------------------------------------

    def _handle(self, method, path, headers, body):
        """One HTTP request: (status, content type, body bytes)."""
        started = time.monotonic()
        form = {
            key: values[-1]
            for key, values in parse_qs(body.decode(), keep_blank_values=True).items()
        }
        lower = {key.lower(): value for key, value in headers.items()}
        status, content_type, data = self._answer(method, path, lower, form)
        with self._lock:
            self.requests.append(Request(method, path, lower, form, status))
        _logger.log(
            logging.INFO if self.log_requests else logging.DEBUG,
            "%s %s -> %s (%d recipients, %.0f ms)",
            method,
            path,
            status,
            len([n for n in form.get("to", "").split(",") if n.strip()]),
            (time.monotonic() - started) * 1000,
        )
        return status, content_type, data

    def _answer(self, method, path, headers, form):
        if path != PATH:
            return _text(404, "Not Found")
        if method != "POST":
            return _text(405, "Method Not Allowed")
        if self.http_error:
            return _text(self.http_error, "Service temporarily unavailable")
        if headers.get("apikey") != self.api_key:
            return _text(401, AUTH_ERROR)
        if form.get("username") != self.username:
            return _text(401, AUTH_ERROR)
        for name in ("to", "message"):
            if not form.get(name):
                return _text(400, f"Request is missing required form field '{name}'")
        numbers = [n.strip() for n in form["to"].split(",") if n.strip()]
        text = form["message"]
        sender = form.get("from") or None
        parts, __ = sms_parts(text)
        recipients = []
        with self._lock:
            for number in numbers:
                code = self._status(number, sender)
                cost = parts * COST_PER_PART
                if code in SUCCESS_CODES and self.balance is not None:
                    if self.balance + 1e-9 < cost:
                        code = 405
                    else:
                        self.balance -= cost
                ok = code in SUCCESS_CODES
                recipients.append(
                    {
                        "statusCode": code,
                        "number": number,
                        "status": STATUS_NAMES[code],
                        "cost": f"{CURRENCY} {cost:.4f}" if ok else "0",
                        "messageId": f"ATXid_{secrets.token_hex(16)}" if ok else "None",
                        "messageParts": parts if ok else 0,
                    }
                )
            self.messages.append(
                Message(form["username"], numbers, text, sender, recipients)
            )
        sent = [r for r in recipients if r["statusCode"] in SUCCESS_CODES]
        total = len(sent) * parts * COST_PER_PART
        summary = f"Sent to {len(sent)}/{len(recipients)} Total Cost: " + (
            f"{CURRENCY} {total:.4f}" if sent else "0"
        )
        payload = {"SMSMessageData": {"Message": summary, "Recipients": recipients}}
        if "application/json" in headers.get("accept", ""):
            return 201, "application/json", json.dumps(payload).encode()
        return 201, "application/xml", _xml(payload).encode()

    def _status(self, number, sender):
        if number in self.number_status:
            return self.number_status[number]
        if not NUMBER_RE.match(number):
            return 403
        if self.sender_ids is not None and sender and sender not in self.sender_ids:
            return 402
        if number in self.blacklist:
            return 406
        return 101


def _text(status, message):
    return status, "text/plain; charset=utf-8", message.encode()


def _xml(payload):
    data = payload["SMSMessageData"]
    recipients = "".join(
        "<Recipient>"
        + "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in r.items())
        + "</Recipient>"
        for r in data["Recipients"]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AfricasTalkingResponse>'
        f"<SMSMessageData><Message>{escape(data['Message'])}</Message>"
        f"<Recipients>{recipients}</Recipients></SMSMessageData>"
        "</AfricasTalkingResponse>"
    )


# --- standalone ---------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="sms_gateway_simulator.py",
        description="A local Africa's Talking SMS API (POST /version1/messaging).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081, help="0: a free one")
    parser.add_argument("--username", default="sandbox")
    parser.add_argument("--api-key", default="sim-api-key")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sim = SmsGatewaySimulator(args.username, args.api_key, host=args.host)
    sim.log_requests = not args.quiet
    print(sim.start(args.port), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
