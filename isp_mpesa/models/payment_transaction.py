# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment import utils as payment_utils

from .. import const
from ..utils import EAT, mask_msisdn, normalize_msisdn, normalize_reference
from .payment_provider import MpesaError

_logger = logging.getLogger(__name__)

_ACCOUNT_REF_RE = re.compile(r"[^A-Za-z0-9-]")
# The M-PESA messages kept on one payment, at most (a callback is at most
# const.MAX_CALLBACK_BYTES).
MAX_MPESA_LOG = 256 * 1024
# What Daraja may send again and again: kept once.
_CALLBACK_LABELS = {"stk_callback", "c2b_confirmation"}
# A payment whose invoices another transaction holds (Odoo's invoice sending,
# a PDF being made) waits for the payments job's run this much later.
HELD_INVOICES_RETRY = timedelta(seconds=30)


def _callback_items(callback):
    """``CallbackMetadata.Item`` as a dict, read by name (never by position:
    some variants carry a value-less ``Balance`` item)."""
    items = (callback.get("CallbackMetadata") or {}).get("Item") or []
    return {
        item["Name"]: item.get("Value")
        for item in items
        if isinstance(item, dict) and "Name" in item
    }


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    mpesa_phone = fields.Char(string="M-PESA phone", readonly=True, copy=False)
    mpesa_checkout_request_id = fields.Char(
        string="CheckoutRequestID", readonly=True, copy=False, index="btree_not_null"
    )
    mpesa_merchant_request_id = fields.Char(
        string="MerchantRequestID", readonly=True, copy=False
    )
    mpesa_account_ref = fields.Char(
        string="Account reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="What the subscriber saw on the M-PESA prompt.",
    )
    mpesa_receipt = fields.Char(
        string="M-PESA receipt", readonly=True, copy=False, index="btree_not_null"
    )
    mpesa_result_code = fields.Char(string="M-PESA result", readonly=True, copy=False)
    mpesa_callback_data = fields.Text(
        string="M-PESA callback data",
        readonly=True,
        copy=False,
        help="The success callback's metadata, kept until M-PESA confirms it.",
    )
    mpesa_log = fields.Text(
        string="M-PESA messages",
        readonly=True,
        copy=False,
        groups="account.group_account_invoice,base.group_system",
        help="Every request and callback of this payment, as received.",
    )
    mpesa_next_query = fields.Datetime(
        string="M-PESA next query", readonly=True, copy=False
    )
    mpesa_query_count = fields.Integer(
        string="M-PESA query count", readonly=True, copy=False
    )
    mpesa_message_pending = fields.Boolean(
        string="M-PESA message pending",
        readonly=True,
        copy=False,
        help="Confirmed by a callback: the post-processing job still has to say "
        "so on the invoices.",
    )
    mpesa_unknown = fields.Boolean(
        string="Reconcile by hand",
        readonly=True,
        copy=False,
        help="M-PESA gave no final answer within a day.",
    )

    _sql_constraints = [
        (
            "mpesa_checkout_unique",
            "unique(provider_id, mpesa_checkout_request_id)",
            "An M-PESA request belongs to one transaction.",
        )
    ]

    # === payment framework === #

    def _get_specific_processing_values(self, processing_values):
        res = super()._get_specific_processing_values(processing_values)
        if self.provider_code != "mpesa":
            return res
        res["mpesa_access_token"] = payment_utils.generate_access_token(self.reference)
        return res

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code != "mpesa" or len(tx) == 1:
            return tx
        return self.search(
            [
                ("provider_code", "=", "mpesa"),
                (
                    "mpesa_checkout_request_id",
                    "=",
                    notification_data.get("CheckoutRequestID"),
                ),
            ],
            limit=1,
        )

    def _create_payment(self, **extra_create_values):
        """One M-PESA payment spread over several invoices pays them one by one:
        the invoice named in the payment first, then the oldest.

        Odoo reconciles a transaction's payment with all its invoices in one
        go, ordered by due date only (ties in whatever order the invoices were
        read), which is not the order a subscriber is promised."""
        self.ensure_one()
        if self.provider_code != "mpesa" or len(self.invoice_ids) < 2:
            return super()._create_payment(**extra_create_values)
        invoices = self._mpesa_invoices_in_order().filtered(
            lambda move: move.state == "posted"
        )
        provider = self.provider_id
        method_line = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )
        payment = self.env["account.payment"].create(
            {
                "amount": abs(self.amount),
                "payment_type": "inbound",
                "currency_id": self.currency_id.id,
                "partner_id": self.partner_id.commercial_partner_id.id,
                "partner_type": "customer",
                "journal_id": provider.journal_id.id,
                "company_id": provider.company_id.id,
                "payment_method_line_id": method_line[:1].id,
                "payment_transaction_id": self.id,
                "memo": " - ".join(
                    (
                        self.reference,
                        self.partner_id.display_name or "",
                        self.provider_reference or "",
                    )
                ),
                "invoice_ids": invoices.ids,
                **extra_create_values,
            }
        )
        payment.action_post()
        self.payment_id = payment
        account = payment.destination_account_id

        def open_lines(move):
            return move.line_ids.filtered(
                lambda line: line.account_id == account and not line.reconciled
            )

        for invoice in invoices:
            credit = open_lines(payment.move_id)
            if not credit:
                break
            (credit + open_lines(invoice)).reconcile()
        return payment

    def _mpesa_invoices_in_order(self):
        """This payment's invoices in the order it pays them: the one whose
        number the subscriber typed as account first, then oldest due first."""
        self.ensure_one()
        invoices = self.invoice_ids.sorted(
            lambda move: (
                move.invoice_date_due or move.invoice_date or date.max,
                move.invoice_date or date.max,
                move.id,
            )
        )
        reference = normalize_reference(self.mpesa_account_ref)
        named = invoices.filtered(
            lambda move: reference and normalize_reference(move.name) == reference
        )
        return named + (invoices - named)

    def _log_received_message(self):
        """Override of `payment`: in a callback, the chatter message saying that
        M-PESA confirmed a payment is left to the post-processing job too
        (posting it would be half of the callback's time); failures are said
        at once."""
        deferred = self.browse()
        if self.env.context.get("mpesa_defer_post_process"):
            deferred = self.filtered(
                lambda tx: tx.provider_code == "mpesa" and tx.state == "done"
            )
            deferred.mpesa_message_pending = True
        return super(PaymentTransaction, self - deferred)._log_received_message()

    def _post_process(self):
        pending = self.filtered("mpesa_message_pending")
        if pending:
            pending.mpesa_message_pending = False
            pending.with_context(mpesa_defer_post_process=False)._log_received_message()
        res = super()._post_process()
        # An STK payment whose receipt the paybill confirmation recorded first
        # shares that transaction's payment, once it exists.
        paid = self.filtered(
            lambda tx: (
                tx.provider_code == "mpesa" and tx.mpesa_receipt and tx.payment_id
            )
        )
        if paid:
            siblings = self.sudo().search(
                [
                    ("provider_code", "=", "mpesa"),
                    ("mpesa_receipt", "in", paid.mapped("mpesa_receipt")),
                    ("state", "=", "done"),
                    ("payment_id", "=", False),
                ]
            )
            for sibling in siblings:
                origin = paid.filtered(
                    lambda tx, s=sibling: (
                        tx.mpesa_receipt == s.mpesa_receipt
                        and tx.provider_id == s.provider_id
                    )
                )[:1]
                if origin:
                    sibling.payment_id = origin.payment_id
        return res

    def _mpesa_take_callbacks(self):
        """What the status page's polling does first for the payment it
        watches: an STK callback for it still in the inbox is processed now
        rather than by the job (the poll then post-processes it)."""
        waiting = self.filtered(
            lambda tx: (
                tx.provider_code == "mpesa"
                and tx.state in ("draft", "pending")
                and tx.mpesa_checkout_request_id
            )
        )
        if waiting:
            self.env["isp.mpesa.callback"].sudo().with_context(
                mpesa_defer_post_process=True
            )._mpesa_process_for(waiting)

    def _mpesa_post_process(self):
        """Create, post and reconcile the payment now; while a kept callback
        is processed (``mpesa_defer_post_process``: by the payments job, or
        by the status page's polling), leave it to the job's next step or to
        the poll's post-processing instead (as Odoo's own providers leave it
        to Odoo's post-processing job): the receipt is already claimed and the
        transaction done, the money cannot be lost or counted twice."""
        if (
            self.env.context.get("mpesa_defer_post_process")
            and self._mpesa_trigger_post_process()
        ):
            return
        self._post_process()

    @api.model
    def _mpesa_trigger_post_process(self):
        """Wake the payments job up; False when it is not active (then the
        caller must do the work itself). One query per call: every callback
        calls it."""
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "isp_mpesa.ir_cron_mpesa_post_process", raise_if_not_found=False
        )
        if not cron_id:
            return False
        # one pending trigger is enough: the job takes every callback and
        # payment left, and triggers itself while some remain
        self.env.cr.execute(
            """
            SELECT c.active, EXISTS (
                       SELECT 1 FROM ir_cron_trigger t
                        WHERE t.cron_id = c.id
                          AND t.call_at <= clock_timestamp() at time zone 'UTC')
              FROM ir_cron c
             WHERE c.id = %s
            """,
            [cron_id],
        )
        row = self.env.cr.fetchone()
        if not (row and row[0]):
            return False
        if not row[1]:
            self.env["ir.cron"].sudo().browse(cron_id)._trigger()
        return True

    @api.model
    def _cron_mpesa_post_process(self, batch_size=10):
        """Record in accounting what the callbacks confirmed: the callbacks
        kept in the inbox are processed (STK query, receipt claim), the paybill
        receipts they left are matched to their customers (or queued for an
        accountant), then the payments of the done M-PESA transactions are
        created, posted and reconciled, one database transaction each (Odoo's
        own post-processing, limited to those: Odoo's generic job also walks
        every pending transaction).

        As a job: ``batch_size`` of each per call, the progress reported so
        that Odoo calls it again at once while more are waiting (a burst of
        callbacks never makes one call outlive a cron worker's time limit).
        Otherwise: until none is left, each tried once."""
        domain = [
            ("provider_code", "=", "mpesa"),
            ("state", "=", "done"),
            ("is_post_processed", "=", False),
        ]
        Ledger = self.env["isp.mpesa.payment"].sudo()
        Inbox = (
            self.env["isp.mpesa.callback"]
            .sudo()
            .with_context(mpesa_defer_post_process=True)
        )
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        tried_callbacks, tried_entries, tried = [], [], []
        while True:
            callbacks = Inbox._mpesa_process_new(batch_size, exclude=tried_callbacks)
            tried_callbacks += callbacks
            entries = Ledger._mpesa_apply_received(batch_size, exclude=tried_entries)
            tried_entries += entries
            txs = self.search(
                [*domain, ("id", "not in", tried)], order="id", limit=batch_size
            )
            if not callbacks and not entries and not txs:
                return
            tried += txs.ids
            held = self.browse()
            for tx in txs:
                # (Odoo's, called empty, walks every transaction)
                if tx._mpesa_hold_invoices():
                    tx._cron_post_process()
                else:
                    held |= tx
            if held:
                # left for a later run: its invoices are locked by another
                # transaction, which would make the reconciliation wait, then
                # fail to serialize
                _logger.info(
                    "M-PESA: %s payment(s) wait for their invoices, held by "
                    "another transaction (%s): next run",
                    len(held),
                    ", ".join(held.mapped("reference")),
                )
                self.env.ref("isp_mpesa.ir_cron_mpesa_post_process")._trigger(
                    fields.Datetime.now() + HELD_INVOICES_RETRY
                )
            if in_cron:
                # what this call tried and left (a failure) waits for the
                # next run: counting it would make the job call itself again
                # and again
                remaining = (
                    Inbox.search_count(
                        [("state", "=", "new"), ("id", "not in", tried_callbacks)]
                    )
                    + Ledger.search_count(
                        [("state", "=", "received"), ("id", "not in", tried_entries)]
                    )
                    + self.search_count([*domain, ("id", "not in", tried)])
                )
                self.env["ir.cron"]._notify_progress(
                    done=len(callbacks) + len(entries) + len(txs),
                    remaining=remaining,
                )
                if remaining:
                    # Odoo calls the job again at once up to 10 times, then
                    # leaves it "ready" but lets the cron worker sleep until
                    # its next wake-up (a minute): wake it as soon as this
                    # run ends instead
                    self.env.ref("isp_mpesa.ir_cron_mpesa_post_process")._trigger()
                return

    def _mpesa_hold_invoices(self):
        """Lock the invoices this payment may reconcile (its own, and the
        customer's open ones, which a balance payment pays too), without
        waiting: False when another transaction holds one of them (Odoo's
        invoice sending keeps the invoices it sends locked while it renders
        their PDF). Waiting would end in a serialization failure once that
        transaction commits."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        invoices = self.invoice_ids
        if partner:
            invoices |= (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("commercial_partner_id", "=", partner.id),
                        ("company_id", "=", self.provider_id.company_id.id),
                        ("state", "=", "posted"),
                        ("move_type", "in", ("out_invoice", "out_refund")),
                        ("payment_state", "in", ("not_paid", "partial")),
                    ]
                )
            )
        if not invoices:
            return True
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM account_move WHERE id IN %s FOR UPDATE SKIP LOCKED",
                    [tuple(invoices.ids)],
                    log_exceptions=False,
                )
                locked = {row[0] for row in self.env.cr.fetchall()}
        except SerializationFailure:
            # changed and committed by another transaction since this one
            # began: as held, for the next run
            return False
        return locked == set(invoices.ids)

    # === STK push === #

    def _mpesa_account_reference(self):
        """What the subscriber sees on the prompt and types at the paybill:
        the subscription's account number when there is one (≤ 12 characters)."""
        self.ensure_one()
        if self.isp_subscription_id.account_number:  # Pay now of a balance
            return self.isp_subscription_id.account_number[:12]
        subs = self.invoice_ids.isp_subscription_ids
        if len(subs.mapped("account_number")) == 1:
            return subs.account_number[:12]
        partner_subs = self.env["isp.subscription"].search(
            [
                ("partner_id", "child_of", self.partner_id.commercial_partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "in", ("active", "suspended")),
            ],
            limit=2,
        )
        if len(partner_subs) == 1:
            return partner_subs.account_number[:12]
        return _ACCOUNT_REF_RE.sub("", self.reference)[-12:]

    def _mpesa_append_log(self, label, payload):
        """Add a message to this payment's M-PESA log; a callback Daraja (or
        anyone with the token) replays is not added again, and the log stays
        under ``MAX_MPESA_LOG``."""
        message = json.dumps({label: payload}, sort_keys=True, default=str)
        for tx in self.sudo():
            kept = tx.mpesa_log or ""
            if label in _CALLBACK_LABELS and message[1:-1] in kept:
                continue
            line = json.dumps(
                {
                    "at": fields.Datetime.to_string(fields.Datetime.now()),
                    label: payload,
                },
                sort_keys=True,
                default=str,
            )
            if len(kept) + len(line) + 1 > MAX_MPESA_LOG:
                _logger.info(
                    "M-PESA: %s keeps enough messages; %s not added",
                    tx.reference,
                    label,
                )
                continue
            tx.mpesa_log = f"{kept}\n{line}" if kept else line

    def _mpesa_send_stk_push(self, phone):
        """Send the M-PESA prompt for this draft transaction to ``phone``.

        :raise UserError: invalid phone, wrong currency or amount (nothing is
            written); :class:`MpesaError` when M-PESA refuses (the transaction is
            set in error with M-PESA's reason)
        """
        self.ensure_one()
        if self.provider_code != "mpesa":
            raise UserError(self.env._("This is not an M-PESA payment."))
        if self.state != "draft":
            raise UserError(
                self.env._("This payment was already sent to M-PESA (%s).", self.state)
            )
        msisdn = normalize_msisdn(phone)
        if not msisdn:
            raise UserError(
                self.env._(
                    "“%s” is not an M-PESA phone number. Use a Kenyan mobile number "
                    "such as 0712 345 678 or 254712345678.",
                    phone or "",
                )
            )
        if self.currency_id.name != const.CURRENCY:
            raise UserError(
                self.env._(
                    "M-PESA takes Kenyan shillings only, not %s.", self.currency_id.name
                )
            )
        # M-PESA moves whole shillings: round up (the cents stay as credit).
        amount = math.ceil(self.currency_id.round(self.amount) - 1e-9)
        if not const.MIN_AMOUNT <= amount <= const.MAX_AMOUNT:
            # Formatted before the call: Odoo's term export (Babel) evaluates
            # every string token of a translated call, and an f-string there
            # fails with a NameError that stops the file's export.
            maximum = f"{const.MAX_AMOUNT:,}"
            raise UserError(
                self.env._(
                    "M-PESA takes payments between KES %(min)s and KES %(max)s.",
                    min=const.MIN_AMOUNT,
                    max=maximum,
                )
            )
        account_reference = self._mpesa_account_reference()
        self.write(
            {
                "amount": amount,
                "mpesa_phone": msisdn,
                # as typed back at the paybill: found again by equality
                "mpesa_account_ref": normalize_reference(account_reference),
            }
        )
        try:
            answer = self.provider_id._mpesa_stk_push(
                msisdn, amount, account_reference, "Internet"
            )
        except MpesaError as error:
            self._mpesa_append_log("stk_push_error", error.body or str(error))
            if error.ambiguous:
                # The prompt may have been sent: wait for a callback or a
                # paybill confirmation; the janitor gives up after a day.
                self._set_pending(
                    state_message=self.env._(
                        "M-PESA did not confirm the request. If your phone shows "
                        "a prompt, you can still pay."
                    )
                )
                return self
            self._set_error(str(error))
            raise
        self._mpesa_append_log("stk_push", answer)
        self.write(
            {
                "provider_reference": answer["CheckoutRequestID"],
                "mpesa_checkout_request_id": answer["CheckoutRequestID"],
                "mpesa_merchant_request_id": answer.get("MerchantRequestID"),
                "mpesa_next_query": fields.Datetime.now()
                + timedelta(seconds=const.QUERY_FIRST_AFTER),
            }
        )
        self._set_pending(
            state_message=self.env._(
                "Check your phone (%s) and enter your M-PESA PIN.",
                mask_msisdn(msisdn),
            )
        )
        _logger.info(
            "M-PESA: STK push %s sent to %s for %s KES (%s)",
            answer["CheckoutRequestID"],
            mask_msisdn(msisdn),
            amount,
            self.reference,
        )
        return self

    # === outcomes === #

    def _mpesa_lock(self):
        """Row lock: concurrent callbacks for one payment wait, and under Odoo's
        repeatable read the later one fails with a serialization error and is
        retried by Odoo once the first has committed (Odoo logs the retry at
        INFO: no "bad query" ERROR for this expected race)."""
        self.env.cr.execute(
            "SELECT id FROM payment_transaction WHERE id IN %s FOR UPDATE",
            [tuple(self.ids)],
            log_exceptions=False,
        )
        self.invalidate_recordset()

    def _mpesa_result_message(self, code, description):
        message = const.RESULT_MESSAGES.get(str(code))
        if message:
            return str(message)
        return self.env._(
            "M-PESA did not complete the payment: %(desc)s (code %(code)s).",
            desc=description or self.env._("no reason given"),
            code=code,
        )

    def _mpesa_apply_failure(self, code, description):
        self.ensure_one()
        code = str(code)
        self.mpesa_result_code = code
        message = self._mpesa_result_message(code, description)
        if code in const.CANCEL_CODES:
            self._set_canceled(state_message=message)
        else:
            self._set_error(message)
        _logger.info(
            "M-PESA: %s ended with code %s (%s)", self.reference, code, description
        )

    def _mpesa_settle_paid(self, receipt=None, paid_at=None):
        """M-PESA confirmed the payment: record the money exactly once.

        The receipt is claimed in the M-PESA payments ledger; when a paybill
        confirmation already recorded it (one payment can produce both), this
        transaction is marked paid without a second payment."""
        self.ensure_one()
        Ledger = self.env["isp.mpesa.payment"].sudo()
        if receipt:
            entry, created = Ledger._mpesa_claim(
                self.provider_id,
                receipt,
                {
                    "channel": "stk",
                    "amount": self.amount,
                    "transaction_id": self.id,
                    "partner_id": self.partner_id.id,
                    "state": "matched",
                    "msisdn": mask_msisdn(self.mpesa_phone),
                    "bill_ref_number": self.mpesa_account_ref,
                    "trans_time": paid_at,
                },
            )
            if not created:
                if entry.channel == "c2b":
                    entry._mpesa_internal().channel = "both"
                other = entry.transaction_id
                if other == self and self.state == "done":
                    return self
                if other and other != self:
                    # Already paid through the paybill confirmation.
                    self.mpesa_receipt = receipt
                    # no payment to make: nothing is left to the job
                    self.with_context(mpesa_defer_post_process=False)._set_done(
                        state_message=self.env._(
                            "Paid: M-PESA receipt %s, recorded from the paybill "
                            "confirmation.",
                            receipt,
                        ),
                        extra_allowed_states=("cancel",),
                    )
                    self.write(
                        {"is_post_processed": True, "payment_id": other.payment_id.id}
                    )
                    _logger.info(
                        "M-PESA: receipt %s already recorded by %s; %s paid "
                        "without a second payment",
                        receipt,
                        other.reference,
                        self.reference,
                    )
                    return self
                entry._mpesa_internal().write(
                    {
                        "transaction_id": self.id,
                        "partner_id": self.partner_id.id,
                        "state": "matched",
                    }
                )
            self.mpesa_receipt = receipt
        self.mpesa_result_code = "0"
        self._set_done(
            state_message=self.env._("Paid: M-PESA receipt %s.", receipt)
            if receipt
            else self.env._("Paid (confirmed by M-PESA; receipt to follow)."),
            extra_allowed_states=("cancel",),
        )
        self._mpesa_post_process()
        _logger.info(
            "M-PESA: %s paid, %s KES, receipt %s",
            self.reference,
            self.amount,
            receipt or "unknown",
        )
        return self

    def _mpesa_verify_and_settle(self, metadata):
        """A success callback: believe it only once M-PESA's status query
        confirms it (callbacks are not signed)."""
        self.ensure_one()
        provider = self.provider_id
        try:
            status, answer = provider._mpesa_stk_query(self.mpesa_checkout_request_id)
        except MpesaError as error:
            _logger.info(
                "M-PESA: cannot confirm %s now (%s); the status job will",
                self.reference,
                error,
            )
            self.mpesa_next_query = fields.Datetime.now()
            return
        self._mpesa_append_log("stk_query", answer)
        if status == "pending":
            self.mpesa_next_query = fields.Datetime.now() + timedelta(
                seconds=const.QUERY_BACKOFF[0]
            )
            return
        code = answer["ResultCode"]
        if code != "0":
            _logger.warning(
                "M-PESA: a callback claimed %s was paid but M-PESA says %s (%s); "
                "callback ignored",
                self.reference,
                code,
                answer.get("ResultDesc"),
            )
            self._mpesa_apply_failure(code, answer.get("ResultDesc"))
            return
        self._mpesa_settle_paid(
            metadata.get("MpesaReceiptNumber") if metadata else None,
            paid_at=self._mpesa_paid_at(metadata),
        )

    @api.model
    def _mpesa_paid_at(self, metadata):
        """``TransactionDate`` (an East Africa Time integer) as a UTC datetime."""
        value = str((metadata or {}).get("TransactionDate") or "")
        if len(value) != 14 or not value.isdigit():
            return False
        try:
            local = datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=EAT)
        except ValueError:
            return False
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    @api.model
    def _mpesa_handle_stk_callback(self, provider, callback):
        """Process one ``Body.stkCallback`` for ``provider``. Idempotent:
        duplicates and replays change nothing."""
        checkout_id = callback.get("CheckoutRequestID")
        code = str(callback.get("ResultCode"))
        metadata = _callback_items(callback) if code == "0" else {}
        tx = self.sudo().search(
            [
                ("provider_id", "=", provider.id),
                ("mpesa_checkout_request_id", "=", checkout_id),
            ],
            limit=1,
        )
        if not tx:
            self.env["isp.mpesa.payment"].sudo()._mpesa_stk_without_request(
                provider, callback, metadata
            )
            return
        tx._mpesa_lock()
        tx._mpesa_append_log("stk_callback", callback)
        if tx.state == "done":
            _logger.info(
                "M-PESA: duplicate callback for %s (already paid), ignored",
                tx.reference,
            )
            return
        if code != "0":
            if tx.state in ("draft", "pending"):
                tx._mpesa_apply_failure(code, callback.get("ResultDesc"))
            else:
                _logger.info(
                    "M-PESA: callback %s for %s, already %s, ignored",
                    code,
                    tx.reference,
                    tx.state,
                )
            return
        paid = self.env["isp.mpesa.payment"]._mpesa_parse_amount(metadata.get("Amount"))
        if paid is None or paid != Decimal(str(tx.amount)).quantize(Decimal("0.01")):
            _logger.warning(
                "M-PESA: callback for %s reports KES %s, the request was for "
                "KES %s; ignored (the status job checks the payment)",
                tx.reference,
                metadata.get("Amount"),
                tx.amount,
            )
            return
        receipt = metadata.get("MpesaReceiptNumber")
        if not receipt or not re.fullmatch(r"[A-Z0-9]{6,20}", str(receipt)):
            _logger.warning(
                "M-PESA: success callback for %s without a valid receipt; ignored",
                tx.reference,
            )
            return
        tx.mpesa_callback_data = json.dumps(metadata, default=str)
        if tx.state == "draft":  # push timed out but the prompt went out
            tx._set_pending()
        tx._mpesa_verify_and_settle(metadata)

    # === the status job ("janitor") === #

    def _mpesa_give_up(self):
        for tx in self:
            tx.mpesa_unknown = True
            tx._set_error(
                self.env._(
                    "Unknown: M-PESA gave no final answer within a day. Check the "
                    "M-PESA statement and reconcile by hand."
                )
            )
            _logger.warning(
                "M-PESA: %s still pending after a day; left to reconcile by hand",
                tx.reference,
            )

    @api.model
    def _cron_mpesa_query_pending(self, limit=None):
        """Settle pending STK pushes whose callback never came: query M-PESA
        at a bounded rate (``limit`` queries per run, backing off per payment),
        give up after a day."""
        now = fields.Datetime.now()
        limit = limit or const.QUERIES_PER_RUN
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        pending = self.sudo().search(
            [
                ("provider_code", "=", "mpesa"),
                ("state", "=", "pending"),
                ("create_date", "<=", now - timedelta(seconds=const.QUERY_FIRST_AFTER)),
                "|",
                ("mpesa_next_query", "=", False),
                ("mpesa_next_query", "<=", now),
            ],
            order="mpesa_next_query, id",
            limit=limit,
        )
        done = 0
        for tx in pending:
            tx._mpesa_lock()
            if tx.state != "pending":
                continue
            done += 1
            if tx.create_date <= now - timedelta(seconds=const.GIVE_UP_AFTER):
                tx._mpesa_give_up()
            elif not tx.mpesa_checkout_request_id:
                # the push timed out: nothing to ask about; wait for a callback
                # or a paybill confirmation until we give up
                tx.mpesa_next_query = now + timedelta(hours=1)
            else:
                try:
                    status, answer = tx.provider_id._mpesa_stk_query(
                        tx.mpesa_checkout_request_id
                    )
                except MpesaError as error:
                    if error.rate_limited:
                        _logger.info("M-PESA: rate limited; status job stops here")
                        break
                    tx._mpesa_schedule_next(now)
                    continue
                tx._mpesa_append_log("stk_query", answer)
                if status == "pending":
                    tx._mpesa_schedule_next(now)
                elif answer["ResultCode"] == "0":
                    metadata = json.loads(tx.mpesa_callback_data or "{}")
                    tx._mpesa_settle_paid(
                        metadata.get("MpesaReceiptNumber"),
                        paid_at=self._mpesa_paid_at(metadata),
                    )
                else:
                    tx._mpesa_apply_failure(
                        answer["ResultCode"], answer.get("ResultDesc")
                    )
            if in_cron:
                self.env.cr.commit()  # one payment at a time survives a crash
        if in_cron:
            remaining = self.sudo().search_count(
                [("provider_code", "=", "mpesa"), ("state", "=", "pending")]
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=0)
            _logger.info(
                "M-PESA status job: %s checked, %s still pending", done, remaining
            )
        return done

    def _mpesa_schedule_next(self, now):
        for tx in self:
            step = const.QUERY_BACKOFF[
                min(tx.mpesa_query_count, len(const.QUERY_BACKOFF) - 1)
            ]
            tx.write(
                {
                    "mpesa_query_count": tx.mpesa_query_count + 1,
                    "mpesa_next_query": now + timedelta(seconds=step),
                }
            )
