# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Daraja (M-PESA) constants. Facts: ../shared/facts/mpesa.md of the design notes."""

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

SANDBOX_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_URL = "https://api.safaricom.co.ke"

OAUTH_PATH = "/oauth/v1/generate?grant_type=client_credentials"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
C2B_REGISTER_PATH = "/mpesa/c2b/%s/registerurl"

# Callback routes. C2B URLs must not contain "mpesa", "query", "sql"... (Daraja
# refuses them), hence "daraja".
STK_CALLBACK_ROUTE = "/payment/daraja/stk/<string:token>"
C2B_VALIDATION_ROUTE = "/payment/daraja/c2b/validate/<string:token>"
C2B_CONFIRMATION_ROUTE = "/payment/daraja/c2b/confirm/<string:token>"

CURRENCY = "KES"
# M-PESA's limits per transaction: KES 1 to 250,000 (Daraja 3.0, M-Pesa
# Express FAQ, developer.safaricom.co.ke/apis/MpesaExpressSimulate, last seen
# 2025-12-28; the facts file on M-PESA, §1.4). Paybill amounts above it are
# refused as not M-PESA's.
MIN_AMOUNT = 1
MAX_AMOUNT = 250_000
# Callbacks: the largest body read (Daraja's are under 2 KB), and the deepest
# JSON nesting believed (Daraja's is 5: Body.stkCallback.CallbackMetadata.Item).
# Words Daraja refuses in C2B URLs (any case): the callback token, part of the
# URL, must contain none. Source: Safaricom Daraja C2B "Register URL" rules, as
# collected in shared/facts/mpesa.md §0 #20 (last seen online 2026-11).
C2B_FORBIDDEN_URL_WORDS = ("mpesa", "m-pesa", "safaricom", "exe", "exec", "cmd", "sql")
C2B_FORBIDDEN_URL_WORDS += ("query",)

MAX_CALLBACK_BYTES = 64 * 1024
MAX_CALLBACK_DEPTH = 16
REQUEST_TIMEOUT = 10  # seconds, per HTTP call to Daraja
TOKEN_MARGIN = 120  # seconds: refresh the OAuth token this long before it expires

# Errors that mean "the access token is no longer valid": refresh it, retry once.
TOKEN_ERROR_CODES = {"404.001.03", "400.003.01", "401.002.01"}
# Errors that mean "slow down".
RATE_LIMIT_CODES = {"500.003.02", "500.003.03"}
# C2B registration errors that mean "wrong API version for this account".
C2B_VERSION_ERROR_CODES = {"401.003.01"}

# STK query answers that mean "still processing" (not a failure).
PENDING_QUERY_ERROR_CODE = "500.001.1001"
PENDING_RESULT_CODES = {"4999"}

# Result codes: what the subscriber sees, in plain words.
CANCEL_CODES = {"1019", "1031", "1032", "1036", "1037"}
RESULT_MESSAGES = {
    "1": _lt("Your M-PESA balance is not enough for this payment."),
    "2": _lt("The amount is below the M-PESA minimum."),
    "3": _lt("The amount is above the M-PESA maximum per transaction."),
    "4": _lt("This payment would go over your daily M-PESA limit."),
    "8": _lt("The business account cannot receive more money today."),
    "17": _lt(
        "M-PESA refused a second payment of the same amount within two minutes. "
        "Wait two minutes and try again."
    ),
    "26": _lt("M-PESA is busy. Try again in a few minutes."),
    "1001": _lt(
        "Another M-PESA transaction is in progress on your phone. Finish it, wait "
        "a minute and try again."
    ),
    "1019": _lt("The payment request expired before it was answered."),
    "1025": _lt("M-PESA could not send the payment request. Try again."),
    "9999": _lt("M-PESA could not send the payment request. Try again."),
    "1031": _lt("You cancelled the payment on your phone."),
    "1032": _lt("You cancelled the payment on your phone."),
    "1036": _lt("Your phone did not answer the payment request."),
    "1037": _lt(
        "Your phone could not be reached. Check that it is on and has signal, "
        "then try again."
    ),
    "2001": _lt("The M-PESA PIN was wrong. Try again."),
    "2028": _lt("This M-PESA shortcode is not set up for this kind of payment."),
    "8006": _lt("Your M-PESA PIN is locked. Contact Safaricom."),
    "SFC_IC0003": _lt("This M-PESA shortcode is not set up for this kind of payment."),
    "E3008": _lt("M-PESA refused this phone number."),
}

# C2B validation answers (Daraja's codes).
C2B_ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
C2B_REJECT_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
C2B_REJECT_AMOUNT = {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
C2B_CONFIRMATION_ACK = {"ResultCode": 0, "ResultDesc": "Success"}
STK_CALLBACK_ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}

# The janitor: pending STK pushes are queried after these delays (seconds since
# the push, then since the previous query), and given up after a day.
QUERY_FIRST_AFTER = 30
QUERY_BACKOFF = (30, 60, 120, 300, 600, 1800)
GIVE_UP_AFTER = 24 * 3600
QUERIES_PER_RUN = 50

# A paybill confirmation is taken as the money of a recent STK push with the
# same account reference and amount (one payment can produce both).
C2B_STK_MATCH_WINDOW = 24 * 3600

DEFAULT_PAYMENT_METHOD_CODES = {"mpesa"}
