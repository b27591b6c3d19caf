"""Fuzzed Daraja callbacks over real HTTP: random JSON shapes, types, sizes,
nesting and amounts, posted with the provider's valid token to the STK
callback, the paybill validation and the paybill confirmation. None answers
500; once the payments job has processed what was kept, no payment exists
beyond the legitimate ones (there are none: no fuzzed account number is a
customer's), and every receipt kept has an amount M-PESA can have moved.

``ISP_FUZZ_EXAMPLES`` sets the number of examples per route (default 120).
"""

import json
import math
import os
import secrets

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpesa_shop import create_mpesa_shop

RUN = secrets.token_hex(3).upper()
EXAMPLES = int(os.environ.get("ISP_FUZZ_EXAMPLES", "120"))
ALLOWED_STATUS = {200, 400, 403, 413}
MAX_AMOUNT = 250_000  # KES, M-PESA's maximum per transaction

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["%", "_", "ACC%", "ACC00000_", "1e10", "1e400", "NaN", "-5"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=25,
)
amounts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(max_size=12),
    st.sampled_from(["1e10", "0.0000001", "1e400", "NaN", "Infinity", "-5", "abc"]),
    st.none(),
)
# Account numbers no customer has: random text (never a real ACC number) and
# the wildcards that once matched somebody.
accounts = st.one_of(
    st.sampled_from(["%", "_", "ACC%", "ACC00000_", "%%", "acc_%", " % "]),
    st.text(max_size=14).filter(
        lambda text: not text.strip().upper().startswith("ACC")
    ),
)


def c2b_bodies():
    """Paybill confirmations and validations, near Daraja's shape."""
    return st.fixed_dictionaries(
        {
            "TransactionType": st.sampled_from(["Pay Bill", "Buy Goods", ""]),
            "TransID": st.text(
                alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=12
            ).map(lambda t: f"FZ{RUN}{t}"),
            "TransTime": st.one_of(st.text(max_size=16), st.just("20261202101010")),
            "TransAmount": amounts,
            "BusinessShortCode": st.one_of(st.just("174379"), st.text(max_size=8)),
            "BillRefNumber": accounts,
            "MSISDN": st.one_of(st.just("254712345678"), st.text(max_size=16)),
            "FirstName": st.text(max_size=10),
        },
        optional={"Extra": json_values},
    )


def stk_bodies():
    """STK callbacks, near Daraja's shape, with random CheckoutRequestIDs no
    payment has."""
    items = st.lists(
        st.fixed_dictionaries({"Name": st.text(max_size=20), "Value": json_values}),
        max_size=5,
    )
    callback = st.fixed_dictionaries(
        {
            "MerchantRequestID": st.text(max_size=20),
            "CheckoutRequestID": st.text(min_size=1, max_size=20).map(
                lambda t: f"ws_CO_FZ{RUN}{t}"
            ),
            "ResultCode": st.one_of(st.integers(-5, 3000), st.text(max_size=4)),
            "ResultDesc": st.text(max_size=30),
        },
        optional={"CallbackMetadata": st.fixed_dictionaries({"Item": items})},
    )
    return st.fixed_dictionaries(
        {"Body": st.fixed_dictionaries({"stkCallback": callback})}
    )


anything = st.one_of(json_values, st.binary(max_size=200))


@pytest.fixture(scope="module")
def shop(odoo_registry, odoo_http):
    """A KES company with an M-PESA provider in test mode called back by the
    server; committed. Yields its ids and the callback token."""
    import odoo  # noqa: PLC0415

    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        company, provider = create_mpesa_shop(
            env,
            f"M-PESA fuzz {RUN}",
            {
                "consumer_key": "fuzz-key",
                "consumer_secret": "fuzz-secret",
                "shortcode": "174379",
                "passkey": "fuzz-passkey",
            },
            "http://127.0.0.1:9",  # nothing listens there: no Daraja call works
            odoo_http,
        )
        cr.execute("SELECT count(*) FROM account_payment")
        payments_before = cr.fetchone()[0]
        ids = {
            "company": company.id,
            "provider": provider.id,
            "token": provider.mpesa_callback_token,
            "payments": payments_before,
        }
    yield ids
    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["payment.provider"].browse(ids["provider"]).state = "disabled"


def post(url, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        url, data=data, headers={"Content-Type": "application/json"}, timeout=60
    )


def fuzz_settings():
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ROUTES = {
    "stk": "/payment/daraja/stk/{token}",
    "validate": "/payment/daraja/c2b/validate/{token}",
    "confirm": "/payment/daraja/c2b/confirm/{token}",
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_fuzzed_callbacks_never_answer_500(odoo_http, shop, route):
    url = odoo_http + ROUTES[route].format(token=shop["token"])
    shaped = stk_bodies() if route == "stk" else c2b_bodies()

    @fuzz_settings()
    @given(body=st.one_of(shaped, shaped, anything))
    def check(body):
        answer = post(url, body)
        assert answer.status_code in ALLOWED_STATUS, (answer.status_code, body)

    check()


def test_hostile_bodies_and_amounts_are_refused(odoo_http, shop):
    """The fuzzer's corner cases, each sent for sure."""
    url = odoo_http + ROUTES["confirm"].format(token=shop["token"])
    deep = "[" * 6000 + "]" * 6000
    assert post(url, deep.encode()).status_code == 400
    huge = b'{"TransID": "' + b"X" * (5 * 1024 * 1024) + b'"}'
    assert post(url, huge).status_code in (400, 413)
    for n, amount in enumerate(
        ["1e10", 1e10, "0.0000001", 1e-7, "1e400", "NaN", "-5", -5, "abc", 0, None]
    ):
        body = {
            "TransactionType": "Pay Bill",
            "TransID": f"FZX{RUN}{n}",
            "TransTime": "20261202101010",
            "TransAmount": amount,
            "BusinessShortCode": "174379",
            "BillRefNumber": "%",
            "MSISDN": "254712345678",
        }
        raw = json.dumps(body).replace('"1e400"', "1e400").encode()
        assert post(url, raw).status_code == 400, amount
    # A NUL character (found by the fuzzer: PostgreSQL text cannot hold it),
    # escaped in the JSON or raw in the body, on every route.
    stk = {
        "Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_\x00", "ResultCode": 0}}
    }
    for route, body in (
        ("stk", stk),
        ("confirm", {"TransID": "FZ\x00", "TransAmount": 10, "BillRefNumber": "x"}),
        ("validate", {"TransID": "FZ1", "TransAmount": 10, "BillRefNumber": "\x00"}),
    ):
        route_url = odoo_http + ROUTES[route].format(token=shop["token"])
        assert post(route_url, body).status_code == 400, route
        raw = b'{"TransID": "FZ\x00raw", "TransAmount": 10}'
        assert post(route_url, raw).status_code == 400, route


def test_after_the_job_no_payment_and_only_possible_amounts(odoo_registry, shop):
    import odoo  # noqa: PLC0415

    with odoo_registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        # The payments job, as a cron worker runs it, until nothing is left.
        env["payment.transaction"]._cron_mpesa_post_process()
        cr.commit()
        cr.execute("SELECT count(*) FROM account_payment")
        assert cr.fetchone()[0] == shop["payments"], "a fuzzed callback paid"
        receipts = env["isp.mpesa.payment"].search(
            [("provider_id", "=", shop["provider"])]
        )
        for receipt in receipts:
            assert receipt.state in ("received", "unmatched"), receipt.name
            assert not receipt.partner_id, receipt.name
            assert math.isfinite(receipt.amount), receipt.name
            assert 0 < receipt.amount <= MAX_AMOUNT, (receipt.name, receipt.amount)
        failed = env["isp.mpesa.callback"].search(
            [("provider_id", "=", shop["provider"]), ("state", "=", "new")]
        )
        assert not failed, "callbacks left unprocessed"
