# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The HTTP client of Africa's Talking's bulk SMS API, as Odoo keeps IAP's in
``sms/tools/sms_api.py``: requests and answers only, no ORM. What an answer
does to an ``sms.sms`` is ``isp_billing/models/sms_sms.py``'s business.

Africa's Talking bulk SMS API (docs.africastalking.com/sms/sending, last seen
2026-04): POST <base>/version1/messaging, form-encoded ``username``, ``to``
(comma-separated international numbers), ``message``, optional ``from``;
header ``apiKey``; JSON with ``Accept: application/json``.
"""

import re

import requests

AT_PATH = "/version1/messaging"
AT_TIMEOUT = 10  # seconds
AT_MAX_RECIPIENTS = 100  # numbers per request (our choice, well under its limit)
# Per-recipient statusCode: 100 Processed, 101 Sent, 102 Queued. Accepted by
# the gateway, not yet delivered: Odoo's "Sent" (pending), as for IAP.
AT_SUCCESS_CODES = {100, 101, 102}
# Per-recipient failures that sending again will not cure: Odoo failure type.
AT_FAILURE_TYPES = {
    401: "sms_acc",  # RiskHold: the account is on hold
    402: "sms_registration_needed",  # InvalidSenderId: not registered
    403: "sms_number_format",  # InvalidPhoneNumber
    404: "sms_number_format",  # UnsupportedNumberType (e.g. a landline)
    405: "sms_credit",  # InsufficientBalance
    406: "sms_blacklist",  # UserInBlacklist: opted out at the network
    407: "sms_country_not_supported",  # CouldNotRoute
    409: "sms_optout",  # DoNotDisturbRejection
    502: "sms_server",  # RejectedByGateway
}
# Per-recipient failures of the gateway itself: tried again next run.
AT_RETRY_CODES = {500, 501}  # InternalServerError, GatewayError


class GatewayUnavailable(Exception):
    """Africa's Talking could not be reached or answered with a server error."""


class AfricasTalkingApi:
    """One company's Africa's Talking account.

    :param str base_url: the API's base URL (the company's *API URL*)
    :param str username: the account's username
    :param str api_key: the account's API key
    :param str sender_id: the registered sender ID, or empty for the default
    """

    def __init__(self, base_url, username, api_key, sender_id=None, timeout=None):
        self.url = (base_url or "").rstrip("/") + AT_PATH
        self.username = username
        self.api_key = api_key
        self.sender_id = sender_id
        self.timeout = timeout or AT_TIMEOUT

    @classmethod
    def from_company(cls, company):
        """The client of ``company``'s account (read it as superuser)."""
        company_sudo = company.sudo()
        return cls(
            company_sudo.isp_sms_at_base_url,
            company_sudo.isp_sms_at_username,
            company_sudo.isp_sms_at_api_key,
            company_sudo.isp_sms_sender_id,
        )

    @property
    def has_credentials(self):
        return bool(self.username and self.api_key)

    def send_sms(self, numbers, message):
        """POST ``message`` to ``numbers`` (at most ``AT_MAX_RECIPIENTS``).

        :return: ``(status, answer)``: ``("ok", {digits: [recipient, ...]})``
            with each number's entries in the gateway's order (a number sent
            twice has two), ``("auth", None)`` when the username or API key
            is refused (HTTP 401), ``("refused", "HTTP <code>: <text>")`` for
            another 4xx answer
        :raise GatewayUnavailable: no connection, timeout, HTTP 5xx or an
            answer that is not Africa's Talking's JSON
        """
        data = {
            "username": self.username,
            "to": ",".join(numbers),
            "message": message,
        }
        if self.sender_id:
            data["from"] = self.sender_id
        headers = {"apiKey": self.api_key, "Accept": "application/json"}
        try:
            response = requests.post(
                self.url, data=data, headers=headers, timeout=self.timeout
            )
        except requests.exceptions.RequestException as exc:
            raise GatewayUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(f"HTTP {response.status_code}")
        if response.status_code == 401:
            return "auth", None
        if response.status_code >= 400:
            return "refused", f"HTTP {response.status_code}: {response.text[:200]}"
        try:
            recipients = response.json()["SMSMessageData"]["Recipients"]
            by_number = {}
            for recipient in recipients:
                key = digits(recipient["number"])
                by_number.setdefault(key, []).append(recipient)
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayUnavailable(
                f"HTTP {response.status_code}, unreadable answer"
            ) from exc
        return "ok", by_number

    @staticmethod
    def recipient_outcome(recipient):
        """What one recipient's entry means.

        :return: ``(outcome, failure_type, status)``: outcome ``sent``
            (accepted), ``retry`` (the gateway's own failure) or ``error``
            (with its Odoo failure type); status e.g. ``403
            InvalidPhoneNumber``
        """
        try:
            code = int(recipient.get("statusCode"))
        except (TypeError, ValueError):
            code = 0
        status = f"{code} {recipient.get('status') or ''}".strip()
        if code in AT_SUCCESS_CODES:
            return "sent", False, status
        if code in AT_RETRY_CODES:
            return "retry", False, status
        return "error", AT_FAILURE_TYPES.get(code, "unknown"), status


def digits(number):
    """The digits of a phone number: how answers are matched to numbers."""
    return re.sub(r"\D", "", number or "")
