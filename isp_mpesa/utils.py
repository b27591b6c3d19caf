# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Phone numbers and payload helpers for Daraja."""

import base64
import hashlib
import json
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from odoo.addons.phone_validation.tools import phone_validation

MSISDN_RE = re.compile(r"^254(7|1)\d{8}$")
_PHONE_TEXT = re.compile(r"\+?[\d\s\-().]+")
EAT = ZoneInfo("Africa/Nairobi")
_MSISDN_IN_TEXT = re.compile(r"(?<!\d)(254|0)([17]\d{2})(\d{3})(\d{3})(?!\d)")


def normalize_msisdn(raw):
    """``07XX XXX XXX``, ``+254 7XX…``, ``7XX…``, ``2547XX…`` → ``2547XXXXXXXX``;
    ``None`` when it is not a Kenyan mobile number M-PESA can prompt.

    The number is read by Odoo's ``phone_validation`` (the phonenumbers
    library, Kenya as the default country); M-PESA's own rule is added on
    top: a mobile number (254 7… or 254 1…), written as Daraja wants it."""
    if not raw:
        return None
    text = str(raw).strip()
    if not _PHONE_TEXT.fullmatch(text):
        return None
    formatted = phone_validation.phone_format(
        text, "KE", "254", force_format="E164", raise_exception=False
    )
    digits = (formatted or "").lstrip("+")
    return digits if MSISDN_RE.match(digits) else None


def mask_msisdn(value):
    """``254708374149`` → ``2547*****149`` (for logs and screens)."""
    value = str(value or "")
    if len(value) >= 12 and value.isdigit():
        return value[:4] + "*" * (len(value) - 7) + value[-3:]
    if len(value) == 64:  # Daraja's SHA-256 of the number
        return value[:8] + "…"
    return value


def msisdn_hash(msisdn):
    return hashlib.sha256(msisdn.encode()).hexdigest()


def mask_payload(payload):
    """JSON text of ``payload`` with phone numbers masked, for logs."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return _MSISDN_IN_TEXT.sub(
        lambda m: m.group(1) + m.group(2)[:1] + "*****" + m.group(4), text
    )


def timestamp_and_password(shortcode, passkey, now=None):
    """Daraja's ``Timestamp`` (East Africa Time) and ``Password``."""
    now = now or datetime.now(tz=EAT)
    stamp = now.astimezone(EAT).strftime("%Y%m%d%H%M%S")
    password = base64.b64encode(f"{shortcode}{passkey}{stamp}".encode()).decode()
    return stamp, password


def normalize_reference(text):
    """An account number typed on a phone: no spaces, upper case."""
    return re.sub(r"\s+", "", str(text or "")).upper()


# The callback routes end with the provider's secret token (const.*_ROUTE).
_CALLBACK_TOKEN_IN_PATH = re.compile(
    r"(/payment/daraja/(?:stk|c2b/confirm|c2b/validate)/)[^\s?#\"']*", re.IGNORECASE
)


def mask_callback_token(text):
    """``…/payment/daraja/c2b/confirm/<token>`` → ``…/c2b/confirm/***``."""
    if "daraja" not in text.lower():
        return text
    return _CALLBACK_TOKEN_IN_PATH.sub(r"\1***", text)


class CallbackTokenFilter(logging.Filter):
    """Masks the callback token in the request paths Odoo's HTTP server logs
    (werkzeug's access log at INFO, its errors, ``odoo.http``): Daraja's
    callbacks are unsigned, whoever reads the token in a log could forge
    payments."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = mask_callback_token(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_callback_token(arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {
                key: mask_callback_token(arg) if isinstance(arg, str) else arg
                for key, arg in record.args.items()
            }
        return True


# The loggers that write request paths (a filter on a logger sees its own
# records, before any handler, the file's and the tests' alike); the last one
# only in tests (the test cursor's request line).
PATH_LOGGERS = ("werkzeug", "odoo.http", "odoo.service.server", "odoo.tests.common")


def install_callback_token_filter():
    """Install the filter once per process (each worker imports the add-on)."""
    for name in PATH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(type(f).__name__ == "CallbackTokenFilter" for f in logger.filters):
            logger.addFilter(CallbackTokenFilter())
