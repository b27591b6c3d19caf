"""Tests of the Africa's Talking SMS simulator (tests/sms_gateway_simulator.py).

No Odoo: plain HTTP requests, as the API's documentation shows them.
"""

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sms_gateway_simulator import SmsGatewaySimulator, sms_parts  # noqa: E402

HTTP = requests.Session()
HTTP.trust_env = False  # never through a proxy
HEADERS = {"apiKey": "key", "Accept": "application/json"}


@pytest.fixture
def sim():
    with SmsGatewaySimulator(username="isp", api_key="key") as simulator:
        yield simulator


def send(sim, headers=HEADERS, **form):
    data = {"username": "isp", "to": "+254712345678", "message": "Hello", **form}
    return HTTP.post(f"{sim.base_url}/version1/messaging", data=data, headers=headers)


def test_send_to_two_numbers(sim):
    response = send(sim, to="+254712345678,+254733000111", **{"from": "MYISP"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    data = response.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 2/2 Total Cost: KES 1.6000"
    first, second = data["Recipients"]
    assert first["number"] == "+254712345678"
    assert (first["statusCode"], first["status"], first["cost"]) == (
        101,
        "Success",
        "KES 0.8000",
    )
    assert first["messageId"].startswith("ATXid_")
    assert first["messageId"] != second["messageId"]
    (message,) = sim.messages
    assert (message.username, message.to, message.message, message.sender) == (
        "isp",
        ["+254712345678", "+254733000111"],
        "Hello",
        "MYISP",
    )
    assert sim.sent_to("+254733000111") == ["Hello"]


def test_xml_without_accept_json(sim):
    response = send(sim, headers={"apiKey": "key"})
    assert response.status_code == 201
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<statusCode>101</statusCode>" in response.text


def test_bad_api_key_and_username(sim):
    assert send(sim, headers={"apiKey": "nope"}).status_code == 401
    response = send(sim, username="other")
    assert (response.status_code, response.text) == (
        401,
        "The supplied authentication is invalid",
    )
    assert not sim.messages
    assert [r.status for r in sim.requests] == [401, 401]


def test_missing_field(sim):
    response = send(sim, message="")
    assert response.status_code == 400
    assert "message" in response.text


def test_per_number_statuses(sim):
    sim.number_status["+254700000403"] = 403
    sim.blacklist.add("+254700000406")
    sim.sender_ids = {"MYISP"}
    to = "+254700000403,+254700000406,0712345678,+254712345678"
    data = send(sim, to=to)
    recipients = data.json()["SMSMessageData"]["Recipients"]
    assert [(r["statusCode"], r["status"]) for r in recipients] == [
        (403, "InvalidPhoneNumber"),
        (406, "UserInBlacklist"),
        (403, "InvalidPhoneNumber"),
        (101, "Success"),
    ]
    assert [(r["cost"], r["messageId"]) for r in recipients[:3]] == [("0", "None")] * 3
    assert data.json()["SMSMessageData"]["Message"] == (
        "Sent to 1/4 Total Cost: KES 0.8000"
    )
    bad_sender = send(sim, **{"from": "OTHER"}).json()["SMSMessageData"]
    assert bad_sender["Recipients"][0]["statusCode"] == 402


def test_insufficient_balance(sim):
    sim.balance = 1.0
    recipients = send(sim, to="+254712345678,+254733000111").json()["SMSMessageData"][
        "Recipients"
    ]
    assert [r["statusCode"] for r in recipients] == [101, 405]
    assert recipients[1]["status"] == "InsufficientBalance"


def test_http_error_and_down(sim):
    sim.http_error = 503
    assert send(sim).status_code == 503
    assert not sim.messages
    sim.http_error = None
    port = sim.port
    sim.down()
    with pytest.raises(requests.ConnectionError):
        send(sim)
    sim.up()
    assert sim.port == port
    assert send(sim).status_code == 201


def test_wrong_path_and_method(sim):
    assert HTTP.post(f"{sim.base_url}/version1/other").status_code == 404
    assert HTTP.get(f"{sim.base_url}/version1/messaging").status_code == 405


def test_sms_parts():
    assert sms_parts("a" * 160) == (1, "GSM-7")
    assert sms_parts("a" * 161) == (2, "GSM-7")
    assert sms_parts("€" * 80) == (1, "GSM-7")
    assert sms_parts("€" * 81) == (2, "GSM-7")
    assert sms_parts("ш" * 70) == (1, "UCS-2")
    assert sms_parts("ш" * 71) == (2, "UCS-2")
