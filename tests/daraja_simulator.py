#!/usr/bin/env python3
"""A local M-PESA Daraja for the tests: Safaricom's paths and JSON on 127.0.0.1.

It implements what ``isp_mpesa`` talks to (facts: shared/facts/mpesa.md §3-§6,
fidelity checklist §11), with Daraja's real paths, bodies and error envelopes
(``{"requestId", "errorCode", "errorMessage"}``, HTTP status = the first three
digits of ``errorCode``):

* ``GET /oauth/v1/generate?grant_type=client_credentials`` (Basic auth):
  ``{"access_token": <28 chars>, "expires_in": "3599"}`` (a string, or a
  number with ``expires_in_as_string=False``). Bad grant type: 400
  ``400.008.02``; bad credentials: 400 ``400.008.01``, or an empty 400 body
  with ``oauth_empty_error``. Tokens expire after ``token_ttl`` seconds;
  ``expire_tokens()`` invalidates every issued token now.
* ``POST /mpesa/stkpush/v1/processrequest`` (M-PESA Express): bearer token
  (else 404 ``404.001.03``), JSON body, then in this order: BusinessShortCode
  (400 ``Invalid BusinessShortCode`` / 500 ``500.001.1001 Merchant does not
  exist``), Password = base64(shortcode + passkey + Timestamp) (500
  ``500.001.1001 Wrong credentials``), then 400 ``400.002.02 Bad Request -
  Invalid <Field>`` for TransactionType, PhoneNumber, PartyA, PartyB, Amount
  (a JSON integer or digit string, 1..250000), Timestamp (14-digit date),
  CallBackURL (http(s) with a host, no placeholder host), Remarks (missing
  TransactionDesc) and AccountReference (missing; over 12 characters with
  ``strict_lengths``, as is TransactionDesc over 13). Then the subscriber
  lock (500 ``500.001.1001 Unable to lock subscriber...`` while the previous
  push to the PhoneNumber is not final). Accepted: 200 with ``ws_CO_...``
  CheckoutRequestID and MerchantRequestID; the outcome comes later in the
  callback (facts §4.4: ResultCode int, items by Name, no CallbackMetadata on
  failure). A CustomerPayBillOnline push whose PartyB is not the shortcode
  ends with result 2028.
* ``POST /mpesa/stkpushquery/v1/query``: token (else 400 ``400.003.01``),
  shortcode/password/timestamp as above, unknown id: 400 ``400.002.02 Bad
  Request - Invalid CheckoutRequestID``. Before the outcome is final: form A
  (500 ``500.001.1001 The transaction is being processed``, requestId = the
  CheckoutRequestID) or form B (200 ``{"ResultCode": "4999", ...}``). Final:
  200 with ResultCode as a string, no receipt. ``rate_limit_queries(n)``:
  beyond n answered queries in a second, 500 ``500.003.02 Error Occurred:
  Spike Arrest Violation``.
* ``POST /mpesa/c2b/v1/registerurl`` and ``/v2/registerurl``: token (else 400
  ``400.003.01``), ShortCode (the C2B or the STK shortcode), ResponseType
  ``Completed`` | ``Cancelled``, URLs without the forbidden keywords (mpesa,
  m-pesa, safaricom, exe, exec, cmd, sql, query) nor tester hosts (ngrok,
  mockbin, requestbin). Success: ``{"OriginatorCoversationID" (sic),
  "ResponseCode": "0", "ResponseDescription": "Success"}``. Sandbox
  overwrites; ``c2b_production_mode``: a second registration of a shortcode
  gets 500 ``500.003.1001 Urls are already registered``.
  ``c2b_reject_version = "v1"`` (or ``"v2"``): that version answers 401
  ``401.003.01 ... no apiproduct match found``.
* ``POST /mpesa/c2b/v1/simulate`` and ``/v2/simulate``: accepted, then a C2B
  payment (as ``c2b_pay()``) to the registered URLs.
* Anything else: wrong method 405 ``405.001``, unknown path 404
  ``404.001.01``; a body that is not JSON 400 ``400.002.05 Invalid Request
  Payload``, a non-JSON Content-Type (form-encoded) 400 ``400.002.02 Bad
  Request - Invalid BusinessShortCode``. Transaction Status, Reversal,
  Account Balance and Pull Transactions are not implemented (404).

Scripting (per push): ``script(Outcome(...), phone=None, amount=None)``; the
most recent matching script wins, the default is success after 0 s. An
Outcome sets the result code, the delay until it is final, how the callback
is delivered (``normal``, ``drop``, ``duplicate``, ``duplicate_parallel``,
``wrong_token``, ``late``), the pending form of the query, the old valueless
``Balance`` item, a paid amount different from the pushed one and a C2B
confirmation of the same receipt (facts §8.4).

Callbacks are POSTed (JSON, 10 s timeout) by a background scheduler, never
before the push's own answer has been written; with ``auto_deliver=False``
nothing is sent until the test calls ``deliver()``, which POSTs from the
calling thread (an Odoo HttpCase must be idle while its server thread
handles the callback). Every POST is recorded in ``deliveries``.

C2B payments: ``c2b_pay()`` (validation if enabled, then confirmation; plain,
masked or SHA-256-hashed MSISDN), synchronous.

Out-of-process users drive it through ``/__sim__/...`` (not Daraja paths):
``POST /__sim__/script``, ``/__sim__/reset``, ``/__sim__/settings``,
``/__sim__/c2b_pay``, ``/__sim__/settle``, ``/__sim__/deliver``,
``/__sim__/expire_tokens`` and ``GET /__sim__/state``.

Use::

    with DarajaSimulator(shortcode="174379", passkey=SANDBOX_PASSKEY) as sim:
        sim.script(Outcome(result_code=1032, delay=2), phone="254708374149")
        ... point the provider at sim.base_url ...
        sim.pushes, sim.queries, sim.deliveries

Standalone: ``python3 tests/daraja_simulator.py --port 18080`` (``--help``).
"""

import argparse
import base64
import dataclasses
import hashlib
import heapq
import itertools
import json
import logging
import re
import secrets
import string
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

_logger = logging.getLogger("daraja_simulator")

EAT = timezone(timedelta(hours=3), "EAT")  # Africa/Nairobi, no DST
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SANDBOX_C2B_SHORTCODE = "600984"
SANDBOX_MSISDN = "254708374149"

# facts §4.6
RESULT_DESCRIPTIONS = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    2: "Declined due to limit rule: less than the minimum transaction amount.",
    3: "Declined due to limit rule: greater than the maximum transaction amount.",
    4: "Declined due to limit rule: would exceed daily transfer limit.",
    8: "Declined due to limit rule: would exceed the maximum balance.",
    17: "Rule limited.",
    26: "System busy",
    1001: "Unable to lock subscriber, a transaction is already in process for "
    "the current subscriber",
    1019: "Transaction has expired.",
    1025: "An error occurred while sending a push request.",
    1031: "Request cancelled by user",
    1032: "Request cancelled by user.",
    1036: "SMSC ACK timeout",
    1037: "DS timeout user cannot be reached.",
    2001: "The initiator information is invalid.",
    2028: "The request is not permitted according to product assignment.",
    8006: "The security credential is locked.",
    9999: "An error occurred while sending a push request.",
    "SFC_IC0003": "The operator does not exist.",
    "E3008": "Error, the user has a bad debt contract.",
}
DELIVERY_MODES = (
    "normal",
    "drop",
    "duplicate",
    "duplicate_parallel",
    "wrong_token",
    "late",
)
MSISDN_MODES = ("plain", "masked", "hashed")
ACCEPTED = "Success. Request accepted for processing"
QUERY_ACCEPTED = "The service request has been accepted successsfully"  # sic
PENDING_A_MESSAGE = "The transaction is being processed"
PENDING_B = {
    "ResultCode": "4999",
    "ResultDesc": "The transaction is still under processing",
}
SUBSCRIBER_LOCKED = (
    "Unable to lock subscriber, a transaction is already in process for the "
    "current subscriber"
)
NO_API_PRODUCT = (
    "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct "
    "match found"
)
C2B_FORBIDDEN_WORDS = ("mpesa", "m-pesa", "safaricom", "exe", "exec", "cmd", "sql")
C2B_FORBIDDEN_WORDS += ("query",)
C2B_TESTER_HOSTS = ("ngrok", "mockbin", "requestbin")
PLACEHOLDER_HOSTS = ("mydomain.com", "example.com", "yourdomain.com")
PHONE_RE = re.compile(r"^254[71]\d{8}$")
SHORTCODE_RE = re.compile(r"^\d{5,9}$")
MAX_AMOUNT = 250_000
TOKEN_ALPHABET = string.ascii_letters + string.digits
RECEIPT_ALPHABET = string.ascii_uppercase + string.digits
CONTROL_PREFIX = "/__sim__/"


def stk_password(shortcode, passkey, timestamp):
    """Daraja's Password: base64(BusinessShortCode + Passkey + Timestamp)."""
    raw = f"{shortcode}{passkey}{timestamp}".encode()
    return base64.b64encode(raw).decode()


def eat_timestamp(when=None):
    """``YYYYMMDDHHmmss`` in East Africa Time (``when``: an aware datetime)."""
    return (when or datetime.now(EAT)).astimezone(EAT).strftime("%Y%m%d%H%M%S")


def mask_msisdn(msisdn):
    """``2547 ***** 149``: the masked form of C2B notifications (and logs)."""
    msisdn = str(msisdn)
    if len(msisdn) < 8:
        return "*" * len(msisdn)
    return f"{msisdn[:4]} ***** {msisdn[-3:]}"


def hash_msisdn(msisdn):
    """The SHA-256 hex of the 12-digit MSISDN, as C2B has sent since 2024."""
    return hashlib.sha256(str(msisdn).encode()).hexdigest()


class DarajaError(Exception):
    """A synchronous Daraja error: the envelope, HTTP status from the code."""

    def __init__(self, code, message, request_id=None, status=None, empty=False):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.status = status or int(code.split(".")[0])
        self.empty = empty  # the body is empty (OAuth's other failure form)

    def body(self):
        if self.empty:
            return None
        request_id = self.request_id
        if request_id is None:
            request_id = (
                f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(10**8)}-1"
            )
        return {
            "requestId": request_id,
            "errorCode": self.code,
            "errorMessage": self.message,
        }


class _ControlError(Exception):
    """A bad request to the /__sim__/ control API."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Outcome:
    """How a scripted STK push ends (see the module docstring)."""

    result_code: int | str = 0
    delay: float = 0.0
    delivery: str = "normal"
    late_by: float = 0.0
    query_pending: str = "A"
    balance_item: bool = False
    also_c2b: bool = False
    paid_amount: float | None = None
    result_desc: str | None = None  # default: the facts §4.6 description

    def __post_init__(self):
        code = self.result_code
        if isinstance(code, str) and code.strip().lstrip("-").isdigit():
            object.__setattr__(self, "result_code", int(code))
        if self.delivery not in DELIVERY_MODES:
            raise ValueError(f"delivery {self.delivery!r}: not one of {DELIVERY_MODES}")
        if self.query_pending not in ("A", "B"):
            raise ValueError(f"query_pending {self.query_pending!r}: 'A' or 'B'")
        if self.delay < 0 or self.late_by < 0:
            raise ValueError("delay and late_by must be >= 0")

    @property
    def success(self):
        return self.result_code == 0

    @property
    def description(self):
        if self.result_desc is not None:
            return self.result_desc
        return RESULT_DESCRIPTIONS.get(
            self.result_code, f"Simulated result {self.result_code}"
        )


@dataclass
class Delivery:
    """One POST of the simulator to a callback / C2B URL.

    ``status`` and ``body`` (the response text) are None when the POST failed
    (``error`` says why: refused, timeout...).
    """

    url: str
    payload: dict
    status: int | None
    body: str | None
    kind: str = "stk"  # stk | c2b_validation | c2b_confirmation
    checkout_request_id: str | None = None
    error: str | None = None
    sent_at: float = 0.0  # time.time() when the POST started
    duration: float = 0.0

    def json(self):
        """The response body as JSON (ValueError if it is not)."""
        return json.loads(self.body or "")

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclass
class _Push:
    checkout_request_id: str
    merchant_request_id: str
    request: dict
    phone: str
    amount: int
    outcome: Outcome
    receipt: str | None
    final_at: float  # time.monotonic()
    due_at: float  # when its callback job is due
    transaction_date: int
    callback: str = "pending"  # pending | sent | dropped | none
    callbacks_sent: int = 0

    def is_final(self, now=None):
        return (time.monotonic() if now is None else now) >= self.final_at

    def as_dict(self, now):
        return {
            **self.request,
            "CheckoutRequestID": self.checkout_request_id,
            "MerchantRequestID": self.merchant_request_id,
            "receipt": self.receipt,
            "state": "final" if self.is_final(now) else "pending",
            "ResultCode": self.outcome.result_code,
            "ResultDesc": self.outcome.description,
            "callback": self.callback,
            "callbacks_sent": self.callbacks_sent,
            "outcome": dataclasses.asdict(self.outcome),
        }


class _Request:
    """What a route handler gets: the parsed HTTP request."""

    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.after = []  # callables run once the answer has been written


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive (every answer has a length)
    server_version = "DarajaSimulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out at once

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _dispatch(self, method):
        simulator = self.server.simulator
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = _Request(method, url.path, parse_qs(url.query), self.headers, body)
        status, payload = simulator._handle(request)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        for step in request.after:
            step()

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's
        pass  # DarajaSimulator._handle logs each request (phones masked)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128


class DarajaSimulator:
    """See the module docstring.

    :param port: 0 = a free one (``start()`` returns the base URL)
    :param shortcode, passkey: the Lipa Na M-PESA Online shortcode and its
        passkey (the Password check)
    :param c2b_shortcode: the C2B paybill (the STK shortcode is accepted too)
    :param token_ttl: seconds an access token lives
    :param expires_in_as_string: OAuth's ``expires_in`` as "3599" (observed)
        rather than 3599 (documented)
    :param auto_deliver: POST callbacks from a background thread when due;
        False: only ``deliver()`` sends them
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        consumer_key="ck",
        consumer_secret="cs",
        shortcode=SANDBOX_SHORTCODE,
        passkey=SANDBOX_PASSKEY,
        c2b_shortcode=SANDBOX_C2B_SHORTCODE,
        token_ttl=3599,
        expires_in_as_string=True,
        auto_deliver=True,
    ):
        self.host = host
        self.port = port
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shortcode = str(shortcode)
        self.passkey = passkey
        self.c2b_shortcode = str(c2b_shortcode)
        self.base_url = None
        self.log_requests = False  # INFO (True) or DEBUG line per request
        self._defaults = {
            "token_ttl": token_ttl,
            "expires_in_as_string": expires_in_as_string,
            "auto_deliver": auto_deliver,
        }
        self._lock = threading.RLock()
        self._wakeup = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._generation = 0  # bumped by reset(): late jobs of before are ignored
        self._tokens = {}  # token -> monotonic expiry
        self._used_receipts = set()
        self._local = threading.local()
        self._heap = []  # (due_at, seq, checkout_request_id) for auto delivery
        self._server = None
        self._threads = []
        self._executor = None
        self._stopping = threading.Event()
        self._auto_deliver = auto_deliver
        # Cookies sent with every callback. Safaricom sends none; Odoo's browser
        # tests only let requests carrying their test cookie in.
        self.callback_cookies = None
        self._init_state()

    # --- settings and records -------------------------------------------------

    def _init_state(self):
        """Records, scripts and settings back to their defaults."""
        with self._lock:
            self._generation += 1
            self._scripts = []  # (phone, amount, Outcome)
            self._pushes = {}  # CheckoutRequestID -> _Push (insertion order)
            self._by_phone = {}  # PhoneNumber -> its latest _Push
            self._pending = {}  # CheckoutRequestID -> _Push with a job to run
            self._pending_c2b = []  # simulate jobs waiting for deliver()
            self._heap = []
            self._queries = []
            self._requests = []  # every Daraja request: {"method", "path"}
            self._deliveries = []
            self._registrations = []
            self._registered = {}  # ShortCode -> the registration in force
            self._c2b_payments = []
            self._query_times = deque()
            self._org_balance = 100_000
            self.token_ttl = self._defaults["token_ttl"]
            self.expires_in_as_string = self._defaults["expires_in_as_string"]
            self.oauth_empty_error = False
            self.subscriber_lock = True
            self.strict_lengths = False
            self.query_rate_limit = None
            self.rate_limit_fault_body = False
            self.c2b_validation_enabled = False
            self.c2b_validation_timeout = 8.0
            self.c2b_production_mode = False
            self.c2b_reject_version = None
            self.c2b_msisdn_mode = "plain"
            self.callback_timeout = 10.0
        self.auto_deliver = self._defaults["auto_deliver"]

    SETTINGS = (
        "subscriber_lock",
        "rate_limit",
        "rate_limit_fault_body",
        "token_ttl",
        "expires_in_as_string",
        "oauth_empty_error",
        "strict_lengths",
        "c2b_validation_enabled",
        "c2b_validation_timeout",
        "c2b_production_mode",
        "c2b_reject_version",
        "c2b_msisdn_mode",
        "callback_timeout",
        "auto_deliver",
    )

    def settings(self):
        """The current switches, as ``configure()`` takes them."""
        values = {
            name: getattr(self, name) for name in self.SETTINGS if name != "rate_limit"
        }
        values["rate_limit"] = self.query_rate_limit
        return values

    def configure(self, **settings):
        """Set switches by name (those of ``settings()``); returns settings()."""
        unknown = set(settings) - set(self.SETTINGS)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {sorted(unknown)}; known: {list(self.SETTINGS)}"
            )
        if settings.get("c2b_reject_version") not in (None, "v1", "v2"):
            raise ValueError("c2b_reject_version: 'v1', 'v2' or None")
        if settings.get("c2b_msisdn_mode", "plain") not in MSISDN_MODES:
            raise ValueError(f"c2b_msisdn_mode: one of {MSISDN_MODES}")
        for name, value in settings.items():
            if name == "rate_limit":
                self.rate_limit_queries(value)
            else:
                setattr(self, name, value)
        return self.settings()

    def reset(self):
        """Forget scripts, records, registrations and subscriber locks; switches
        back to their defaults. Credentials and issued tokens are kept."""
        self._init_state()

    @property
    def auto_deliver(self):
        return self._auto_deliver

    @auto_deliver.setter
    def auto_deliver(self, value):
        with self._lock:
            self._auto_deliver = bool(value)
            if self._auto_deliver:  # what waited for deliver() goes now
                for push in self._pending.values():
                    heapq.heappush(
                        self._heap,
                        (push.due_at, next(self._ids), push.checkout_request_id),
                    )
                jobs, self._pending_c2b = self._pending_c2b, []
                self._wakeup.notify_all()
            else:
                jobs = []
        for job in jobs:
            self._submit(job)

    def rate_limit_queries(self, n_per_second):
        """At most n STK queries answered per second (None: no limit)."""
        with self._lock:
            self.query_rate_limit = n_per_second
            self._query_times.clear()

    def script(self, outcome, phone=None, amount=None):
        """The outcome of the next pushes to ``phone`` and/or of ``amount``
        (None: any). The most recent matching script wins; they stay until
        reset()."""
        if not isinstance(outcome, Outcome):
            raise TypeError("script() takes an Outcome")
        with self._lock:
            self._scripts.append(
                (
                    None if phone is None else str(phone),
                    None if amount is None else int(amount),
                    outcome,
                )
            )

    def _outcome_for(self, phone, amount):
        with self._lock:
            for script_phone, script_amount, outcome in reversed(self._scripts):
                if script_phone not in (None, phone):
                    continue
                if script_amount not in (None, amount):
                    continue
                return outcome
        return Outcome()

    @property
    def pushes(self):
        """Accepted STK pushes: the request's fields plus CheckoutRequestID,
        MerchantRequestID, receipt, state (pending | final), ResultCode,
        ResultDesc, callback (pending | sent | dropped | none), outcome."""
        now = time.monotonic()
        with self._lock:
            return [push.as_dict(now) for push in self._pushes.values()]

    @property
    def requests(self):
        """Every request to a Daraja path (OAuth included, control API not):
        ``{"method", "path"}``, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def queries(self):
        """STK queries: ``{"CheckoutRequestID", "status", "response"}``."""
        with self._lock:
            return list(self._queries)

    @property
    def deliveries(self):
        """Every POST to a callback / C2B URL (Delivery), in order."""
        with self._lock:
            return list(self._deliveries)

    @property
    def registrations(self):
        """Accepted C2B URL registrations, in order (the last one of a
        ShortCode is in force)."""
        with self._lock:
            return list(self._registrations)

    @property
    def c2b_payments(self):
        """C2B payments made (c2b_pay(), /simulate, also_c2b)."""
        with self._lock:
            return list(self._c2b_payments)

    def receipt_for(self, checkout_request_id):
        """The MpesaReceiptNumber of a push (None unless it succeeds)."""
        with self._lock:
            return self._push(checkout_request_id).receipt

    def _push(self, checkout_request_id):
        push = self._pushes.get(checkout_request_id)
        if push is None:
            raise KeyError(f"no STK push {checkout_request_id!r}")
        return push

    def settle(self, checkout_request_id):
        """Make the push's outcome final now (its callback due now, or after
        ``late_by`` for a late delivery)."""
        now = time.monotonic()
        with self._lock:
            push = self._push(checkout_request_id)
            if push.final_at > now:
                push.final_at = now
                push.transaction_date = int(eat_timestamp())
                late_by = push.outcome.late_by if push.outcome.delivery == "late" else 0
                push.due_at = now + late_by
                if self._auto_deliver and checkout_request_id in self._pending:
                    heapq.heappush(
                        self._heap, (push.due_at, next(self._ids), checkout_request_id)
                    )
                    self._wakeup.notify_all()

    def expire_tokens(self):
        """Every access token issued so far is invalid from now on."""
        with self._lock:
            self._tokens.clear()

    # --- serving ----------------------------------------------------------------

    def start(self):
        """Serve in daemon threads; returns the base URL."""
        if self._server is not None:
            return self.base_url
        self._server = _Server((self.host, self.port), _Handler)
        self._server.simulator = self
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._stopping.clear()
        self._executor = ThreadPoolExecutor(16, thread_name_prefix="daraja-deliver")
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="daraja-simulator",
                daemon=True,
            ),
            threading.Thread(
                target=self._scheduler, name="daraja-scheduler", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        _logger.info("Daraja simulator on %s", self.base_url)
        return self.base_url

    def stop(self):
        """Stop serving and delivering."""
        if self._server is None:
            return
        self._stopping.set()
        with self._lock:
            self._wakeup.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(5)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._server = None
        self._threads = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def _handle(self, request):
        """Route one HTTP request: (status, JSON payload or None)."""
        started = time.monotonic()
        try:
            if request.path.startswith(CONTROL_PREFIX):
                status, payload = self._control(request)
            else:
                with self._lock:
                    self._requests.append(
                        {"method": request.method, "path": request.path}
                    )
                status, payload = self._daraja(request)
        except DarajaError as exc:
            status, payload = exc.status, exc.body()
        except _ControlError as exc:
            status, payload = exc.status, {"error": str(exc)}
        except Exception:
            _logger.exception("Daraja simulator: %s %s", request.method, request.path)
            status, payload = (
                500,
                DarajaError("500.003.01", "Internal Server Error").body(),
            )
        level = logging.INFO if self.log_requests else logging.DEBUG
        if _logger.isEnabledFor(level):
            detail = ""
            if isinstance(payload, dict) and "errorCode" in payload:
                detail = f" {payload['errorCode']} {payload['errorMessage']}"
            _logger.log(
                level,
                "%s %s -> %s%s (%.1f ms)%s",
                request.method,
                request.path,
                status,
                detail,
                (time.monotonic() - started) * 1000,
                getattr(request, "log_note", ""),
            )
        return status, payload

    ROUTES = {
        "/oauth/v1/generate": ("GET", "_oauth"),
        "/mpesa/stkpush/v1/processrequest": ("POST", "_stk_push"),
        "/mpesa/stkpushquery/v1/query": ("POST", "_stk_query"),
        "/mpesa/c2b/v1/registerurl": ("POST", "_c2b_register"),
        "/mpesa/c2b/v2/registerurl": ("POST", "_c2b_register"),
        "/mpesa/c2b/v1/simulate": ("POST", "_c2b_simulate"),
        "/mpesa/c2b/v2/simulate": ("POST", "_c2b_simulate"),
    }

    def _daraja(self, request):
        route = self.ROUTES.get(request.path.rstrip("/") or "/")
        if route is None:
            raise DarajaError("404.001.01", "Resource not found")
        method, handler = route
        if request.method != method:
            raise DarajaError("405.001", "Method Not Allowed")
        return getattr(self, handler)(request)

    # --- Daraja: common checks ---------------------------------------------------

    def _check_bearer(self, request, error_code):
        header = request.headers.get("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if header and scheme.lower() != "bearer":
            raise DarajaError("404.001.04", "Invalid Authentication Header")
        with self._lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None or expiry <= time.monotonic():
            raise DarajaError(error_code, "Invalid Access Token")

    @staticmethod
    def _json_body(request):
        content_type = request.headers.get("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise DarajaError("400.002.02", "Bad Request - Invalid BusinessShortCode")
        try:
            data = json.loads(request.body.decode("utf-8") or "null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise DarajaError("400.002.05", "Invalid Request Payload")
        return data

    def _check_credentials(self, data):
        """BusinessShortCode, Password and Timestamp of STK push and query."""
        shortcode = str(data.get("BusinessShortCode") or "").strip()
        if not SHORTCODE_RE.match(shortcode):
            raise DarajaError("400.002.02", "Bad Request - Invalid BusinessShortCode")
        if shortcode != self.shortcode:
            raise DarajaError("500.001.1001", "Merchant does not exist")
        timestamp = str(data.get("Timestamp") or "")
        expected = stk_password(self.shortcode, self.passkey, timestamp)
        if not secrets.compare_digest(str(data.get("Password") or ""), expected):
            raise DarajaError("500.001.1001", "Wrong credentials")
        return shortcode

    @staticmethod
    def _check_timestamp(data):
        timestamp = data.get("Timestamp")
        try:
            valid = (
                isinstance(timestamp, str)
                and len(timestamp) == 14
                and timestamp.isdigit()
                and bool(datetime.strptime(timestamp, "%Y%m%d%H%M%S"))
            )
        except ValueError:
            valid = False
        if not valid:
            raise DarajaError("400.002.02", "Bad Request - Invalid Timestamp")

    @staticmethod
    def _amount(value, field_name="Amount"):
        """A whole number of shillings: a JSON integer or a digit string."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            amount = None  # floats too: Daraja wants whole shillings
        elif isinstance(value, str):
            amount = int(value.strip()) if value.strip().isdigit() else None
        else:
            amount = value
        if amount is None or not 1 <= amount <= MAX_AMOUNT:
            raise DarajaError("400.002.02", f"Bad Request - Invalid {field_name}")
        return amount

    @staticmethod
    def _phone(data, field_name):
        value = str(data.get(field_name) or "").strip()
        if not PHONE_RE.match(value):
            raise DarajaError("400.002.02", f"Bad Request - Invalid {field_name}")
        return value

    @staticmethod
    def _callback_url(value):
        try:
            url = urlsplit(str(value or ""))
            host = url.hostname or ""
        except ValueError:
            url, host = None, ""
        if url is None or url.scheme not in ("http", "https") or not host:
            raise DarajaError("400.002.02", "Bad Request - Invalid CallBackURL")
        if any(host == name or host.endswith("." + name) for name in PLACEHOLDER_HOSTS):
            raise DarajaError("400.002.02", "Bad Request - Invalid CallBackURL")
        return str(value)

    # --- Daraja: OAuth ------------------------------------------------------------

    def _oauth(self, request):
        if request.query.get("grant_type") != ["client_credentials"]:
            raise DarajaError("400.008.02", "Invalid grant type passed", request_id="")
        header = (request.headers.get("Authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise DarajaError(
                "400.008.01",
                "Invalid authentication type passed",
                request_id="",
                empty=self.oauth_empty_error,
            )
        try:
            key, _, secret = base64.b64decode(value.strip()).decode().partition(":")
        except ValueError:
            key = secret = None
        if not (
            key is not None
            and secrets.compare_digest(key, self.consumer_key)
            and secrets.compare_digest(secret, self.consumer_secret)
        ):
            raise DarajaError(
                "400.008.01",
                "Invalid Authentication passed",
                request_id="",
                empty=self.oauth_empty_error,
            )
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(28))
        now = time.monotonic()
        with self._lock:
            if len(self._tokens) > 1000:
                self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + self.token_ttl
        expires_in = int(self.token_ttl)
        return 200, {
            "access_token": token,
            "expires_in": str(expires_in) if self.expires_in_as_string else expires_in,
        }

    # --- Daraja: M-PESA Express ----------------------------------------------------

    def _validate_push(self, data):
        """The push's fields in Daraja's order: (phone, amount, paybill mismatch)."""
        self._check_credentials(data)
        transaction_type = data.get("TransactionType")
        if transaction_type not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            raise DarajaError("400.002.02", "Bad Request - Invalid TransactionType")
        phone = self._phone(data, "PhoneNumber")
        self._phone(data, "PartyA")
        party_b = str(data.get("PartyB") or "").strip()
        if not SHORTCODE_RE.match(party_b):
            raise DarajaError("400.002.02", "Bad Request - Invalid PartyB")
        amount = self._amount(data.get("Amount"))
        self._check_timestamp(data)
        self._callback_url(data.get("CallBackURL"))
        description = data.get("TransactionDesc")
        if not isinstance(description, str) or not description.strip():
            raise DarajaError("400.002.02", "Bad Request - Invalid Remarks")
        if self.strict_lengths and len(description) > 13:
            raise DarajaError("400.002.02", "Bad Request - Invalid Remarks")
        reference = data.get("AccountReference")
        if not isinstance(reference, str | int) or not str(reference).strip():
            raise DarajaError("400.002.02", "Bad Request - Invalid AccountReference")
        if self.strict_lengths and len(str(reference)) > 12:
            raise DarajaError("400.002.02", "Bad Request - Invalid AccountReference")
        mismatch = transaction_type == "CustomerPayBillOnline" and party_b != str(
            data.get("BusinessShortCode")
        )
        return phone, amount, mismatch

    def _new_receipt(self):
        with self._lock:
            while True:
                receipt = secrets.choice(string.ascii_uppercase[:20]) + "".join(
                    secrets.choice(RECEIPT_ALPHABET) for _ in range(9)
                )
                if receipt not in self._used_receipts:
                    self._used_receipts.add(receipt)
                    return receipt

    def _stk_push(self, request):
        self._check_bearer(request, "404.001.03")
        data = self._json_body(request)
        phone, amount, mismatch = self._validate_push(data)
        outcome = self._outcome_for(phone, amount)
        if mismatch:
            outcome = dataclasses.replace(
                outcome, result_code=2028, result_desc=None, also_c2b=False
            )
        request.log_note = f" phone {mask_msisdn(phone)} KES {amount}"
        now = time.monotonic()
        final_wall = datetime.now(EAT) + timedelta(seconds=outcome.delay)
        late_by = outcome.late_by if outcome.delivery == "late" else 0.0
        receipt = self._new_receipt() if outcome.success else None
        with self._lock:
            previous = self._by_phone.get(phone)
            if self.subscriber_lock and previous and not previous.is_final(now):
                raise DarajaError("500.001.1001", SUBSCRIBER_LOCKED)
            number = next(self._ids)
            wall = datetime.now(EAT)
            push = _Push(
                checkout_request_id=f"ws_CO_{wall:%d%m%Y%H%M%S}{number % 10**6:06d}"
                f"{phone[-9:]}",
                merchant_request_id=f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-"
                f"{secrets.token_hex(2)}-{secrets.token_hex(6)}{number % 10**7:07d}",
                request=dict(data),
                phone=phone,
                amount=amount,
                outcome=outcome,
                receipt=receipt,
                final_at=now + outcome.delay,
                due_at=now + outcome.delay + late_by,
                transaction_date=int(eat_timestamp(final_wall)),
            )
            self._pushes[push.checkout_request_id] = push
            self._by_phone[phone] = push
            if outcome.delivery == "drop" and not (outcome.also_c2b and receipt):
                push.callback = "dropped"
            else:
                self._pending[push.checkout_request_id] = push
                request.after.append(lambda: self._schedule(push))
        return 200, {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
            "CustomerMessage": ACCEPTED,
        }

    def _stk_query(self, request):
        record = {"CheckoutRequestID": None, "status": None, "response": None}
        status, payload = 500, None
        try:
            status, payload = self._answer_query(request, record)
        except DarajaError as exc:
            status, payload = exc.status, exc.body()
            raise
        finally:
            record["status"], record["response"] = status, payload
            with self._lock:
                self._queries.append(record)
        return status, payload

    def _answer_query(self, request, record):
        self._check_rate()
        self._check_bearer(request, "400.003.01")
        data = self._json_body(request)
        record["CheckoutRequestID"] = data.get("CheckoutRequestID")
        self._check_credentials(data)
        self._check_timestamp(data)
        with self._lock:
            push = self._pushes.get(str(data.get("CheckoutRequestID") or ""))
        if push is None:
            raise DarajaError("400.002.02", "Bad Request - Invalid CheckoutRequestID")
        if not push.is_final():
            if push.outcome.query_pending == "A":
                raise DarajaError(
                    "500.001.1001",
                    PENDING_A_MESSAGE,
                    request_id=push.checkout_request_id,
                )
            return 200, dict(PENDING_B)
        return 200, {
            "ResponseCode": "0",
            "ResponseDescription": QUERY_ACCEPTED,
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResultCode": str(push.outcome.result_code),
            "ResultDesc": push.outcome.description,
        }

    def _check_rate(self):
        now = time.monotonic()
        with self._lock:
            limit = self.query_rate_limit
            if limit is None:
                return
            times = self._query_times
            while times and times[0] <= now - 1.0:
                times.popleft()
            if len(times) < limit:
                times.append(now)
                return
        if self.rate_limit_fault_body:
            raise _FaultError(limit)
        raise DarajaError("500.003.02", "Error Occurred: Spike Arrest Violation")

    # --- Daraja: C2B ----------------------------------------------------------------

    def _c2b_shortcode(self, value):
        shortcode = str(value or "").strip()
        if shortcode not in (self.c2b_shortcode, self.shortcode):
            raise DarajaError("400.002.02", "Bad Request - Invalid ShortCode")
        return shortcode

    @staticmethod
    def _c2b_url(value, field_name):
        text = str(value or "")
        try:
            url = urlsplit(text)
            host = url.hostname or ""
        except ValueError:
            url, host = None, ""
        lowered = text.lower()
        if (
            url is None
            or url.scheme not in ("http", "https")
            or not host
            or any(word in lowered for word in C2B_FORBIDDEN_WORDS)
            or any(tester in host for tester in C2B_TESTER_HOSTS)
        ):
            raise DarajaError("400.002.02", f"Bad Request - Invalid {field_name}")
        return text

    def _c2b_version(self, request):
        version = request.path.split("/")[3]  # /mpesa/c2b/<v1|v2>/...
        self._check_bearer(request, "400.003.01")
        if self.c2b_reject_version == version:
            raise DarajaError("401.003.01", NO_API_PRODUCT)
        return version

    def _c2b_register(self, request):
        version = self._c2b_version(request)
        data = self._json_body(request)
        names = ("ShortCode", "ResponseType", "ConfirmationURL", "ValidationURL")
        if any(not str(data.get(name) or "").strip() for name in names):
            raise DarajaError("400.003.02", "Bad Request")
        shortcode = self._c2b_shortcode(data["ShortCode"])
        if data["ResponseType"] not in ("Completed", "Cancelled"):
            raise DarajaError("400.002.02", "Bad Request - Invalid ResponseType")
        confirmation = self._c2b_url(data["ConfirmationURL"], "ConfirmationURL")
        validation = self._c2b_url(data["ValidationURL"], "ValidationURL")
        registration = {
            "version": version,
            "ShortCode": shortcode,
            "ResponseType": data["ResponseType"],
            "ConfirmationURL": confirmation,
            "ValidationURL": validation,
        }
        with self._lock:
            if self.c2b_production_mode and shortcode in self._registered:
                raise DarajaError("500.003.1001", "Urls are already registered")
            self._registered[shortcode] = registration
            self._registrations.append(registration)
        return 200, {
            "OriginatorCoversationID": _conversation_id(),
            "ResponseCode": "0",
            "ResponseDescription": "Success",
        }

    def _c2b_simulate(self, request):
        self._c2b_version(request)
        data = self._json_body(request)
        shortcode = self._c2b_shortcode(data.get("ShortCode"))
        command = data.get("CommandID")
        if command not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            raise DarajaError("400.002.02", "Bad Request - Invalid CommandID")
        amount = self._amount(data.get("Amount"))
        msisdn = self._phone(data, "Msisdn")
        bill_ref = data.get("BillRefNumber") or ""
        with self._lock:
            registered = shortcode in self._registered
        if registered:

            def job():
                self.c2b_pay(
                    bill_ref,
                    amount,
                    msisdn=msisdn,
                    msisdn_mode=self.c2b_msisdn_mode,
                    shortcode=shortcode,
                    transaction_type="Pay Bill"
                    if command == "CustomerPayBillOnline"
                    else "Buy Goods",
                )

            if self._auto_deliver:
                request.after.append(lambda: self._submit(job))
            else:
                with self._lock:
                    self._pending_c2b.append(job)
        else:
            _logger.info(
                "C2B simulate on %s: no URLs registered, nothing sent", shortcode
            )
        return 200, {
            "OriginatorCoversationID": _conversation_id(),
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }

    def c2b_pay(
        self,
        bill_ref,
        amount,
        msisdn=SANDBOX_MSISDN,
        msisdn_mode="plain",
        trans_id=None,
        first_name="JOHN",
        validation=None,
        shortcode=None,
        transaction_type="Pay Bill",
    ):
        """A paybill payment to the registered URLs, from the calling thread.

        Validation first if enabled (``validation``, else
        ``c2b_validation_enabled``): accepted when its ResultCode is "0" / 0,
        rejected (no confirmation) otherwise; no answer within
        ``c2b_validation_timeout`` or a non-JSON answer: the registered
        ResponseType decides. Then the confirmation, echoing the
        ThirdPartyTransID of the validation answer. ``amount`` is sent as
        given if a string, else as "%.2f". Returns ``{"trans_id", "validation":
        Delivery | None, "confirmation": Delivery | None, "accepted",
        "payload"}``; RuntimeError if no URLs are registered.
        """
        if msisdn_mode not in MSISDN_MODES:
            raise ValueError(f"msisdn_mode {msisdn_mode!r}: one of {MSISDN_MODES}")
        shortcode = str(shortcode or self.c2b_shortcode)
        with self._lock:
            registration = self._registered.get(shortcode)
            generation = self._generation
        if registration is None:
            raise RuntimeError(
                f"no C2B URLs registered for shortcode {shortcode}: "
                "POST /mpesa/c2b/v1|v2/registerurl first"
            )
        trans_id = trans_id or self._new_receipt()
        payload = {
            "TransactionType": transaction_type,
            "TransID": trans_id,
            "TransTime": eat_timestamp(),
            "TransAmount": amount if isinstance(amount, str) else f"{amount:.2f}",
            "BusinessShortCode": shortcode,
            "BillRefNumber": "" if bill_ref is None else str(bill_ref),
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": _msisdn_as(msisdn, msisdn_mode),
            "FirstName": first_name or "",
            "MiddleName": "",
            "LastName": "",
        }
        if validation is None:
            validation = self.c2b_validation_enabled
        accepted, checked = True, None
        if validation:
            accepted, checked = self._validate_c2b(registration, payload, generation)
            if checked.status is not None and accepted:
                try:
                    third_party = checked.json().get("ThirdPartyTransID")
                except (ValueError, AttributeError):
                    third_party = None
                payload["ThirdPartyTransID"] = str(third_party or "")
        confirmation = None
        if accepted:
            confirmation = self._send_confirmation(
                registration["ConfirmationURL"], payload, generation
            )
        result = {
            "trans_id": trans_id,
            "validation": checked,
            "confirmation": confirmation,
            "accepted": accepted,
            "payload": payload,
        }
        with self._lock:
            if generation == self._generation:
                self._c2b_payments.append(result)
        return result

    def _validate_c2b(self, registration, payload, generation):
        """(accepted, Delivery) of the validation request."""
        delivery = self._post(
            registration["ValidationURL"],
            dict(payload, OrgAccountBalance=""),
            kind="c2b_validation",
            timeout=self.c2b_validation_timeout,
            generation=generation,
        )
        default = registration["ResponseType"] == "Completed"
        if delivery.status is None:
            return default, delivery
        try:
            answer = delivery.json()
        except ValueError:
            return default, delivery
        if not isinstance(answer, dict) or "ResultCode" not in answer:
            return default, delivery
        return str(answer["ResultCode"]).strip() == "0", delivery

    def _send_confirmation(self, url, payload, generation, checkout_request_id=None):
        with self._lock:
            self._org_balance += float(payload["TransAmount"] or 0)
            balance = f"{self._org_balance:.2f}"
        return self._post(
            url,
            dict(payload, OrgAccountBalance=balance),
            kind="c2b_confirmation",
            timeout=self.callback_timeout,
            checkout_request_id=checkout_request_id,
            generation=generation,
        )

    # --- callbacks --------------------------------------------------------------------

    def stk_callback_payload(self, checkout_request_id):
        """The stkCallback body of a push (facts §4.4)."""
        with self._lock:
            return _callback_payload(self._push(checkout_request_id))

    def _schedule(self, push):
        with self._lock:
            if self._auto_deliver and push.checkout_request_id in self._pending:
                heapq.heappush(
                    self._heap, (push.due_at, next(self._ids), push.checkout_request_id)
                )
                self._wakeup.notify_all()

    def _scheduler(self):
        """Hands due callback jobs to the delivery threads (auto_deliver)."""
        while not self._stopping.is_set():
            with self._lock:
                now = time.monotonic()
                if not self._heap or self._heap[0][0] > now:
                    wait = self._heap[0][0] - now if self._heap else 1.0
                    self._wakeup.wait(min(wait, 1.0))
                    continue
                _, _, checkout_request_id = heapq.heappop(self._heap)
                push = self._claim(checkout_request_id, now)
                generation = self._generation
            if push is not None:
                self._submit(lambda p=push, g=generation: self._run_push_job(p, g))

    def _claim(self, checkout_request_id, now, force=False):
        """The pending push whose job the caller runs now (None: not due / taken)."""
        push = self._pending.get(checkout_request_id)
        if push is None or not (self._auto_deliver or force):
            return None
        if push.due_at > now and not force:
            return None
        del self._pending[checkout_request_id]
        return push

    def _submit(self, job):
        executor = self._executor
        if executor is None or self._stopping.is_set():
            return

        def run():
            try:
                job()
            except Exception:
                _logger.exception("Daraja simulator: delivery job failed")

        try:
            executor.submit(run)
        except RuntimeError:  # shut down meanwhile
            pass

    def deliver(self, checkout_request_id=None):
        """POST the due callbacks now, from the calling thread (the named push's
        even if not due yet); returns their Deliveries. Without a name, the C2B
        payments of /simulate that wait are made too."""
        now = time.monotonic()
        with self._lock:
            generation = self._generation
            if checkout_request_id is not None:
                self._push(checkout_request_id)  # KeyError if unknown
                push = self._claim(checkout_request_id, now, force=True)
                pushes = [push] if push else []
                jobs = []
            else:
                due = sorted(
                    (p for p in self._pending.values() if p.due_at <= now),
                    key=lambda p: p.due_at,
                )
                pushes = [self._claim(p.checkout_request_id, now, True) for p in due]
                jobs, self._pending_c2b = self._pending_c2b, []
        deliveries = []
        for push in pushes:
            deliveries += self._run_push_job(push, generation)
        for job in jobs:
            result = job()
            deliveries += [
                d for d in (result["validation"], result["confirmation"]) if d
            ]
        return deliveries

    def _run_push_job(self, push, generation):
        """The callback(s) of a push per its delivery mode, then also_c2b."""
        outcome = push.outcome
        url = push.request["CallBackURL"]
        payload = _callback_payload(push)
        cid = push.checkout_request_id
        deliveries = []
        if outcome.delivery == "duplicate_parallel":
            barrier = threading.Barrier(2)
            results = [None, None]

            def send(index):
                results[index] = self._post(
                    url,
                    payload,
                    checkout_request_id=cid,
                    barrier=barrier,
                    generation=generation,
                )

            threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            deliveries += results
        elif outcome.delivery != "drop":
            if outcome.delivery == "wrong_token":
                url = _replace_last_segment(url, secrets.token_urlsafe(24))
            times = 2 if outcome.delivery == "duplicate" else 1
            for _ in range(times):
                deliveries.append(
                    self._post(
                        url, payload, checkout_request_id=cid, generation=generation
                    )
                )
        with self._lock:
            push.callback = "dropped" if outcome.delivery == "drop" else "sent"
            push.callbacks_sent += sum(1 for d in deliveries if d.status is not None)
        if outcome.also_c2b and push.receipt:
            deliveries += self._also_c2b(push, generation)
        return deliveries

    def _also_c2b(self, push, generation):
        """The C2B confirmation of a successful STK push (facts §8.4 item 2)."""
        with self._lock:
            registration = self._registered.get(self.shortcode) or self._registered.get(
                self.c2b_shortcode
            )
        if registration is None:
            _logger.info(
                "also_c2b %s: no C2B URLs registered", push.checkout_request_id
            )
            return []
        amount = push.outcome.paid_amount
        payload = {
            "TransactionType": "Pay Bill",
            "TransID": push.receipt,
            "TransTime": str(push.transaction_date),
            "TransAmount": f"{push.amount if amount is None else amount:.2f}",
            "BusinessShortCode": registration["ShortCode"],
            "BillRefNumber": str(push.request.get("AccountReference") or ""),
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": _msisdn_as(push.phone, self.c2b_msisdn_mode),
            "FirstName": "JOHN",
            "MiddleName": "",
            "LastName": "",
        }
        delivery = self._send_confirmation(
            registration["ConfirmationURL"],
            payload,
            generation,
            checkout_request_id=push.checkout_request_id,
        )
        with self._lock:
            if generation == self._generation:
                self._c2b_payments.append(
                    {
                        "trans_id": push.receipt,
                        "validation": None,
                        "confirmation": delivery,
                        "accepted": True,
                        "payload": delivery.payload,
                    }
                )
        return [delivery]

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never through an HTTP(S)_PROXY
            self._local.session = session
        return session

    def _post(
        self,
        url,
        payload,
        kind="stk",
        timeout=None,
        checkout_request_id=None,
        barrier=None,
        generation=None,
    ):
        """POST JSON to a callback URL; the recorded Delivery."""
        timeout = self.callback_timeout if timeout is None else timeout
        session = self._session()
        if barrier is not None:
            barrier.wait(5)
        started, clock = time.time(), time.monotonic()
        status = body = error = None
        try:
            response = session.post(
                url, json=payload, timeout=timeout, cookies=self.callback_cookies
            )
            status, body = response.status_code, response.text
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = Delivery(
            url=url,
            payload=payload,
            status=status,
            body=body,
            kind=kind,
            checkout_request_id=checkout_request_id,
            error=error,
            sent_at=started,
            duration=time.monotonic() - clock,
        )
        with self._lock:
            if generation is None or generation == self._generation:
                self._deliveries.append(delivery)
        _logger.log(
            logging.INFO if self.log_requests else logging.DEBUG,
            "%s %s -> %s%s (%.1f ms)",
            kind,
            checkout_request_id or payload.get("TransID", ""),
            status,
            f" {error}" if error else "",
            delivery.duration * 1000,
        )
        return delivery

    # --- control API (/__sim__/, not Daraja) ----------------------------------------

    def _control(self, request):
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        if name == "state":
            if request.method != "GET":
                raise _ControlError("GET only", 405)
            lists = request.query.get("lists", ["1"])[0] not in ("0", "false")
            return 200, self.state(lists=lists)
        handler = getattr(self, f"_control_{name}", None)
        if handler is None:
            raise _ControlError(f"unknown control path {request.path}", 404)
        if request.method != "POST":
            raise _ControlError("POST only", 405)
        try:
            data = json.loads(request.body.decode("utf-8") or "{}")
        except ValueError as exc:
            raise _ControlError(f"the body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise _ControlError("the body must be a JSON object")
        try:
            return 200, handler(data)
        except (TypeError, ValueError, KeyError, RuntimeError) as exc:
            raise _ControlError(f"{type(exc).__name__}: {exc}") from exc

    def state(self, lists=True):
        """Counts (and lists) of the records, and the settings, as JSON."""
        now = time.monotonic()
        with self._lock:
            pushes = list(self._pushes.values())
            state = {
                "counts": {
                    "pushes": len(pushes),
                    "pending_pushes": sum(1 for p in pushes if not p.is_final(now)),
                    "queries": len(self._queries),
                    "deliveries": len(self._deliveries),
                    "registrations": len(self._registrations),
                    "c2b_payments": len(self._c2b_payments),
                    "callbacks_waiting": len(self._pending) + len(self._pending_c2b),
                },
                "settings": self.settings(),
            }
            if lists:
                state["pushes"] = [p.as_dict(now) for p in pushes]
                state["queries"] = list(self._queries)
                state["deliveries"] = [d.to_dict() for d in self._deliveries]
                state["registrations"] = list(self._registrations)
                state["c2b_payments"] = [_c2b_dict(p) for p in self._c2b_payments]
        return state

    def _control_script(self, data):
        phone = data.pop("phone", None)
        amount = data.pop("amount", None)
        outcome = Outcome(**data)
        self.script(outcome, phone=phone, amount=amount)
        return {
            "scripted": dataclasses.asdict(outcome),
            "phone": phone,
            "amount": amount,
        }

    def _control_reset(self, data):
        self.reset()
        return {"reset": True}

    def _control_settings(self, data):
        return self.configure(**data)

    def _control_c2b_pay(self, data):
        return _c2b_dict(self.c2b_pay(**data))

    def _control_settle(self, data):
        self.settle(data["CheckoutRequestID"])
        return {"settled": data["CheckoutRequestID"]}

    def _control_deliver(self, data):
        deliveries = self.deliver(data.get("CheckoutRequestID"))
        return {"deliveries": [d.to_dict() for d in deliveries]}

    def _control_expire_tokens(self, data):
        self.expire_tokens()
        return {"expired": True}


class _FaultError(DarajaError):
    """Spike arrest in the Apigee ``fault`` form (rate_limit_fault_body)."""

    def __init__(self, limit):
        super().__init__("500.003.02", "Spike Arrest Violation")
        self.limit = limit

    def body(self):
        return {
            "fault": {
                "faultstring": "Spike arrest violation. Allowed rate : "
                f"MessageRate{{messagesPerPeriod={self.limit}, "
                "periodInMicroseconds=1000000, maxBurstMessageCount=1.0}",
                "detail": {"errorcode": "policies.ratelimit.SpikeArrestViolation"},
            }
        }


def _callback_payload(push):
    outcome = push.outcome
    callback = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": outcome.result_code,
        "ResultDesc": outcome.description,
    }
    if outcome.success:
        paid = push.amount if outcome.paid_amount is None else outcome.paid_amount
        items = [
            {"Name": "Amount", "Value": paid},
            {"Name": "MpesaReceiptNumber", "Value": push.receipt},
        ]
        if outcome.balance_item:
            items.append({"Name": "Balance"})
        items += [
            {"Name": "TransactionDate", "Value": push.transaction_date},
            {"Name": "PhoneNumber", "Value": int(push.phone)},
        ]
        callback["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": callback}}


def _msisdn_as(msisdn, mode):
    if mode == "hashed":
        return hash_msisdn(msisdn)
    if mode == "masked":
        return mask_msisdn(msisdn)
    return str(msisdn)


def _replace_last_segment(url, segment):
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    head, _, _ = path.rpartition("/")
    return urlunsplit(parts._replace(path=f"{head}/{segment}"))


def _conversation_id():
    return (
        f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-"
        f"{secrets.token_hex(6)}{secrets.randbelow(10**7):07d}"
    )


def _c2b_dict(result):
    return {
        key: value.to_dict() if isinstance(value, Delivery) else value
        for key, value in result.items()
    }


# --- standalone ------------------------------------------------------------------


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="daraja_simulator.py",
        description="A local M-PESA Daraja (OAuth, STK push and query, C2B "
        "register / simulate) for tests, with a control API under /__sim__/.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080, help="0: a free one")
    parser.add_argument("--consumer-key", default="ck")
    parser.add_argument("--consumer-secret", default="cs")
    parser.add_argument("--shortcode", default=SANDBOX_SHORTCODE)
    parser.add_argument("--passkey", default=SANDBOX_PASSKEY)
    parser.add_argument("--c2b-shortcode", default=SANDBOX_C2B_SHORTCODE)
    parser.add_argument("--token-ttl", type=float, default=3599)
    parser.add_argument(
        "--expires-in-number",
        action="store_true",
        help='OAuth expires_in as a number (default: a string, "3599")',
    )
    parser.add_argument(
        "--no-auto-deliver",
        action="store_true",
        help="send callbacks only on POST /__sim__/deliver",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sim = DarajaSimulator(
        host=args.host,
        port=args.port,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        shortcode=args.shortcode,
        passkey=args.passkey,
        c2b_shortcode=args.c2b_shortcode,
        token_ttl=args.token_ttl,
        expires_in_as_string=not args.expires_in_number,
        auto_deliver=not args.no_auto_deliver,
    )
    sim.log_requests = not args.quiet
    base_url = sim.start()
    print(base_url, flush=True)  # for scripts that asked for --port 0
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
