"""Tests of the Daraja simulator (tests/daraja_simulator.py) itself.

No Odoo: a tiny HTTP receiver in the test catches the callbacks.
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daraja_simulator import (  # noqa: E402
    SANDBOX_PASSKEY,
    DarajaSimulator,
    Outcome,
    eat_timestamp,
    stk_password,
)

PHONE = "254708374149"
OTHER_PHONE = "254711000111"
STK = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"
HTTP = requests.Session()
HTTP.trust_env = False  # never through a proxy


class Receiver:
    """Records the POSTs it gets; answers per path prefix (status, body, delay)."""

    def __init__(self):
        self.received = []  # dicts: path, json, raw, headers, started, ended
        self.answers = {}  # path prefix -> (status, body bytes, delay)
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
                record = {
                    "path": self.path,
                    "json": data,
                    "headers": dict(self.headers),
                    "started": time.monotonic(),
                    "ended": None,
                }
                with receiver.cond:  # before answering: the sender waits for it
                    receiver.received.append(record)
                    receiver.cond.notify_all()
                status, body, delay = receiver.answer_for(self.path)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                record["ended"] = time.monotonic()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def answer_for(self, path):
        for prefix, answer in self.answers.items():
            if path.startswith(prefix):
                return answer
        return 200, b'{"ResultCode": 0, "ResultDesc": "Accepted"}', 0

    def answer(self, prefix, status=200, body=None, delay=0.0):
        if not isinstance(body, bytes):
            body = json.dumps(body if body is not None else {"ResultCode": 0}).encode()
        self.answers[prefix] = (status, body, delay)

    def wait_for(self, count, timeout=5.0, path=""):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [r for r in self.received if r["path"].startswith(path)]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self.cond.wait(0.05)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sim():
    with DarajaSimulator(
        consumer_key="ck",
        consumer_secret="cs",
        shortcode="174379",
        passkey=SANDBOX_PASSKEY,
        c2b_shortcode="600984",
    ) as simulator:
        yield simulator


def wait_until(predicate, timeout=5.0):
    """Poll predicate() until true (True) or timeout (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def get_token(sim):
    response = HTTP.get(
        sim.base_url + "/oauth/v1/generate?grant_type=client_credentials",
        auth=("ck", "cs"),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def post(sim, path, body, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HTTP.post(sim.base_url + path, json=body, headers=headers, **kwargs)


def push_body(receiver, **overrides):
    timestamp = eat_timestamp()
    body = {
        "BusinessShortCode": 174379,
        "Password": stk_password("174379", SANDBOX_PASSKEY, timestamp),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 10,
        "PartyA": PHONE,
        "PartyB": "174379",
        "PhoneNumber": PHONE,
        "CallBackURL": f"{receiver.base}/payment/daraja/stk/Tok3n",
        "AccountReference": "ACC10023",
        "TransactionDesc": "Internet",
    }
    body.update(overrides)
    return body


def push(sim, receiver, token, **overrides):
    response = post(sim, STK, push_body(receiver, **overrides), token)
    assert response.status_code == 200, response.text
    return response.json()["CheckoutRequestID"]


def query(sim, token, checkout_request_id):
    timestamp = eat_timestamp()
    body = {
        "BusinessShortCode": "174379",
        "Password": stk_password("174379", SANDBOX_PASSKEY, timestamp),
        "Timestamp": timestamp,
        "CheckoutRequestID": checkout_request_id,
    }
    return post(sim, QUERY, body, token)


def assert_error(response, status, code, message):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code
    assert body["errorMessage"] == message
    assert "requestId" in body


def register(sim, token, receiver, version="v2", **overrides):
    body = {
        "ShortCode": "600984",
        "ResponseType": "Completed",
        "ConfirmationURL": f"{receiver.base}/c2b/confirm/Tok3n",
        "ValidationURL": f"{receiver.base}/c2b/validate/Tok3n",
    }
    body.update(overrides)
    return post(sim, f"/mpesa/c2b/{version}/registerurl", body, token)


# --- password, OAuth, tokens ----------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp, password",
    [
        (
            "20210628092408",
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4"
            "ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4",
        ),
        (
            "20160216165627",
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4"
            "ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3",
        ),
    ],
)
def test_password_vectors(sim, receiver, timestamp, password):
    """Safaricom's sample Passwords (facts §4.2) are what the simulator expects."""
    assert stk_password("174379", SANDBOX_PASSKEY, timestamp) == password
    token = get_token(sim)
    body = push_body(receiver, Timestamp=timestamp, Password=password)
    assert post(sim, STK, body, token).status_code == 200
    wrong = base64.b64encode(f"174379{SANDBOX_PASSKEY}20210628092409".encode())
    body = push_body(receiver, Timestamp=timestamp, Password=wrong.decode())
    assert_error(post(sim, STK, body, token), 500, "500.001.1001", "Wrong credentials")


def test_oauth(sim):
    url = sim.base_url + "/oauth/v1/generate"
    good = HTTP.get(url + "?grant_type=client_credentials", auth=("ck", "cs"))
    assert good.status_code == 200
    body = good.json()
    assert re.fullmatch(r"[A-Za-z0-9]{28}", body["access_token"])
    assert body["expires_in"] == "3599"
    sim.expires_in_as_string = False
    assert HTTP.get(good.url, auth=("ck", "cs")).json()["expires_in"] == 3599

    bad = HTTP.get(url + "?grant_type=client_credentials", auth=("ck", "nope"))
    assert bad.status_code == 400
    assert bad.json() == {
        "requestId": "",
        "errorCode": "400.008.01",
        "errorMessage": "Invalid Authentication passed",
    }
    no_auth = HTTP.get(url + "?grant_type=client_credentials")
    assert no_auth.status_code == 400
    assert no_auth.json()["errorCode"] == "400.008.01"
    grant = HTTP.get(url + "?grant_type=password", auth=("ck", "cs"))
    assert_error(grant, 400, "400.008.02", "Invalid grant type passed")

    sim.oauth_empty_error = True
    empty = HTTP.get(url + "?grant_type=client_credentials", auth=("ck", "nope"))
    assert empty.status_code == 400
    assert empty.content == b""
    assert_error(
        HTTP.post(good.url, auth=("ck", "cs")), 405, "405.001", "Method Not Allowed"
    )


def test_token_errors_per_product_and_expiry(sim, receiver):
    c2b = "/mpesa/c2b/v2/registerurl"
    for token in (None, "not-a-token"):
        response = post(sim, STK, push_body(receiver), token)
        assert_error(response, 404, "404.001.03", "Invalid Access Token")
        response = query(sim, token, "ws_CO_1")
        assert_error(response, 400, "400.003.01", "Invalid Access Token")
        response = post(sim, c2b, {"ShortCode": "600984"}, token)
        assert_error(response, 400, "400.003.01", "Invalid Access Token")
    response = HTTP.post(
        sim.base_url + STK,
        json=push_body(receiver),
        headers={"Authorization": "Basic x"},
    )
    assert_error(response, 404, "404.001.04", "Invalid Authentication Header")

    token = get_token(sim)
    newer = get_token(sim)  # older tokens stay valid until they expire
    assert newer != token
    assert post(sim, STK, push_body(receiver), token).status_code == 200
    sim.expire_tokens()
    assert query(sim, newer, "ws_CO_1").json()["errorCode"] == "400.003.01"
    response = post(sim, STK, push_body(receiver, PhoneNumber=OTHER_PHONE), token)
    assert_error(response, 404, "404.001.03", "Invalid Access Token")

    sim.token_ttl = 0.5
    short = get_token(sim)
    assert register(sim, short, receiver).status_code == 200
    time.sleep(0.6)
    assert register(sim, short, receiver).json()["errorCode"] == "400.003.01"


# --- STK push -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"BusinessShortCode": "174380"}, "Merchant does not exist"),
        ({"Password": "bm9wZQ=="}, "Wrong credentials"),
        # the credentials are checked before the fields
        ({"Password": "bm9wZQ==", "PhoneNumber": "0708"}, "Wrong credentials"),
        ({"Password": "bm9wZQ==", "Amount": 0}, "Wrong credentials"),
    ],
)
def test_stk_push_credentials(sim, receiver, overrides, message):
    response = post(sim, STK, push_body(receiver, **overrides), get_token(sim))
    assert_error(response, 500, "500.001.1001", message)
    assert sim.pushes == []


@pytest.mark.parametrize(
    "overrides, invalid",
    [
        ({"BusinessShortCode": "abc"}, "BusinessShortCode"),
        ({"TransactionType": "PayBill"}, "TransactionType"),
        ({"PhoneNumber": "0708374149"}, "PhoneNumber"),
        ({"PhoneNumber": "+254708374149"}, "PhoneNumber"),
        ({"PhoneNumber": "2547", "Amount": 0}, "PhoneNumber"),  # before Amount
        ({"PartyA": "25470"}, "PartyA"),
        ({"PartyB": "x"}, "PartyB"),
        ({"Amount": 1.5}, "Amount"),
        ({"Amount": 10.0}, "Amount"),  # whole shillings as an integer
        ({"Amount": "10.50"}, "Amount"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": 250001}, "Amount"),
        ({"Amount": None}, "Amount"),
        ({"Amount": "10", "CallBackURL": "ftp://x/y"}, "CallBackURL"),
        ({"CallBackURL": "https://mydomain.com/path"}, "CallBackURL"),
        ({"CallBackURL": None}, "CallBackURL"),
        ({"TransactionDesc": None}, "Remarks"),
        ({"TransactionDesc": ""}, "Remarks"),
        ({"TransactionDesc": "", "AccountReference": ""}, "Remarks"),
        ({"AccountReference": ""}, "AccountReference"),
    ],
)
def test_stk_push_validation(sim, receiver, overrides, invalid):
    response = post(sim, STK, push_body(receiver, **overrides), get_token(sim))
    assert_error(response, 400, "400.002.02", f"Bad Request - Invalid {invalid}")
    assert sim.pushes == []


def test_stk_push_timestamp_validation(sim, receiver):
    """A malformed Timestamp (with a password made from it) is Invalid Timestamp."""
    token = get_token(sim)
    for timestamp in ("2021062809240", "20211328092408", "2021-06-28 09:2"):
        body = push_body(
            receiver,
            Timestamp=timestamp,
            Password=stk_password("174379", SANDBOX_PASSKEY, timestamp),
        )
        response = post(sim, STK, body, token)
        assert_error(response, 400, "400.002.02", "Bad Request - Invalid Timestamp")


def test_stk_push_strict_lengths(sim, receiver):
    token = get_token(sim)
    long_ref = push_body(receiver, AccountReference="A" * 15)
    assert post(sim, STK, long_ref, token).status_code == 200  # as the sandbox
    sim.strict_lengths = True
    response = post(sim, STK, dict(long_ref, PhoneNumber=OTHER_PHONE), token)
    assert_error(response, 400, "400.002.02", "Bad Request - Invalid AccountReference")
    response = post(
        sim,
        STK,
        push_body(receiver, TransactionDesc="D" * 14, PhoneNumber=OTHER_PHONE),
        token,
    )
    assert_error(response, 400, "400.002.02", "Bad Request - Invalid Remarks")


def test_stk_push_accepted_and_success_callback(sim, receiver):
    token = get_token(sim)
    response = post(sim, STK, push_body(receiver, Amount="10"), token)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResponseCode",
        "ResponseDescription",
        "CustomerMessage",
    }
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "Success. Request accepted for processing"
    assert body["CustomerMessage"] == "Success. Request accepted for processing"
    assert re.fullmatch(r"ws_CO_\d+", body["CheckoutRequestID"])
    cid = body["CheckoutRequestID"]

    [got] = receiver.wait_for(1)
    assert got["path"] == "/payment/daraja/stk/Tok3n"
    assert got["headers"]["Content-Type"] == "application/json"
    callback = dict(got["json"]["Body"]["stkCallback"])
    receipt = sim.receipt_for(cid)
    assert re.fullmatch(r"[A-Z0-9]{10}", receipt)
    items = callback.pop("CallbackMetadata")["Item"]
    assert callback == {
        "MerchantRequestID": body["MerchantRequestID"],
        "CheckoutRequestID": cid,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
    }
    assert [item["Name"] for item in items] == [
        "Amount",
        "MpesaReceiptNumber",
        "TransactionDate",
        "PhoneNumber",
    ]
    values = {item["Name"]: item["Value"] for item in items}
    assert values["Amount"] == 10 and isinstance(values["Amount"], int)
    assert values["MpesaReceiptNumber"] == receipt
    assert values["PhoneNumber"] == 254708374149
    date = values["TransactionDate"]
    assert isinstance(date, int)
    eat_now = datetime.now(timezone(timedelta(hours=3))).replace(tzinfo=None)
    assert abs(datetime.strptime(str(date), "%Y%m%d%H%M%S") - eat_now) < timedelta(
        seconds=5
    )
    [pushed] = sim.pushes
    assert pushed["CheckoutRequestID"] == cid
    assert pushed["receipt"] == receipt
    assert pushed["state"] == "final"
    assert pushed["AccountReference"] == "ACC10023"
    assert wait_until(lambda: len(sim.deliveries) == 1)
    [delivery] = sim.deliveries
    assert delivery.url == receiver.base + got["path"]
    assert delivery.status == 200
    assert delivery.payload == got["json"]


def test_receipts_unique(sim, receiver):
    token = get_token(sim)
    sim.subscriber_lock = False
    sim.auto_deliver = False
    cids = [push(sim, receiver, token) for _ in range(50)]
    receipts = {sim.receipt_for(cid) for cid in cids}
    assert len(receipts) == 50 and len(set(cids)) == 50


@pytest.mark.parametrize(
    "code, desc",
    [
        (1032, "Request cancelled by user."),
        (1, "The balance is insufficient for the transaction."),
        (1037, "DS timeout user cannot be reached."),
        (2001, "The initiator information is invalid."),
        ("E3008", "Error, the user has a bad debt contract."),
    ],
)
def test_failure_callback_and_query(sim, receiver, code, desc):
    sim.script(Outcome(result_code=code))
    token = get_token(sim)
    cid = push(sim, receiver, token)
    [got] = receiver.wait_for(1)
    assert got["json"] == {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": sim.pushes[0]["MerchantRequestID"],
                "CheckoutRequestID": cid,
                "ResultCode": code,
                "ResultDesc": desc,
            }
        }
    }
    assert sim.receipt_for(cid) is None
    answer = query(sim, token, cid)
    assert answer.status_code == 200
    assert answer.json()["ResultCode"] == str(code)
    assert answer.json()["ResultDesc"] == desc
    assert "MpesaReceiptNumber" not in answer.text


def test_balance_item_and_paid_amount(sim, receiver):
    sim.script(Outcome(balance_item=True, paid_amount=5))
    push(sim, receiver, get_token(sim), Amount=10)
    [got] = receiver.wait_for(1)
    items = got["json"]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    assert items[2] == {"Name": "Balance"}
    assert items[0] == {"Name": "Amount", "Value": 5}
    assert [item["Name"] for item in items][3:] == ["TransactionDate", "PhoneNumber"]


def test_paybill_partyb_mismatch_is_2028(sim, receiver):
    push(sim, receiver, get_token(sim), PartyB="600984")
    [got] = receiver.wait_for(1)
    assert got["json"]["Body"]["stkCallback"]["ResultCode"] == 2028


def test_script_matching(sim, receiver):
    sim.auto_deliver = False
    sim.subscriber_lock = False
    sim.script(Outcome(result_code=1), phone=OTHER_PHONE)
    sim.script(Outcome(result_code=17), amount=99)
    sim.script(Outcome(result_code=1032), phone=OTHER_PHONE, amount=5)
    token = get_token(sim)
    cases = [
        (PHONE, 10, 0),  # default
        (OTHER_PHONE, 10, 1),
        (PHONE, 99, 17),
        (OTHER_PHONE, 99, 17),  # the most recent matching script wins
        (OTHER_PHONE, 5, 1032),
    ]
    for phone, amount, code in cases:
        cid = push(sim, receiver, token, PhoneNumber=phone, PartyA=phone, Amount=amount)
        assert (
            sim.stk_callback_payload(cid)["Body"]["stkCallback"]["ResultCode"] == code
        )
    sim.reset()
    cid = push(
        sim, receiver, get_token(sim), PhoneNumber=OTHER_PHONE, PartyA=OTHER_PHONE
    )
    assert sim.stk_callback_payload(cid)["Body"]["stkCallback"]["ResultCode"] == 0


def test_subscriber_lock(sim, receiver):
    sim.script(Outcome(delay=30), phone=PHONE)
    token = get_token(sim)
    cid = push(sim, receiver, token)
    response = post(sim, STK, push_body(receiver), token)
    assert_error(
        response,
        500,
        "500.001.1001",
        "Unable to lock subscriber, a transaction is already in process for the "
        "current subscriber",
    )
    push(sim, receiver, token, PhoneNumber=OTHER_PHONE, PartyA=OTHER_PHONE)
    sim.settle(cid)
    second = push(sim, receiver, token)  # the first one is final now
    sim.subscriber_lock = False
    push(sim, receiver, token)
    assert len(sim.pushes) == 4 and second != cid


# --- STK query ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["A", "B"])
def test_query_pending_then_final(sim, receiver, form):
    sim.script(Outcome(result_code=0, delay=30, query_pending=form))
    token = get_token(sim)
    cid = push(sim, receiver, token)
    pending = query(sim, token, cid)
    if form == "A":
        assert pending.status_code == 500
        assert pending.json() == {
            "requestId": cid,
            "errorCode": "500.001.1001",
            "errorMessage": "The transaction is being processed",
        }
    else:
        assert pending.status_code == 200
        assert pending.json() == {
            "ResultCode": "4999",
            "ResultDesc": "The transaction is still under processing",
        }
    assert receiver.wait_for(1, timeout=0.3) == []  # not final: no callback
    sim.settle(cid)
    final = query(sim, token, cid)
    assert final.status_code == 200
    assert final.json() == {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": sim.pushes[0]["MerchantRequestID"],
        "CheckoutRequestID": cid,
        "ResultCode": "0",
        "ResultDesc": "The service request is processed successfully.",
    }
    assert len(receiver.wait_for(1)) == 1  # settle() made the callback due
    assert [q["status"] for q in sim.queries] == [pending.status_code, 200]
    assert sim.queries[0]["CheckoutRequestID"] == cid
    assert sim.queries[1]["response"]["ResultCode"] == "0"


def test_query_errors(sim, receiver):
    token = get_token(sim)
    response = query(sim, token, "ws_CO_000000000000")
    assert_error(response, 400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
    timestamp = eat_timestamp()
    body = {
        "BusinessShortCode": "174379",
        "Password": "d3Jvbmc=",
        "Timestamp": timestamp,
        "CheckoutRequestID": "ws_CO_1",
    }
    response = post(sim, QUERY, body, token)
    assert_error(response, 500, "500.001.1001", "Wrong credentials")


def test_query_rate_limit(sim, receiver):
    token = get_token(sim)
    cid = push(sim, receiver, token)
    sim.rate_limit_queries(2)
    answers = [query(sim, token, cid) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_error(
        answers[2], 500, "500.003.02", "Error Occurred: Spike Arrest Violation"
    )
    time.sleep(1.05)
    assert query(sim, token, cid).status_code == 200
    sim.rate_limit_queries(None)
    assert all(query(sim, token, cid).status_code == 200 for _ in range(5))


# --- delivery faults ------------------------------------------------------------------


def test_delivery_drop(sim, receiver):
    sim.script(Outcome(delivery="drop"))
    token = get_token(sim)
    cid = push(sim, receiver, token)
    assert receiver.wait_for(1, timeout=0.5) == []
    assert query(sim, token, cid).json()["ResultCode"] == "0"
    assert sim.deliveries == [] and sim.deliver() == []
    assert sim.pushes[0]["callback"] == "dropped"


def test_delivery_duplicate(sim, receiver):
    sim.script(Outcome(delivery="duplicate"))
    push(sim, receiver, get_token(sim))
    first, second = receiver.wait_for(2)
    assert first["json"] == second["json"]
    assert receiver.wait_for(3, timeout=0.3)[2:] == []
    assert wait_until(lambda: len(sim.deliveries) == 2)


def test_delivery_duplicate_parallel(sim, receiver):
    receiver.answer("/payment", delay=0.4)
    sim.script(Outcome(delivery="duplicate_parallel"))
    push(sim, receiver, get_token(sim))
    first, second = receiver.wait_for(2)
    assert first["json"] == second["json"]
    assert wait_until(lambda: first["ended"] and second["ended"])
    # both were being handled at the same time
    assert max(first["started"], second["started"]) < min(
        first["ended"], second["ended"]
    )


def test_delivery_wrong_token(sim, receiver):
    sim.script(Outcome(delivery="wrong_token"))
    push(sim, receiver, get_token(sim))
    [got] = receiver.wait_for(1)
    assert got["path"].startswith("/payment/daraja/stk/")
    assert got["path"] != "/payment/daraja/stk/Tok3n"


def test_delivery_late(sim, receiver):
    sim.script(Outcome(delay=0.2, delivery="late", late_by=0.8))
    token = get_token(sim)
    cid = push(sim, receiver, token)
    time.sleep(0.3)
    assert query(sim, token, cid).json()["ResultCode"] == "0"  # final...
    assert receiver.received == []  # ...but no callback yet
    [got] = receiver.wait_for(1, timeout=3)
    assert got["json"]["Body"]["stkCallback"]["CheckoutRequestID"] == cid


def test_delivery_delay(sim, receiver):
    sim.script(Outcome(delay=0.5, query_pending="B"))
    token = get_token(sim)
    started = time.monotonic()
    cid = push(sim, receiver, token)
    assert query(sim, token, cid).json()["ResultCode"] == "4999"
    receiver.wait_for(1)
    assert time.monotonic() - started >= 0.45
    assert query(sim, token, cid).json()["ResultCode"] == "0"


def test_manual_delivery(receiver):
    with DarajaSimulator(auto_deliver=False) as sim:
        sim.subscriber_lock = False
        token = get_token(sim)
        due = push(sim, receiver, token)
        sim.script(Outcome(delay=30))
        later = push(sim, receiver, token)
        time.sleep(0.2)
        assert receiver.received == []  # nothing automatic
        [delivery] = sim.deliver()
        assert delivery.status == 200 and delivery.checkout_request_id == due
        assert delivery.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
        assert sim.deliver() == []  # already sent; the other one is not due
        [named] = sim.deliver(later)  # the named one goes even if not due
        assert named.checkout_request_id == later
        assert len(receiver.received) == 2
        with pytest.raises(KeyError):
            sim.deliver("ws_CO_unknown")
        sim.script(Outcome())
        cid = push(sim, receiver, token)
        sim.auto_deliver = True  # what waits goes now
        assert len(receiver.wait_for(3)) == 3
        assert wait_until(lambda: len(sim.deliveries) == 3)
        assert sim.deliveries[-1].checkout_request_id == cid


def test_failed_delivery_is_recorded(sim, receiver):
    receiver.answer("/payment", status=404, body={"error": "unknown token"})
    token = get_token(sim)
    push(sim, receiver, token)
    receiver.wait_for(1)
    assert wait_until(lambda: len(sim.deliveries) == 1)
    assert sim.deliveries[0].status == 404
    closed = "http://127.0.0.1:9/payment/x"  # discard port: refused
    push(sim, receiver, token, CallBackURL=closed, PhoneNumber=OTHER_PHONE)
    assert wait_until(lambda: len(sim.deliveries) == 2)
    assert sim.deliveries[1].status is None and sim.deliveries[1].error


# --- C2B ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_c2b_register_and_simulate(sim, receiver, version):
    token = get_token(sim)
    response = register(sim, token, receiver, version)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "OriginatorCoversationID",
        "ResponseCode",
        "ResponseDescription",
    }
    assert (body["ResponseCode"], body["ResponseDescription"]) == ("0", "Success")
    [registration] = sim.registrations
    assert registration["version"] == version
    # sandbox: overwrite freely
    assert register(sim, token, receiver, version).status_code == 200

    simulate = {
        "ShortCode": 600984,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 10,
        "Msisdn": 254708374149,
        "BillRefNumber": "ACC10023",
    }
    response = post(sim, f"/mpesa/c2b/{version}/simulate", simulate, token)
    assert response.status_code == 200
    assert response.json()["ResponseCode"] == "0"
    assert "OriginatorCoversationID" in response.json()
    [got] = receiver.wait_for(1)
    assert got["path"] == "/c2b/confirm/Tok3n"
    payload = got["json"]
    assert all(isinstance(value, str) for value in payload.values())
    assert payload["TransAmount"] == "10.00"
    assert payload["BillRefNumber"] == "ACC10023"
    assert payload["MSISDN"] == "254708374149"
    assert payload["BusinessShortCode"] == "600984"
    assert payload["TransactionType"] == "Pay Bill"
    assert re.fullmatch(r"[A-Z0-9]{10}", payload["TransID"])
    assert re.fullmatch(r"\d{14}", payload["TransTime"])
    assert payload["OrgAccountBalance"]


def test_c2b_register_errors(sim, receiver):
    token = get_token(sim)
    invalid = "400.002.02"
    response = register(sim, token, receiver, ResponseType="Confirmed")
    assert_error(response, 400, invalid, "Bad Request - Invalid ResponseType")
    for word in ("mpesa", "M-Pesa", "safaricom", "exec", "cmd", "SQL", "query"):
        url = f"{receiver.base}/{word}/confirm"
        response = register(sim, token, receiver, ConfirmationURL=url)
        assert_error(response, 400, invalid, "Bad Request - Invalid ConfirmationURL")
    response = register(
        sim, token, receiver, ValidationURL="https://abc.ngrok.io/validate"
    )
    assert_error(response, 400, invalid, "Bad Request - Invalid ValidationURL")
    response = register(sim, token, receiver, ShortCode="999999")
    assert_error(response, 400, invalid, "Bad Request - Invalid ShortCode")
    response = register(sim, token, receiver, ValidationURL="")
    assert_error(response, 400, "400.003.02", "Bad Request")
    assert sim.registrations == []


def test_c2b_production_mode(sim, receiver):
    sim.c2b_production_mode = True
    token = get_token(sim)
    assert register(sim, token, receiver, "v2").status_code == 200
    for version in ("v1", "v2"):
        response = register(sim, token, receiver, version)
        assert_error(response, 500, "500.003.1001", "Urls are already registered")
    assert len(sim.registrations) == 1
    sim.reset()
    assert sim.c2b_production_mode is False and sim.registrations == []


@pytest.mark.parametrize("rejected, works", [("v1", "v2"), ("v2", "v1")])
def test_c2b_reject_version(sim, receiver, rejected, works):
    sim.c2b_reject_version = rejected
    token = get_token(sim)
    response = register(sim, token, receiver, rejected)
    assert_error(
        response,
        401,
        "401.003.01",
        "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct "
        "match found",
    )
    assert register(sim, token, receiver, works).status_code == 200
    assert [r["version"] for r in sim.registrations] == [works]


def test_c2b_pay_msisdn_modes(sim, receiver):
    with pytest.raises(RuntimeError, match="no C2B URLs registered"):
        sim.c2b_pay("ACC1", 100)
    register(sim, get_token(sim), receiver)
    plain = sim.c2b_pay("ACC1", 100)
    masked = sim.c2b_pay("ACC1", "150", msisdn_mode="masked", first_name="MARY")
    hashed = sim.c2b_pay("ACC1", 200, msisdn="254712345678", msisdn_mode="hashed")
    assert plain["accepted"] and plain["validation"] is None
    assert plain["confirmation"].status == 200
    received = [r["json"] for r in receiver.wait_for(3)]
    assert received[0]["MSISDN"] == "254708374149"
    assert received[1]["MSISDN"] == "2547 ***** 149"
    assert received[1]["TransAmount"] == "150"
    assert received[1]["FirstName"] == "MARY"
    # the published worked example (facts §6.3)
    assert received[2]["MSISDN"] == (
        "7132104d6aae9c3fac82095a42c2817952bca48e09d98d5bf4ac08218982fb90"
    )
    assert received[2]["MSISDN"] == hashlib.sha256(b"254712345678").hexdigest()
    assert hashed["trans_id"] == received[2]["TransID"]
    assert len({p["trans_id"] for p in (plain, masked, hashed)}) == 3
    assert sim.c2b_pay("ACC1", 1, trans_id="SKL1ABCD23")["trans_id"] == "SKL1ABCD23"


def test_c2b_validation_accept_and_reject(sim, receiver):
    register(sim, get_token(sim), receiver)
    receiver.answer(
        "/c2b/validate",
        body={
            "ResultCode": "0",
            "ResultDesc": "Accepted",
            "ThirdPartyTransID": "SUB-1",
        },
    )
    accepted = sim.c2b_pay("ACC1", 100, validation=True)
    assert accepted["accepted"]
    validation, confirmation = receiver.wait_for(2)
    assert validation["path"] == "/c2b/validate/Tok3n"
    assert validation["json"]["OrgAccountBalance"] == ""
    assert confirmation["path"] == "/c2b/confirm/Tok3n"
    assert confirmation["json"]["ThirdPartyTransID"] == "SUB-1"
    assert confirmation["json"]["OrgAccountBalance"] != ""
    assert confirmation["json"]["TransID"] == validation["json"]["TransID"]

    receiver.answer("/c2b/validate", body={"ResultCode": "C2B00012", "ResultDesc": "x"})
    sim.c2b_validation_enabled = True
    rejected = sim.c2b_pay("ACC2", 100)
    assert not rejected["accepted"] and rejected["confirmation"] is None
    assert rejected["validation"].status == 200
    assert len(receiver.wait_for(4, timeout=0.5)) == 3  # no confirmation


@pytest.mark.parametrize(
    "response_type, confirmed", [("Completed", True), ("Cancelled", False)]
)
@pytest.mark.parametrize("failure", ["timeout", "not_json"])
def test_c2b_validation_default(sim, receiver, response_type, confirmed, failure):
    register(sim, get_token(sim), receiver, ResponseType=response_type)
    sim.c2b_validation_enabled = True
    if failure == "timeout":
        sim.c2b_validation_timeout = 0.3
        receiver.answer("/c2b/validate", delay=1.0)
    else:
        receiver.answer("/c2b/validate", body=b"<html>oops</html>")
    result = sim.c2b_pay("ACC1", 100)
    assert result["accepted"] is confirmed
    assert (result["confirmation"] is not None) is confirmed
    if failure == "timeout":
        assert result["validation"].status is None
    confirmations = receiver.wait_for(1, timeout=1.5, path="/c2b/confirm")
    assert len(confirmations) == int(confirmed)


def test_stk_also_c2b(sim, receiver):
    token = get_token(sim)
    register(sim, token, receiver, ShortCode="174379")
    sim.script(Outcome(also_c2b=True))
    cid = push(sim, receiver, token, AccountReference="ACC777")
    callback = receiver.wait_for(1, path="/payment")
    [confirmation] = receiver.wait_for(1, path="/c2b/confirm")
    payload = confirmation["json"]
    assert payload["TransID"] == sim.receipt_for(cid)
    assert payload["BillRefNumber"] == "ACC777"
    assert payload["TransactionType"] == "Pay Bill"
    assert payload["TransAmount"] == "10.00"
    assert payload["BusinessShortCode"] == "174379"
    assert len(callback) == 1

    # the STK callback lost, the C2B confirmation still comes
    sim.script(Outcome(also_c2b=True, delivery="drop"))
    cid = push(sim, receiver, token, PhoneNumber=OTHER_PHONE)
    confirmations = receiver.wait_for(2, path="/c2b/confirm")
    assert confirmations[1]["json"]["TransID"] == sim.receipt_for(cid)
    assert len(receiver.wait_for(2, timeout=0.3, path="/payment")) == 1


# --- generic errors -------------------------------------------------------------------


def test_generic_errors(sim, receiver):
    token = get_token(sim)
    headers = {"Authorization": f"Bearer {token}"}
    response = HTTP.get(sim.base_url + STK, headers=headers)
    assert_error(response, 405, "405.001", "Method Not Allowed")
    response = HTTP.post(
        sim.base_url + "/mpesa/nothing/v1/here", json={}, headers=headers
    )
    assert_error(response, 404, "404.001.01", "Resource not found")
    response = HTTP.post(
        sim.base_url + STK,
        data=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "400.002.05", "Invalid Request Payload")
    response = HTTP.post(sim.base_url + STK, data=push_body(receiver), headers=headers)
    assert response.request.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert_error(response, 400, "400.002.02", "Bad Request - Invalid BusinessShortCode")


# --- control API, CLI -----------------------------------------------------------------


def test_control_api(sim, receiver):
    control = sim.base_url + "/__sim__/"
    script = {"result_code": 1032, "delay": 30, "query_pending": "B", "phone": PHONE}
    assert HTTP.post(control + "script", json=script).status_code == 200
    bad = HTTP.post(control + "script", json={"delivery": "sometimes"})
    assert bad.status_code == 400 and "delivery" in bad.json()["error"]
    token = get_token(sim)
    cid = push(sim, receiver, token)
    assert query(sim, token, cid).json()["ResultCode"] == "4999"
    assert HTTP.post(control + "settle", json={"CheckoutRequestID": cid}).ok
    assert query(sim, token, cid).json()["ResultCode"] == "1032"
    receiver.wait_for(1)
    assert wait_until(lambda: len(sim.deliveries) == 1)

    settings = HTTP.post(
        control + "settings",
        json={
            "subscriber_lock": False,
            "rate_limit": 5,
            "c2b_validation_enabled": True,
        },
    )
    assert settings.status_code == 200
    assert settings.json()["subscriber_lock"] is False
    assert settings.json()["rate_limit"] == 5
    assert sim.subscriber_lock is False and sim.c2b_validation_enabled is True
    assert HTTP.post(control + "settings", json={"nope": 1}).status_code == 400

    register(sim, token, receiver)
    paid = HTTP.post(
        control + "c2b_pay",
        json={"bill_ref": "ACC9", "amount": 50, "msisdn_mode": "hashed"},
    )
    assert paid.status_code == 200
    body = paid.json()
    assert body["accepted"] is True and body["validation"]["status"] == 200
    assert body["confirmation"]["payload"]["BillRefNumber"] == "ACC9"

    state = HTTP.get(control + "state").json()
    assert state["counts"]["pushes"] == 1
    assert state["counts"]["queries"] == 2
    assert state["counts"]["deliveries"] == 3  # callback, validation, confirmation
    assert state["pushes"][0]["CheckoutRequestID"] == cid
    assert state["queries"][1]["response"]["ResultCode"] == "1032"
    assert "pushes" not in HTTP.get(control + "state?lists=0").json()

    assert HTTP.post(control + "expire_tokens", json={}).ok
    assert post(sim, STK, push_body(receiver), token).status_code == 404
    assert HTTP.post(control + "reset").status_code == 200
    state = HTTP.get(control + "state").json()
    assert state["counts"] == dict.fromkeys(state["counts"], 0)
    assert state["settings"]["subscriber_lock"] is True
    assert state["settings"]["rate_limit"] is None
    assert HTTP.get(control + "nothing").status_code == 404


def test_control_deliver(receiver):
    with DarajaSimulator(auto_deliver=False) as sim:
        push(sim, receiver, get_token(sim))
        answer = HTTP.post(sim.base_url + "/__sim__/deliver", json={})
        assert answer.status_code == 200
        [delivery] = answer.json()["deliveries"]
        assert delivery["status"] == 200 and delivery["kind"] == "stk"


def test_cli(receiver):
    port_probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = port_probe.server_address[1]
    port_probe.server_close()
    script = Path(__file__).resolve().parent / "daraja_simulator.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--shortcode", "174379"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}"

        class Remote:
            base_url = f"http://127.0.0.1:{port}"

        token = get_token(Remote)
        push(Remote, receiver, token)
        receiver.wait_for(1)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert "/mpesa/stkpush/v1/processrequest -> 200" in stderr
    assert "2547 ***** 149" in stderr
    assert PHONE not in stderr  # phone numbers are masked in the log
