# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers.post_processing import PaymentPostProcessing

from .. import const
from ..models.isp_mpesa_payment import MpesaBadPayload
from ..utils import mask_payload

_logger = logging.getLogger(__name__)


def _has_nul(data):
    """Does a key or a string of ``data`` (already depth-checked) hold NUL?"""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_has_nul(key) or _has_nul(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_has_nul(item) for item in data)
    return False


def _depth_above(data, limit):
    """Whether the JSON value ``data`` nests deeper than ``limit`` (checked
    without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class MpesaController(http.Controller):
    """Daraja's callbacks (``type='http'``: raw JSON in, Daraja's JSON out) and
    the portal's "send the prompt" call.

    A callback is checked (token, IP allow-list, JSON, the fields its
    processing needs), kept in the inbox (``isp.mpesa.callback``) and
    answered; the payments job processes it moments later. A paybill
    *validation* is answered in the request: Daraja waits for its verdict."""

    # === helpers === #

    def _json(self, body, status=200):
        return request.make_json_response(body, status=status)

    def _provider_or_403(self, token, what):
        """The provider this callback URL belongs to, or a 403 response (a
        wrong token, a disabled provider, an address outside its allow-list).
        The token itself is never logged."""
        provider = request.env["payment.provider"].sudo()._mpesa_find_by_token(token)
        address = request.httprequest.remote_addr
        if provider and provider.state == "disabled":
            _logger.warning(
                "M-PESA %s from %s for a disabled provider (%s): refused, nothing "
                "written",
                what,
                address,
                provider.id,
            )
            return None, self._json({"ResultCode": 1, "ResultDesc": "Forbidden"}, 403)
        if not provider:
            _logger.warning(
                "M-PESA %s from %s with a wrong callback token: refused, nothing "
                "written",
                what,
                address,
            )
            return None, self._json({"ResultCode": 1, "ResultDesc": "Forbidden"}, 403)
        if not provider._mpesa_ip_allowed(address):
            _logger.warning(
                "M-PESA %s from %s, outside the callback IP allow-list: refused",
                what,
                address,
            )
            return None, self._json({"ResultCode": 1, "ResultDesc": "Forbidden"}, 403)
        return provider, None

    @staticmethod
    def _raw_body():
        """The request's body, or None when it is above
        ``const.MAX_CALLBACK_BYTES`` (then not read, or read no further)."""
        httprequest = request.httprequest
        length = httprequest.content_length
        if length is not None:
            if length > const.MAX_CALLBACK_BYTES:
                return None
            return httprequest.get_data()  # ``length`` bytes at most
        # chunked, without a length: read no more than the limit (werkzeug's
        # own request, which Odoo wraps, has the stream)
        wrapped = getattr(httprequest, "_HTTPRequest__wrapped", None)
        if wrapped is None:
            return httprequest.get_data()
        data = wrapped.stream.read(const.MAX_CALLBACK_BYTES + 1)
        return None if len(data) > const.MAX_CALLBACK_BYTES else data

    def _read_json(self, what):
        """``(object, raw text, None)`` from the request's JSON, or
        ``(None, None, a 400 response)``: bodies above
        ``const.MAX_CALLBACK_BYTES`` are refused before they are read, JSON
        that is malformed or nested deeper than ``const.MAX_CALLBACK_DEPTH``
        (Daraja's is 5) after."""
        body = self._raw_body()
        if body is None:
            _logger.warning(
                "M-PESA %s with a body above %s bytes: refused",
                what,
                const.MAX_CALLBACK_BYTES,
            )
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Body too large"}, 400),
            )
        raw = body.decode("utf-8", errors="replace")
        if not raw.strip():
            _logger.warning("M-PESA %s with an empty body: refused", what)
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Empty body"}, 400),
            )
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            # RecursionError: nested thousands deep, beyond Python's parser
            _logger.warning("M-PESA %s with malformed JSON: refused (%.80r)", what, raw)
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Malformed JSON"}, 400),
            )
        if _depth_above(data, const.MAX_CALLBACK_DEPTH):
            _logger.warning(
                "M-PESA %s with JSON nested deeper than %s: refused",
                what,
                const.MAX_CALLBACK_DEPTH,
            )
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Invalid payload"}, 400),
            )
        if "\x00" in raw or _has_nul(data):
            # PostgreSQL text cannot hold NUL: no Daraja field has one
            _logger.warning("M-PESA %s with a NUL character: refused", what)
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Invalid payload"}, 400),
            )
        if not isinstance(data, dict):
            _logger.warning("M-PESA %s whose JSON is not an object: refused", what)
            return (
                None,
                None,
                self._json({"ResultCode": 1, "ResultDesc": "Invalid payload"}, 400),
            )
        return data, raw, None

    def _keep(self, provider, kind, key, raw):
        """Keep the callback for the payments job and wake the job; when the
        job is not active, process it now instead."""
        stored = (
            request.env["isp.mpesa.callback"]
            .sudo()
            ._mpesa_store(provider, kind, key, raw)
        )
        if not request.env["payment.transaction"].sudo()._mpesa_trigger_post_process():
            stored._mpesa_process()

    # === STK push callback === #

    @http.route(
        const.STK_CALLBACK_ROUTE,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def mpesa_stk_callback(self, token, **kwargs):
        provider, error = self._provider_or_403(token, "STK callback")
        if error:
            return error
        data, raw, error = self._read_json("STK callback")
        if error:
            return error
        callback = (
            (data.get("Body") or {}).get("stkCallback")
            if isinstance(data.get("Body"), dict)
            else None
        )
        if (
            not isinstance(callback, dict)
            or not callback.get("CheckoutRequestID")
            or "ResultCode" not in callback
        ):
            _logger.warning(
                "M-PESA STK callback without Body.stkCallback.CheckoutRequestID/"
                "ResultCode: refused: %s",
                mask_payload(data),
            )
            return self._json({"ResultCode": 1, "ResultDesc": "Invalid payload"}, 400)
        self._keep(provider, "stk", str(callback["CheckoutRequestID"]), raw)
        return self._json(const.STK_CALLBACK_ACK)

    # === paybill (C2B) === #

    @http.route(
        const.C2B_VALIDATION_ROUTE,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def mpesa_c2b_validation(self, token, **kwargs):
        provider, error = self._provider_or_403(token, "paybill validation")
        if error:
            return error
        data, __, error = self._read_json("paybill validation")
        if error:
            return error
        answer = (
            request.env["isp.mpesa.payment"].sudo()._mpesa_validate_c2b(provider, data)
        )
        return self._json(answer)

    @http.route(
        const.C2B_CONFIRMATION_ROUTE,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def mpesa_c2b_confirmation(self, token, **kwargs):
        provider, error = self._provider_or_403(token, "paybill confirmation")
        if error:
            return error
        data, raw, error = self._read_json("paybill confirmation")
        if error:
            return error
        try:
            receipt, __ = request.env["isp.mpesa.payment"]._mpesa_parse_c2b(data)
        except MpesaBadPayload as exc:
            _logger.warning(
                "M-PESA paybill confirmation refused: %s: %s", exc, mask_payload(data)
            )
            return self._json({"ResultCode": 1, "ResultDesc": str(exc)}, 400)
        self._keep(provider, "c2b", receipt, raw)
        return self._json(const.C2B_CONFIRMATION_ACK)

    # === portal: send the prompt === #

    @http.route("/payment/mpesa/stk_push", type="json", auth="public")
    def mpesa_portal_stk_push(self, reference, access_token, phone):
        """Send the M-PESA prompt for a transaction the payment form created."""
        if not payment_utils.check_access_token(access_token, reference):
            return {"error": request.env._("This payment link is not valid.")}
        tx = (
            request.env["payment.transaction"]
            .sudo()
            .search([("reference", "=", reference)], limit=1)
        )
        if not tx or tx.provider_code != "mpesa":
            return {"error": request.env._("This payment link is not valid.")}
        try:
            tx._mpesa_send_stk_push(phone)
        except UserError as exc:
            return {"error": exc.args[0]}
        return {"state": tx.state, "message": tx.state_message}


class MpesaPostProcessing(PaymentPostProcessing):
    @http.route()
    def poll_status(self, **kwargs):
        """The status page's polling: the STK callback of the M-PESA payment
        it watches is processed at once if it is still in the inbox, so the
        subscriber does not wait for the payments job."""
        self._get_monitored_transaction()._mpesa_take_callbacks()
        return super().poll_status(**kwargs)
