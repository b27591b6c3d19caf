"""M-PESA callbacks racing each other against a real Odoo HTTP server.

isp_mpesa's own tests run in Odoo's HttpCase, which serializes HTTP requests
and never commits: they cannot show that parallel callbacks make one payment.
The callback routes only keep what they receive (the inbox,
``isp.mpesa.callback``); the payments job processes it, and the subscriber's
status page processes the STK callback of the payment it watches: the parallel
POSTs race for the inbox, the job and the status page for the receipt.
Here Odoo runs as a separate server process on the test database (threaded,
``--workers=0``: every request in its own thread and PostgreSQL transaction, so
the 8 parallel POSTs really run at the same time), the data is committed
through the ORM, the Daraja simulator runs in this process (``auto_deliver``
off: the test triggers every delivery) and callbacks are POSTed at the same
moment from several threads (a barrier). Each case checks, from the committed
database, exactly one ``account.payment`` of the hand-computed amount, the
invoice paid once and one ``isp.mpesa.payment`` row for the receipt; at the
end the server's log must hold no ERROR, CRITICAL or traceback (Odoo retries
serialization failures and logs them at INFO).

Rows are made unique per run (a company of its own, named with a random
suffix) and its provider is disabled afterwards, so that reruns on a kept
database do not collide.
"""

import os
import re
import secrets
import threading
from pathlib import Path

import psycopg2
import pytest
import requests

import harness
from daraja_simulator import (
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    DarajaSimulator,
    Outcome,
    eat_timestamp,
)
from mpesa_shop import create_mpesa_shop

STARTUP_TIMEOUT = 120  # seconds until /web/health answers
ROUNDS = 5  # case (d): rounds of STK callback + paybill confirmation at once
C2B_PARALLEL = 8  # case (b): parallel POSTs of one confirmation
CONSUMER_KEY, CONSUMER_SECRET = "race-key", "race-secret"
RUN = secrets.token_hex(3).upper()  # unique names per run


def odoo_env(cr):
    import odoo  # noqa: PLC0415

    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})


@pytest.fixture(scope="module")
def sim():
    simulator = DarajaSimulator(
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        shortcode=SANDBOX_SHORTCODE,
        passkey=SANDBOX_PASSKEY,
        c2b_shortcode=SANDBOX_SHORTCODE,
        auto_deliver=False,
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def odoo_server(isp_test_db, tmp_path_factory):
    """(base URL, log path): Odoo serving the test database, threaded, no cron
    worker (no status job querying behind our back)."""
    log_dir = Path(os.environ.get("ISP_LOG_DIR") or tmp_path_factory.mktemp("mpesa"))
    log = log_dir / "mpesa_concurrency.log"
    try:
        with harness.odoo_http_server(isp_test_db, log, STARTUP_TIMEOUT) as url:
            yield url, log
    except harness.HarnessError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def shop(odoo_registry, odoo_server, sim):
    """A Kenyan company billing in KES with an M-PESA provider pointed at the
    simulator and called back by the server; committed. Yields its ids."""
    url, __ = odoo_server
    with odoo_registry.cursor() as cr:
        env = odoo_env(cr)
        company, provider = create_mpesa_shop(
            env,
            f"M-PESA race {RUN}",
            {
                "consumer_key": CONSUMER_KEY,
                "consumer_secret": CONSUMER_SECRET,
                "shortcode": SANDBOX_SHORTCODE,
                "passkey": SANDBOX_PASSKEY,
            },
            sim.base_url,
            url,
        )
        ids = {
            "company": company.id,
            "provider": provider.id,
            "token": provider.mpesa_callback_token,
        }
    yield ids
    with odoo_registry.cursor() as cr:
        odoo_env(cr)["payment.provider"].browse(ids["provider"]).state = "disabled"


def new_invoice(env, shop, amount, phone):
    """A customer of its own and a posted KES invoice of ``amount``."""
    company = env["res.company"].browse(shop["company"])
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    partner = env["res.partner"].create(
        {
            "name": f"Race customer {RUN} {phone}",
            "mobile": phone,
            "country_id": env.ref("base.ke").id,
        }
    )
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": env.ref("base.KES").id,
            "invoice_date": "2026-11-01",
            "invoice_line_ids": [
                (
                    0,
                    0,
                    {
                        "name": "Internet, November",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [(6, 0, [])],
                    },
                )
            ],
        }
    )
    invoice.action_post()
    return invoice


def stk_payment(odoo_registry, shop, sim, amount, phone, outcome=None):
    """Invoice, then staff's "Request M-PESA payment" (an STK push accepted by
    the simulator), committed. Returns (invoice id, tx id, the push)."""
    if outcome:
        sim.script(outcome, phone=phone)
    with odoo_registry.cursor() as cr:
        env = odoo_env(cr)
        invoice = new_invoice(env, shop, amount, phone)
        wizard = (
            env["isp.mpesa.request"]
            .with_context(
                default_invoice_ids=invoice.ids, allowed_company_ids=[shop["company"]]
            )
            .create({"phone": phone})
        )
        wizard.action_send()
        tx = env["payment.transaction"].search(
            [("invoice_ids", "in", invoice.ids)], limit=1
        )
        assert tx.state == "pending", tx.state_message
        invoice_id, tx_id = invoice.id, tx.id
        checkout_id = tx.mpesa_checkout_request_id
    push = next(p for p in sim.pushes if p["CheckoutRequestID"] == checkout_id)
    return invoice_id, tx_id, push


def post_at_once(posts):
    """POST each (url, json) from its own thread, all released together;
    return the responses (status, JSON) in order."""
    barrier = threading.Barrier(len(posts))
    results = [None] * len(posts)

    def send(index, url, payload):
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait(10)
            try:
                response = session.post(url, json=payload, timeout=60)
                results[index] = (response.status_code, response.json())
            except (requests.RequestException, ValueError) as exc:
                results[index] = ("error", repr(exc))

    threads = [
        threading.Thread(target=send, args=(i, url, payload))
        for i, (url, payload) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def c2b_confirmation(trans_id, amount, bill_ref, phone):
    """A paybill confirmation as Daraja sends it (facts §6.3)."""
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": eat_timestamp(),
        "TransAmount": f"{amount:.2f}",
        "BusinessShortCode": SANDBOX_SHORTCODE,
        "BillRefNumber": bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": "125000.00",
        "ThirdPartyTransID": "",
        "MSISDN": phone,
        "FirstName": "JOHN",
        "MiddleName": "",
        "LastName": "",
    }


def post_process(odoo_registry):
    """The post-processing job the callbacks trigger (the server runs no cron
    thread here): payments made, posted and reconciled, one transaction per
    commit."""
    with odoo_registry.cursor() as cr:
        odoo_env(cr)["payment.transaction"]._cron_mpesa_post_process()


def outcome_of(odoo_registry, invoice_id, receipt):
    """What the committed database says about one invoice and one receipt,
    once the post-processing job has run."""
    post_process(odoo_registry)
    with odoo_registry.cursor() as cr:
        env = odoo_env(cr)
        invoice = env["account.move"].browse(invoice_id)
        partner = invoice.partner_id
        payments = env["account.payment"].search([("partner_id", "=", partner.id)])
        ledger = env["isp.mpesa.payment"].search([("name", "=", receipt)])
        txs = env["payment.transaction"].search([("partner_id", "=", partner.id)])
        return {
            "payments": sorted(payments.mapped("amount")),
            "payment_states": sorted(payments.mapped("state")),
            "residual": invoice.amount_residual,
            "payment_state": invoice.payment_state,
            "ledger": [(e.channel, e.state, e.amount) for e in ledger],
            "ledger_tx_partner": ledger.transaction_id.partner_id.id == partner.id,
            "done_txs": len(txs.filtered(lambda t: t.state == "done")),
            "receipts": txs.mapped("mpesa_receipt"),
        }


def phone_for(index):
    return f"2547{RUN_DIGITS}{index:03d}"


RUN_DIGITS = f"{secrets.randbelow(10**5):05d}"
PAID = ("paid", "in_payment")


def test_a_same_stk_callback_twice_in_parallel(odoo_registry, shop, sim):
    amount = 2999.0
    invoice_id, tx_id, push = stk_payment(
        odoo_registry,
        shop,
        sim,
        amount,
        phone_for(1),
        Outcome(delivery="duplicate_parallel"),
    )
    deliveries = sim.deliver(push["CheckoutRequestID"])
    assert [(d.status, d.json()) for d in deliveries] == [
        (200, {"ResultCode": 0, "ResultDesc": "Accepted"})
    ] * 2
    receipt = push["receipt"]
    state = outcome_of(odoo_registry, invoice_id, receipt)
    assert state["payments"] == [2999.0]
    assert state["residual"] == 0.0
    assert state["payment_state"] in PAID
    assert state["ledger"] == [("stk", "matched", 2999.0)]
    assert state["done_txs"] == 1
    assert state["receipts"] == [receipt]


def test_b_eight_parallel_paybill_confirmations(odoo_registry, shop, odoo_server):
    url, __ = odoo_server
    amount = 1500.0
    phone = phone_for(2)
    with odoo_registry.cursor() as cr:
        invoice = new_invoice(odoo_env(cr), shop, amount, phone)
        invoice_id, number = invoice.id, invoice.name
    receipt = f"B{RUN}{secrets.token_hex(2).upper()}"
    body = c2b_confirmation(receipt, amount, number, phone)
    confirm = f"{url}/payment/daraja/c2b/confirm/{shop['token']}"
    answers = post_at_once([(confirm, body)] * C2B_PARALLEL)
    assert answers == [(200, {"ResultCode": 0, "ResultDesc": "Success"})] * 8
    state = outcome_of(odoo_registry, invoice_id, receipt)
    assert state["payments"] == [1500.0]
    assert state["residual"] == 0.0
    assert state["payment_state"] in PAID
    assert state["ledger"] == [("c2b", "matched", 1500.0)]
    assert state["ledger_tx_partner"]
    assert state["done_txs"] == 1


def stk_and_c2b_at_once(odoo_registry, shop, sim, url, amount, phone):
    """An accepted STK push, then its success callback and the paybill
    confirmation of the same receipt POSTed at the same moment."""
    invoice_id, tx_id, push = stk_payment(odoo_registry, shop, sim, amount, phone)
    receipt = push["receipt"]
    callback = sim.stk_callback_payload(push["CheckoutRequestID"])
    confirmation = c2b_confirmation(receipt, amount, push["AccountReference"], phone)
    answers = post_at_once(
        [
            (f"{url}/payment/daraja/stk/{shop['token']}", callback),
            (f"{url}/payment/daraja/c2b/confirm/{shop['token']}", confirmation),
        ]
    )
    assert answers == [
        (200, {"ResultCode": 0, "ResultDesc": "Accepted"}),
        (200, {"ResultCode": 0, "ResultDesc": "Success"}),
    ]
    return outcome_of(odoo_registry, invoice_id, receipt), receipt


def check_one_payment_both_channels(state, receipt, amount):
    assert state["payments"] == [amount]
    assert state["residual"] == 0.0
    assert state["payment_state"] in PAID
    assert state["ledger"] == [("both", "matched", amount)]
    assert state["done_txs"] == 1
    assert state["receipts"] == [receipt]


def test_c_stk_callback_and_paybill_confirmation_at_once(
    odoo_registry, shop, sim, odoo_server
):
    url, __ = odoo_server
    state, receipt = stk_and_c2b_at_once(
        odoo_registry, shop, sim, url, 4321.0, phone_for(3)
    )
    check_one_payment_both_channels(state, receipt, 4321.0)


def test_d_stk_and_paybill_race_repeated(odoo_registry, shop, sim, odoo_server):
    url, __ = odoo_server
    for index in range(ROUNDS):
        amount = 1000.0 + 111 * index  # 1000, 1111, 1222, 1333, 1444
        state, receipt = stk_and_c2b_at_once(
            odoo_registry, shop, sim, url, amount, phone_for(10 + index)
        )
        check_one_payment_both_channels(state, receipt, amount)


def job_at(barrier, odoo_registry, failures):
    """The payments job, released with the other side of ``barrier``."""
    barrier.wait(10)
    try:
        post_process(odoo_registry)
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        failures.append(repr(exc))


def status_poll_at(barrier, odoo_registry, tx_id, failures, retries):
    """What the subscriber's status page does on each poll
    (``/payment/status/poll``: ``_mpesa_take_callbacks`` then
    ``_post_process`` of the payment it watches, one request, committed),
    released with the job. Odoo's route answers a
    serialization failure with "retry" and the page polls again: counted, not
    a failure."""
    barrier.wait(10)
    try:
        with odoo_registry.cursor() as cr:
            tx = odoo_env(cr)["payment.transaction"].browse(tx_id)
            tx._mpesa_take_callbacks()
            if not tx.is_post_processed:
                tx._post_process()
    except psycopg2.OperationalError:
        retries.append(1)
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        failures.append(repr(exc))


def test_e_status_page_while_the_job_records_the_paybill_payment(
    odoo_registry, shop, sim, odoo_server
):
    """The paybill confirmation of an STK payment, typed with the invoice
    number, then its STK callback are kept; the payments job starts on them at
    the moment the subscriber's status page polls (which processes the STK
    callback of the payment it watches itself). Whoever wins, one payment."""
    url, __ = odoo_server
    retries = []
    for index in range(ROUNDS):
        amount = 2000.0 + 7 * index  # 2000, 2007, 2014, 2021, 2028
        phone = phone_for(20 + index)
        invoice_id, tx_id, push = stk_payment(odoo_registry, shop, sim, amount, phone)
        receipt = push["receipt"]
        with odoo_registry.cursor() as cr:
            number = odoo_env(cr)["account.move"].browse(invoice_id).name
        confirm = f"{url}/payment/daraja/c2b/confirm/{shop['token']}"
        assert post_at_once(
            [(confirm, c2b_confirmation(receipt, amount, number, phone))]
        ) == [(200, {"ResultCode": 0, "ResultDesc": "Success"})]
        callback = sim.stk_callback_payload(push["CheckoutRequestID"])
        assert post_at_once(
            [(f"{url}/payment/daraja/stk/{shop['token']}", callback)]
        ) == [(200, {"ResultCode": 0, "ResultDesc": "Accepted"})]
        with odoo_registry.cursor() as cr:
            env = odoo_env(cr)
            assert not env["isp.mpesa.payment"].search([("name", "=", receipt)])
            kept = env["isp.mpesa.callback"].search(
                [("key", "in", (receipt, push["CheckoutRequestID"]))], order="id"
            )
            assert [(c.kind, c.state) for c in kept] == [
                ("c2b", "new"),
                ("stk", "new"),
            ]

        barrier = threading.Barrier(2)
        failures = []
        threads = [
            threading.Thread(target=job_at, args=(barrier, odoo_registry, failures)),
            threading.Thread(
                target=status_poll_at,
                args=(barrier, odoo_registry, tx_id, failures, retries),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures
        state = outcome_of(odoo_registry, invoice_id, receipt)
        assert state["payments"] == [amount], (index, state)
        assert "draft" not in state["payment_states"]
        assert state["residual"] == 0.0
        assert state["payment_state"] in PAID
        assert state["ledger"] == [("both", "matched", amount)]
        assert state["ledger_tx_partner"]
        # the STK payment, and the paybill's own when the job won
        assert state["done_txs"] in (1, 2)
        assert set(state["receipts"]) == {receipt}
        with odoo_registry.cursor() as cr:
            assert set(
                odoo_env(cr)["isp.mpesa.callback"].browse(kept.ids).mapped("state")
            ) == {"done"}


RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (\w+) ")
RETRIED = ("could not serialize access", "deadlock detected")


def log_records(text):
    """(level, text) of each record of an Odoo log (continuation lines kept)."""
    records = []
    for line in text.splitlines():
        match = RECORD_START.match(line)
        if match:
            records.append([match.group(1), line])
        elif records:
            records[-1][1] += "\n" + line
    return records


def test_z_server_log_has_no_error(odoo_server):
    """Last (module order): the whole server log of the cases above.

    Odoo retries a request that fails on a serialization failure or a
    deadlock (INFO "SERIALIZATION_FAILURE, 4 tries left, ..."); an ORM query
    that fails so is also logged by odoo.sql_db as an ERROR "bad query" first.
    Those, and only as many as Odoo retried, are allowed; a request that ran
    out of retries is not."""
    __, log = odoo_server
    records = log_records(log.read_text(encoding="utf-8", errors="replace"))
    retries = sum(1 for __, text in records if "tries left, try again" in text)
    retried = [
        text
        for level, text in records
        if level == "ERROR"
        and "odoo.sql_db: bad query" in text
        and any(error in text for error in RETRIED)
    ]
    bad = [
        text
        for level, text in records
        if (level in ("ERROR", "CRITICAL") and text not in retried)
        or "Traceback" in text
        or "maximum number of tries reached" in text
    ]
    assert not bad, f"{len(bad)} ERROR/CRITICAL record(s) in {log}:\n" + (
        "\n".join(bad[:20])
    )
    assert len(retried) <= retries, f"{len(retried)} failed queries not retried"
