# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SMS through a company's own Africa's Talking account.

Odoo's SMS queue (``sms.sms``, job *SMS: SMS Queue Manager*) sends through IAP.
For the SMS of a company whose *SMS gateway* is Africa's Talking, the batch
goes to Africa's Talking's bulk SMS API instead, and each recipient's status
becomes the SMS's state. A gateway that cannot be reached leaves the SMS in
the queue for the next run, up to ``AT_MAX_ATTEMPTS`` runs. The HTTP client
(requests, answers, status codes) is ``isp_billing/tools/africastalking_api.py``;
this file keeps what the answers do to the SMS (states, retries, dunning log).
"""

import logging

from odoo import fields, models, tools

from ..tools.africastalking_api import (
    AT_MAX_RECIPIENTS,
    AfricasTalkingApi,
    GatewayUnavailable,
    digits,
)

_logger = logging.getLogger(__name__)

AT_MAX_ATTEMPTS = 5  # runs of the queue that could not reach the gateway


class SmsSms(models.Model):
    _inherit = "sms.sms"

    isp_dunning_log_id = fields.Many2one(
        "isp.dunning.log",
        string="Dunning step",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The dunning history row this reminder belongs to: it shows "
        "whether the SMS was sent.",
    )
    isp_company_id = fields.Many2one(
        "res.company",
        string="Company",
        index="btree_not_null",
        help="The company whose SMS gateway sends this SMS. Empty: the company of "
        "the document it was posted on, else of the customer, else the current one.",
    )
    isp_gateway_status = fields.Char(
        string="Gateway status",
        readonly=True,
        copy=False,
        help="What the SMS gateway answered, e.g. '403 InvalidPhoneNumber'.",
    )
    isp_gateway_message_id = fields.Char(
        string="Gateway message ID", readonly=True, copy=False
    )
    isp_send_attempts = fields.Integer(
        string="Send attempts",
        readonly=True,
        copy=False,
        help="Runs of the SMS queue that could not reach the gateway.",
    )

    def _isp_sms_company(self):
        """The company whose gateway sends this SMS.

        Not ``self.env.company``: the queue job runs as the superuser in its
        main company, for the SMS of every company.
        """
        self.ensure_one()
        sms = self.sudo()  # also for a user who may not read the other company
        return (
            sms.isp_company_id
            or sms.mail_message_id.record_company_id
            or sms.partner_id.company_id
            or sms.env.company
        )

    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") in ("pending", "sent", "error"):
            self._isp_dunning_log_outcome(vals)
        return res

    def _isp_dunning_log_outcome(self, vals):
        """What the SMS provider answered (IAP or the company's gateway)
        becomes the dunning history's SMS state."""
        for sms in self.sudo().filtered("isp_dunning_log_id"):
            log = sms.isp_dunning_log_id
            if sms.state == "error":
                reason = (
                    vals.get("isp_gateway_status")
                    or sms.isp_gateway_status
                    or dict(
                        sms._fields["failure_type"]._description_selection(sms.env)
                    ).get(sms.failure_type)
                    or sms.failure_type
                )
                log.write(
                    {
                        "sms_state": "failed",
                        "note": self.env._("SMS not delivered: %s", reason),
                    }
                )
            elif log.sms_state != "sent":
                log.sms_state = "sent"

    def resend_failed(self):
        """Override of `sms`: a resent SMS gets its gateway attempts back."""
        self.check_access("write")
        self.filtered(lambda sms: sms.state == "error").sudo().isp_send_attempts = 0
        return super().resend_failed()

    def action_set_outgoing(self):
        """Override of `sms`: back in the queue with its attempts back."""
        self.check_access("write")
        self.sudo().isp_send_attempts = 0
        return super().action_set_outgoing()

    # === BUSINESS METHODS - SENDING === #

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        """Override of `sms` to send the SMS of companies using Africa's Talking
        through their own account; the others go through IAP as before."""
        by_company = self.grouped(lambda sms: sms._isp_sms_company())
        direct = self.browse()
        for company, sms in by_company.items():
            if company.isp_sms_gateway == "africastalking":
                direct |= sms
                sms._isp_at_send(company, unlink_failed, unlink_sent, raise_exception)
        others = self - direct
        if others:
            return super(SmsSms, others)._send(
                unlink_failed=unlink_failed,
                unlink_sent=unlink_sent,
                raise_exception=raise_exception,
            )

    def _isp_at_send(self, company, unlink_failed, unlink_sent, raise_exception):
        """Send ``self`` (SMS of ``company``) through Africa's Talking."""
        api = AfricasTalkingApi.from_company(company)
        if not api.has_credentials:
            _logger.info(
                "SMS %s: company %s uses Africa's Talking without username or API key",
                self.ids,
                company.id,
            )
            self._isp_sms_done(
                "error",
                "sms_acc",
                self.env._("Africa's Talking: no username or API key"),
                unlink_failed,
                unlink_sent,
            )
            return
        posted = self.browse()
        try:
            for body, records in self.grouped("body").items():
                for ids in tools.split_every(AT_MAX_RECIPIENTS, records.ids):
                    chunk = self.browse(ids)
                    chunk._isp_at_post(api, company, body, unlink_failed, unlink_sent)
                    posted |= chunk
        except GatewayUnavailable as exc:
            # The rest of the batch waits for the next run with the failed part.
            if raise_exception:
                raise
            (self - posted)._isp_sms_retry(str(exc), company, unlink_failed)
        self.sudo().mail_message_id._notify_message_notification_update()

    def _isp_at_post(self, api, company, body, unlink_failed, unlink_sent):
        """One request: ``body`` to the numbers of ``self``; apply the answer.

        :param AfricasTalkingApi api: the client of ``company``'s account
        :raise GatewayUnavailable: see ``AfricasTalkingApi.send_sms``
        """
        status, answer = api.send_sms(self.mapped("number"), body)
        if status == "auth":
            _logger.info(
                "SMS %s: Africa's Talking refused the username or API key of "
                "company %s",
                self.ids,
                company.id,
            )
            self._isp_sms_done(
                "error",
                "sms_acc",
                self.env._(
                    "HTTP 401: Africa's Talking refused the username or API key"
                ),
                unlink_failed,
                unlink_sent,
            )
            return
        if status == "refused":
            _logger.info("SMS %s: Africa's Talking answered %s", self.ids, answer)
            self._isp_sms_done(
                "error", "sms_server", answer, unlink_failed, unlink_sent
            )
            return
        by_number = answer
        counts = {}
        for sms in self:
            found = by_number.get(digits(sms.number)) or []
            # The same number twice: one entry each, in order.
            recipient = found.pop(0) if len(found) > 1 else (found[:1] or [None])[0]
            outcome = sms._isp_at_apply(recipient, unlink_failed, unlink_sent)
            counts[outcome] = counts.get(outcome, 0) + 1
        _logger.info(
            "SMS %s sent through Africa's Talking (company %s): %s",
            self.ids,
            company.id,
            ", ".join(f"{count} {name}" for name, count in sorted(counts.items())),
        )

    def _isp_at_apply(self, recipient, unlink_failed, unlink_sent):
        """The gateway's answer for this SMS's number becomes its state.

        :return: ``sent``, ``error`` or ``retry``
        """
        self.ensure_one()
        if not recipient:
            self._isp_sms_retry(
                self.env._("Africa's Talking did not answer for this number"),
                self._isp_sms_company(),
                unlink_failed,
            )
            return "retry"
        outcome, failure_type, status = AfricasTalkingApi.recipient_outcome(recipient)
        if outcome == "sent":
            self._isp_sms_done("pending", False, status, unlink_failed, unlink_sent)
            self.isp_gateway_message_id = recipient.get("messageId")
        elif outcome == "retry":
            self._isp_sms_retry(status, self._isp_sms_company(), unlink_failed)
        else:
            self._isp_sms_done(
                "error", failure_type, status, unlink_failed, unlink_sent
            )
        return outcome

    def _isp_sms_done(self, state, failure_type, status, unlink_failed, unlink_sent):
        """Final state of ``self`` (``pending``: sent; ``error``), as Odoo's
        ``_send`` writes it after IAP answered, trackers included."""
        sms_sudo = self.sudo().with_context(sms_skip_msg_notification=True)
        unlink = unlink_sent if state == "pending" else unlink_failed
        sms_sudo.write(
            {
                "state": state,
                "failure_type": failure_type,
                "isp_gateway_status": status,
                **({"to_delete": True} if unlink else {}),
            }
        )
        sms_sudo.sms_tracker_id._action_update_from_sms_state(
            state, failure_type=failure_type
        )

    def _isp_sms_retry(self, reason, company, unlink_failed):
        """The gateway could not take ``self``: stay in the queue for the next
        run, or give up (error ``sms_server``) after ``AT_MAX_ATTEMPTS`` runs."""
        if not self:
            return
        attempts = max(self.mapped("isp_send_attempts")) + 1
        give_up = self.filtered(
            lambda sms: sms.isp_send_attempts + 1 >= AT_MAX_ATTEMPTS
        )
        keep = self - give_up
        if keep:
            for sms in keep:
                sms.sudo().write(
                    {
                        "isp_send_attempts": sms.isp_send_attempts + 1,
                        "isp_gateway_status": reason,
                    }
                )
            _logger.info(
                "Africa's Talking unavailable for company %s (%s): %s SMS stay in "
                "the queue (attempt %s of %s)",
                company.id,
                reason,
                len(keep),
                attempts,
                AT_MAX_ATTEMPTS,
            )
        if give_up:
            give_up.sudo().write({"isp_send_attempts": AT_MAX_ATTEMPTS})
            give_up._isp_sms_done(
                "error",
                "sms_server",
                self.env._(
                    "%(reason)s: gave up after %(attempts)s attempts",
                    reason=reason,
                    attempts=AT_MAX_ATTEMPTS,
                ),
                unlink_failed,
                False,
            )
            _logger.warning(
                "Africa's Talking unavailable for company %s (%s): %s SMS given up "
                "after %s attempts",
                company.id,
                reason,
                len(give_up),
                AT_MAX_ATTEMPTS,
            )
