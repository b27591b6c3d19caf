# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import ipaddress
import json
import logging
import os
import secrets
import threading
from datetime import timedelta

import requests

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import consteq

from .. import const
from ..utils import mask_payload, timestamp_and_password

_logger = logging.getLogger(__name__)

_local = threading.local()


def _http_session():
    """A keep-alive ``requests`` session for this thread of this process: one
    TLS handshake with Daraja per worker, not one per call (a session is not
    shared across threads, nor inherited by a forked worker)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.session = os.getpid(), requests.Session()
    return _local.session


class MpesaError(UserError):
    """Daraja refused a request or could not be reached. ``code`` is Daraja's
    ``errorCode`` (``"timeout"``/``"network"``/``"invalid_response"`` for
    transport problems), ``status`` the HTTP status."""

    def __init__(self, message, code=None, status=None, body=None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.body = body

    @property
    def ambiguous(self):
        """The request may have reached Daraja (timeout): do not blindly resend."""
        return self.code == "timeout"

    @property
    def rate_limited(self):
        return self.code in const.RATE_LIMIT_CODES


def _new_token():
    """A new callback token: 43 random URL-safe characters, drawn again while
    they spell a word Daraja refuses in a C2B URL (``mpesa``, ``sql``, ``exe``...:
    about one token in 200 would), so that *Register paybill URLs* never fails
    on the token."""
    while True:
        token = secrets.token_urlsafe(32)
        lowered = token.lower()
        if not any(word in lowered for word in const.C2B_FORBIDDEN_URL_WORDS):
            return token


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(
        selection_add=[("mpesa", "M-PESA")], ondelete={"mpesa": "set default"}
    )
    mpesa_consumer_key = fields.Char(
        string="Consumer key",
        required_if_provider="mpesa",
        groups="base.group_system",
    )
    mpesa_consumer_secret = fields.Char(
        string="Consumer secret",
        required_if_provider="mpesa",
        groups="base.group_system",
    )
    mpesa_shortcode_type = fields.Selection(
        [("paybill", "Paybill"), ("till", "Till (Buy Goods)")],
        string="Shortcode type",
        default="paybill",
        required_if_provider="mpesa",
    )
    mpesa_shortcode = fields.Char(
        string="Business shortcode",
        required_if_provider="mpesa",
        help="The paybill number, or for a till the store (head office) number "
        "used at Go-Live.",
    )
    mpesa_till_number = fields.Char(
        string="Till number",
        help="For a till: the till number customers pay (PartyB).",
    )
    mpesa_passkey = fields.Char(
        string="Lipa na M-PESA passkey",
        required_if_provider="mpesa",
        groups="base.group_system",
    )
    mpesa_base_url = fields.Char(
        string="API base URL",
        help="Leave empty to use Safaricom's: the sandbox in test mode, production "
        "when enabled. Set it to reach another endpoint (a test simulator).",
    )
    mpesa_callback_base_url = fields.Char(
        string="Public URL",
        help="The https address customers and Safaricom reach this Odoo at, e.g. "
        "behind a reverse proxy. Empty: the database's web.base.url.",
    )
    mpesa_callback_token = fields.Char(
        string="Callback token",
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Secret part of the callback URLs: Daraja's callbacks are not signed, "
        "only calls that know this token are believed.",
    )
    mpesa_allowed_ips = fields.Char(
        string="Callback IP allow-list",
        help="Comma-separated addresses or networks (e.g. 196.201.212.0/24) callbacks "
        "may come from. Empty: any. Behind a reverse proxy, enable Odoo's "
        "proxy_mode so the client address is the caller's.",
    )
    mpesa_c2b_version = fields.Selection(
        [("v1", "v1"), ("v2", "v2")],
        string="C2B API version",
        default="v2",
        help="Daraja accounts differ; registration falls back to the other "
        "version when this one is refused as a product mismatch.",
    )
    mpesa_c2b_response_type = fields.Selection(
        [("Completed", "Complete the payment"), ("Cancelled", "Cancel the payment")],
        string="When validation does not answer",
        default="Completed",
    )
    mpesa_c2b_reject_unknown = fields.Boolean(
        string="Reject unknown account numbers",
        help="When Safaricom has enabled validation for the paybill, refuse "
        "payments whose account number matches no subscription or invoice. "
        "Otherwise they are accepted and queued for an accountant.",
    )
    mpesa_c2b_registered_on = fields.Datetime(
        string="C2B URLs registered on", readonly=True, copy=False
    )
    mpesa_c2b_registered_version = fields.Char(
        string="Registered with", readonly=True, copy=False
    )
    mpesa_access_token = fields.Char(
        string="M-PESA access token",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    mpesa_token_expiry = fields.Datetime(
        string="M-PESA token expiry",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    mpesa_stk_callback_url = fields.Char(
        string="STK callback URL",
        compute="_compute_mpesa_urls",
        groups="base.group_system",
    )
    mpesa_c2b_confirmation_url = fields.Char(
        string="C2B confirmation URL",
        compute="_compute_mpesa_urls",
        groups="base.group_system",
    )
    mpesa_c2b_validation_url = fields.Char(
        string="C2B validation URL",
        compute="_compute_mpesa_urls",
        groups="base.group_system",
    )

    _sql_constraints = [
        (
            "mpesa_callback_token_unique",
            "unique(mpesa_callback_token)",
            "Each M-PESA provider needs its own callback token.",
        )
    ]

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        providers = super().create(vals_list)
        providers._mpesa_ensure_token()
        return providers

    def write(self, vals):
        res = super().write(vals)
        if "code" in vals:
            self._mpesa_ensure_token()
        return res

    def _mpesa_ensure_token(self):
        for provider in self.sudo().filtered(
            lambda p: p.code == "mpesa" and not p.mpesa_callback_token
        ):
            provider.mpesa_callback_token = _new_token()

    # === COMPUTE / CONSTRAINTS === #

    @api.depends("mpesa_callback_base_url", "mpesa_callback_token")
    def _compute_mpesa_urls(self):
        for provider in self:
            base = provider._mpesa_public_url()
            token = provider.mpesa_callback_token or ""
            provider.mpesa_stk_callback_url = f"{base}/payment/daraja/stk/{token}"
            provider.mpesa_c2b_confirmation_url = (
                f"{base}/payment/daraja/c2b/confirm/{token}"
            )
            provider.mpesa_c2b_validation_url = (
                f"{base}/payment/daraja/c2b/validate/{token}"
            )

    def _compute_feature_support_fields(self):
        super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code == "mpesa").update(
            {"support_tokenization": False, "support_refund": False}
        )

    @api.constrains("mpesa_allowed_ips")
    def _check_mpesa_allowed_ips(self):
        for provider in self:
            try:
                provider._mpesa_allowed_networks()
            except ValueError as exc:
                raise ValidationError(
                    self.env._("The callback IP allow-list is not valid: %s", exc)
                ) from exc

    @api.constrains("code", "mpesa_shortcode_type", "mpesa_till_number")
    def _check_mpesa_till(self):
        for provider in self:
            if (
                provider.code == "mpesa"
                and provider.mpesa_shortcode_type == "till"
                and not provider.mpesa_till_number
            ):
                raise ValidationError(
                    self.env._(
                        "A till needs its till number (the PartyB customers pay)."
                    )
                )

    # === BUSINESS METHODS: payment framework === #

    def _get_supported_currencies(self):
        supported = super()._get_supported_currencies()
        if self.code == "mpesa":
            supported = supported.filtered(lambda c: c.name == const.CURRENCY)
        return supported

    def _get_default_payment_method_codes(self):
        codes = super()._get_default_payment_method_codes()
        if self.code != "mpesa":
            return codes
        return const.DEFAULT_PAYMENT_METHOD_CODES

    @api.model
    def _get_compatible_providers(self, *args, is_validation=False, **kwargs):
        providers = super()._get_compatible_providers(
            *args, is_validation=is_validation, **kwargs
        )
        if is_validation:  # nothing to validate: M-PESA keeps no card on file
            providers = providers.filtered(lambda p: p.code != "mpesa")
        return providers

    # === BUSINESS METHODS: configuration === #

    def _mpesa_public_url(self):
        self.ensure_one()
        return (self.mpesa_callback_base_url or self.get_base_url()).rstrip("/")

    def _mpesa_api_url(self):
        self.ensure_one()
        if self.mpesa_base_url:
            return self.mpesa_base_url.rstrip("/")
        return const.PRODUCTION_URL if self.state == "enabled" else const.SANDBOX_URL

    def _mpesa_party_b(self):
        self.ensure_one()
        if self.mpesa_shortcode_type == "till":
            return self.mpesa_till_number
        return self.mpesa_shortcode

    def _mpesa_transaction_type(self):
        self.ensure_one()
        if self.mpesa_shortcode_type == "till":
            return "CustomerBuyGoodsOnline"
        return "CustomerPayBillOnline"

    def _mpesa_allowed_networks(self):
        text = (self.mpesa_allowed_ips or "").replace(";", ",")
        return [
            ipaddress.ip_network(part.strip(), strict=False)
            for part in text.split(",")
            if part.strip()
        ]

    def _mpesa_ip_allowed(self, address):
        networks = self._mpesa_allowed_networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def _mpesa_check_manage_rights(self):
        """The provider's actions are a system administrator's, as the rest of
        Odoo's payment providers (``payment.provider`` is writable by
        ``base.group_system`` only): checked before any ``sudo()``, since every
        public method is an RPC endpoint."""
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only system administrators can manage the M-PESA provider.")
            )
        self.check_access("write")

    def action_mpesa_regenerate_token(self):
        """New callback token: old STK callback URLs stop working at once; C2B
        URLs must be registered again."""
        self.ensure_one()
        self._mpesa_check_manage_rights()
        self.sudo().mpesa_callback_token = _new_token()
        self.sudo().mpesa_c2b_registered_on = False
        return True

    # === BUSINESS METHODS: Daraja gateway === #

    def _mpesa_http(self, method, path, payload=None, auth=None):
        """One HTTP call to Daraja: ``(status, parsed JSON or None, raw text)``.
        Transport failures raise :class:`MpesaError`."""
        url = self._mpesa_api_url() + path
        headers = {"Content-Type": "application/json", "User-Agent": "Odoo isp_mpesa"}
        if auth:
            headers["Authorization"] = auth
        try:
            response = _http_session().request(
                method,
                url,
                json=payload,
                headers=headers,
                timeout=const.REQUEST_TIMEOUT,
            )
        except requests.exceptions.Timeout as exc:
            _logger.warning(
                "M-PESA: no answer from %s within %ss", url, const.REQUEST_TIMEOUT
            )
            raise MpesaError(
                self.env._("M-PESA did not answer in time. Please try again later."),
                code="timeout",
            ) from exc
        except requests.exceptions.RequestException as exc:
            _logger.warning("M-PESA: cannot reach %s: %s", url, exc)
            raise MpesaError(
                self.env._(
                    "M-PESA cannot be reached right now. Please try again later."
                ),
                code="network",
            ) from exc
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        return response.status_code, data, response.text

    def _mpesa_get_access_token(self, force=False):
        """OAuth token, cached on the provider until shortly before it expires."""
        self.ensure_one()
        provider = self.sudo()
        now = fields.Datetime.now()
        if (
            not force
            and provider.mpesa_access_token
            and provider.mpesa_token_expiry
            and provider.mpesa_token_expiry > now
        ):
            return provider.mpesa_access_token
        if not (provider.mpesa_consumer_key and provider.mpesa_consumer_secret):
            # e.g. a neutralised copy: nothing is sent to M-PESA
            raise MpesaError(
                self.env._(
                    "M-PESA is not set up: the consumer key and secret are missing."
                ),
                code="not_configured",
            )
        basic = base64.b64encode(
            f"{provider.mpesa_consumer_key}:{provider.mpesa_consumer_secret}".encode()
        ).decode()
        status, data, __ = provider._mpesa_http(
            "GET", const.OAUTH_PATH, auth=f"Basic {basic}"
        )
        if status != 200 or not isinstance(data, dict) or not data.get("access_token"):
            _logger.warning(
                "M-PESA: OAuth refused (HTTP %s): %s", status, mask_payload(data)
            )
            raise MpesaError(
                self.env._(
                    "M-PESA refused the consumer key and secret (HTTP %(status)s). "
                    "Check them, and that they belong to the %(env)s environment.",
                    status=status,
                    env=self.env._("production")
                    if provider.state == "enabled"
                    else self.env._("sandbox"),
                ),
                code=(data or {}).get("errorCode") or "oauth",
                status=status,
                body=data,
            )
        try:
            lifetime = int(data.get("expires_in") or 3599)
        except (TypeError, ValueError):
            lifetime = 3599
        provider.write(
            {
                "mpesa_access_token": data["access_token"],
                "mpesa_token_expiry": now
                + timedelta(seconds=max(lifetime - const.TOKEN_MARGIN, 0)),
            }
        )
        return data["access_token"]

    def _mpesa_call(self, path, payload):
        """POST ``payload`` to Daraja with a bearer token: ``(status, data)``.

        A rejected token is refreshed and the call made once more. Daraja's own
        answers, errors included, are returned for the caller to read."""
        self.ensure_one()
        token = self._mpesa_get_access_token()
        status, data, text = self._mpesa_http(
            "POST", path, payload, auth=f"Bearer {token}"
        )
        if isinstance(data, dict) and data.get("errorCode") in const.TOKEN_ERROR_CODES:
            token = self._mpesa_get_access_token(force=True)
            status, data, text = self._mpesa_http(
                "POST", path, payload, auth=f"Bearer {token}"
            )
        if not isinstance(data, dict):
            _logger.warning(
                "M-PESA: %s answered HTTP %s with no JSON: %.200s", path, status, text
            )
            raise MpesaError(
                self.env._(
                    "M-PESA gave an unreadable answer (HTTP %s). Please try again "
                    "later.",
                    status,
                ),
                code="invalid_response",
                status=status,
            )
        if "fault" in data:  # gateway (Apigee) rejection, e.g. spike arrest
            data = {
                "errorCode": "500.003.02",
                "errorMessage": str(data["fault"].get("faultstring", "")),
            }
        return status, data

    def _mpesa_raise(self, status, data):
        code = data.get("errorCode")
        message = data.get("errorMessage") or data.get("ResponseDescription") or ""
        _logger.warning(
            "M-PESA: request refused (HTTP %s): %s", status, mask_payload(data)
        )
        if code in const.RATE_LIMIT_CODES:
            text = self.env._("M-PESA is busy. Please try again in a few minutes.")
        elif "Invalid PhoneNumber" in message:
            text = self.env._("M-PESA refused the phone number.")
        elif "lock subscriber" in message:
            text = self.env._(
                "Another M-PESA transaction is in progress on this phone. Finish it, "
                "wait a minute and try again."
            )
        else:
            text = self.env._(
                "M-PESA refused the request: %(message)s (%(code)s)",
                message=message or self.env._("no reason given"),
                code=code or status,
            )
        raise MpesaError(text, code=code, status=status, body=data)

    def _mpesa_stk_push(self, msisdn, amount, account_reference, description):
        """Send an STK push; Daraja's accepted answer (CheckoutRequestID…)."""
        self.ensure_one()
        provider = self.sudo()
        stamp, password = timestamp_and_password(
            provider.mpesa_shortcode, provider.mpesa_passkey
        )
        payload = {
            "BusinessShortCode": provider.mpesa_shortcode,
            "Password": password,
            "Timestamp": stamp,
            "TransactionType": provider._mpesa_transaction_type(),
            "Amount": int(amount),
            "PartyA": msisdn,
            "PartyB": provider._mpesa_party_b(),
            "PhoneNumber": msisdn,
            "CallBackURL": provider.mpesa_stk_callback_url,
            "AccountReference": account_reference,
            "TransactionDesc": description,
        }
        status, data = provider._mpesa_call(const.STK_PUSH_PATH, payload)
        if status != 200 or str(data.get("ResponseCode")) != "0":
            provider._mpesa_raise(status, data)
        return data

    def _mpesa_stk_query(self, checkout_request_id):
        """Ask Daraja how an STK push ended.

        :return: ``("pending", data)`` while M-PESA is still processing (both of
            Daraja's forms), else ``("final", data)`` with ``data["ResultCode"]``
            as a string
        :raise MpesaError: on transport errors and other refusals
        """
        self.ensure_one()
        provider = self.sudo()
        stamp, password = timestamp_and_password(
            provider.mpesa_shortcode, provider.mpesa_passkey
        )
        payload = {
            "BusinessShortCode": provider.mpesa_shortcode,
            "Password": password,
            "Timestamp": stamp,
            "CheckoutRequestID": checkout_request_id,
        }
        status, data = provider._mpesa_call(const.STK_QUERY_PATH, payload)
        result = str(data.get("ResultCode", "")) if "ResultCode" in data else None
        if (
            data.get("errorCode") == const.PENDING_QUERY_ERROR_CODE
            and "process" in (data.get("errorMessage") or "").lower()
        ) or (
            result is not None
            and (
                result in const.PENDING_RESULT_CODES
                or "under processing" in (data.get("ResultDesc") or "").lower()
            )
        ):
            return "pending", data
        if status == 200 and result is not None:
            data["ResultCode"] = result
            return "final", data
        provider._mpesa_raise(status, data)

    def action_mpesa_test_connection(self):
        self.ensure_one()
        self._mpesa_check_manage_rights()
        self._mpesa_get_access_token(force=True)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("M-PESA accepted the consumer key and secret."),
                "sticky": False,
            },
        }

    def action_mpesa_register_c2b(self):
        """Register the paybill's confirmation and validation URLs with Daraja,
        falling back to the other API version on a product mismatch."""
        self.ensure_one()
        self._mpesa_check_manage_rights()
        provider = self.sudo()
        if not provider.mpesa_callback_token:
            raise UserError(
                self.env._(
                    "This provider has no callback token: click New callback token "
                    "first."
                )
            )
        payload = {
            "ShortCode": provider.mpesa_shortcode,
            "ResponseType": provider.mpesa_c2b_response_type or "Completed",
            "ConfirmationURL": provider.mpesa_c2b_confirmation_url,
            "ValidationURL": provider.mpesa_c2b_validation_url,
        }
        first = provider.mpesa_c2b_version or "v2"
        versions = [first, "v1" if first == "v2" else "v2"]
        for version in versions:
            status, data = provider._mpesa_call(
                const.C2B_REGISTER_PATH % version, payload
            )
            mismatch = data.get("errorCode") in const.C2B_VERSION_ERROR_CODES or any(
                word in (data.get("errorMessage") or "").lower()
                for word in ("apiproduct", "product mismatch")
            )
            if mismatch and version == versions[0]:
                _logger.info(
                    "M-PESA: C2B registration %s refused as product mismatch, "
                    "trying %s",
                    version,
                    versions[1],
                )
                continue
            description = (data.get("ResponseDescription") or "").lower()
            ok = str(data.get("ResponseCode")) in ("0", "00000000") or (
                "ResponseCode" not in data
                and description.startswith(("success", "accept"))
            )
            if status == 200 and ok:
                provider.write(
                    {
                        "mpesa_c2b_registered_on": fields.Datetime.now(),
                        "mpesa_c2b_registered_version": version,
                        "mpesa_c2b_version": version,
                    }
                )
                _logger.info("M-PESA: paybill URLs registered (%s)", version)
                return {
                    "type": "ir.actions.client",
                    "tag": "display_notification",
                    "params": {
                        "type": "success",
                        "message": self.env._(
                            "Paybill URLs registered with M-PESA (%s).", version
                        ),
                        "sticky": False,
                    },
                }
            provider._mpesa_raise(status, data)
        return False

    def _mpesa_log_json(self, label, payload):
        _logger.info("M-PESA %s: %s", label, mask_payload(payload))

    @api.model
    def _mpesa_find_by_token(self, token):
        """The M-PESA provider whose callback token is ``token`` (constant-time
        comparison), or an empty recordset."""
        if not token:
            return self.browse()
        providers = self.sudo().search([("code", "=", "mpesa")])
        for provider in providers:
            if provider.mpesa_callback_token and consteq(
                provider.mpesa_callback_token, token
            ):
                return provider
        return self.browse()

    @staticmethod
    def _mpesa_dumps(payload):
        return json.dumps(payload, sort_keys=True, default=str)
