# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.isp_billing.const import UNPAID_INVOICE_DOMAIN

from .. import const
from ..utils import EAT, mask_msisdn, msisdn_hash, normalize_msisdn, normalize_reference

_logger = logging.getLogger(__name__)

_RECEIPT_RE = re.compile(r"^[A-Z0-9]{6,20}$")

# Context key of the ledger's own writes (with sudo: a context alone can be
# sent over RPC, sudo cannot).
_INTERNAL_WRITE = "isp_mpesa_ledger_write"
# What a receipt is: written once, by the model's own methods only.
_IMMUTABLE_FIELDS = frozenset(
    {
        "name",
        "provider_id",
        "company_id",
        "channel",
        "amount",
        "currency_id",
        "bill_ref_number",
        "msisdn",
        "msisdn_hash",
        "payer_name",
        "trans_time",
        "partner_id",
        "transaction_id",
        "state",
        "note",
        "raw_payload",
        "assigned_by_id",
        "assigned_date",
    }
)
# The rights of an accountant: assigning a receipt to a customer.
ACCOUNTANT_GROUP = "account.group_account_manager"
# One copy of each message per receipt, and no more than this in all.
MAX_RAW_PAYLOAD = 256 * 1024


class MpesaBadPayload(ValueError):
    """A callback that cannot be a Daraja message: answered 400, nothing kept."""


class IspMpesaPayment(models.Model):
    """Every M-PESA receipt the ISP received, once: the paybill (C2B)
    confirmations and the STK payments. The unique receipt per provider is
    what makes one payment land once, whichever channel reports it first.
    Receipts that match no customer wait here for an accountant."""

    _name = "isp.mpesa.payment"
    _description = "M-PESA payment"
    _inherit = ["mail.thread"]
    _order = "trans_time desc, id desc"
    _rec_name = "name"

    name = fields.Char(string="Receipt", required=True, readonly=True, index=True)
    provider_id = fields.Many2one(
        "payment.provider", required=True, readonly=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        related="provider_id.company_id", store=True, index=True
    )
    channel = fields.Selection(
        [
            ("c2b", "Paybill"),
            ("stk", "STK push"),
            ("both", "STK push + paybill"),
        ],
        required=True,
        readonly=True,
    )
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one(
        "res.currency",
        readonly=True,
        default=lambda self: self.env.ref("base.KES", raise_if_not_found=False),
    )
    bill_ref_number = fields.Char(
        string="Account typed", readonly=True, help="The account number as typed."
    )
    msisdn = fields.Char(
        string="Phone", readonly=True, help="As M-PESA sent it (masked or hashed)."
    )
    msisdn_hash = fields.Char(
        string="Phone number hash", readonly=True, index="btree_not_null"
    )
    payer_name = fields.Char(string="Payer name", readonly=True)
    trans_time = fields.Datetime(string="Paid on", readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        tracking=True,
        domain="[('parent_id', '=', False)]",
    )
    transaction_id = fields.Many2one("payment.transaction", readonly=True, index=True)
    payment_id = fields.Many2one(related="transaction_id.payment_id")
    state = fields.Selection(
        [
            ("received", "Being recorded"),
            ("unmatched", "To assign"),
            ("matched", "Matched"),
            ("assigned", "Assigned by hand"),
        ],
        default="unmatched",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    note = fields.Char(readonly=True)
    raw_payload = fields.Text(
        string="Raw payload",
        readonly=True,
        groups="account.group_account_invoice,base.group_system",
    )
    assigned_by_id = fields.Many2one(
        "res.users", string="Assigned by", readonly=True, copy=False
    )
    assigned_date = fields.Datetime(string="Assigned on", readonly=True, copy=False)

    _sql_constraints = [
        (
            "receipt_unique",
            "unique(provider_id, name)",
            "An M-PESA receipt is recorded once.",
        )
    ]

    # === append-only === #

    def _mpesa_internal(self):
        """These entries, for the ledger's own methods to write (after they
        checked the caller's rights)."""
        return self.sudo().with_context(**{_INTERNAL_WRITE: True})

    def write(self, vals):
        """A receipt's money and identity fields are written once, by the
        ledger's own methods: refused to everyone else, accountants and
        administrators included. The one exception is the accountant's choice
        of the customer of a receipt waiting in the queue, before *Assign*."""
        if self.env.su and self.env.context.get(_INTERNAL_WRITE):
            return super().write(vals)
        self.check_access("write")  # who may write at all: accountants
        locked = _IMMUTABLE_FIELDS.intersection(vals) - {"partner_id"}
        if locked:
            raise UserError(
                self.env._(
                    "M-PESA receipts cannot be changed (%s): they are recorded "
                    "as M-PESA sent them.",
                    ", ".join(sorted(locked)),
                )
            )
        if "partner_id" in vals:
            applied = self.filtered(
                lambda entry: entry.state != "unmatched" or entry.transaction_id
            )
            if applied:
                raise UserError(
                    self.env._(
                        "%s is already applied to a customer: its customer cannot "
                        "change.",
                        ", ".join(applied.mapped("name")),
                    )
                )
        return super().write(vals)

    def unlink(self):
        if not (self.env.su and self.env.context.get(_INTERNAL_WRITE)):
            raise UserError(
                self.env._("M-PESA receipts cannot be deleted: the ledger is kept.")
            )
        return super().unlink()

    # === the receipt claim === #

    @api.model
    def _mpesa_claim(self, provider, receipt, vals):
        """Record ``receipt`` unless it is already: ``(entry, created)``.

        ``INSERT … ON CONFLICT DO NOTHING``: when two requests race for one
        receipt, the second waits for the first; under Odoo's repeatable read it
        then fails with a serialization error and Odoo retries it, and the retry
        finds the receipt (Odoo logs the retry at INFO: no "bad query" ERROR for
        this expected race)."""
        self.env.cr.execute(
            """
            INSERT INTO isp_mpesa_payment
                (name, provider_id, company_id, channel, state, currency_id,
                 create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, 'unmatched', %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (provider_id, name) DO NOTHING
            RETURNING id
            """,
            [
                receipt,
                provider.id,
                provider.company_id.id,
                vals.get("channel", "c2b"),
                self.env.ref("base.KES").id,
                self.env.uid,
                self.env.uid,
            ],
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if row:
            entry = self.browse(row[0])
            # just inserted: no changes to track
            entry._mpesa_internal().with_context(tracking_disable=True).write(vals)
            return entry, True
        entry = self.search(
            [("provider_id", "=", provider.id), ("name", "=", receipt)], limit=1
        )
        return entry, False

    def _mpesa_add_payload(self, label, payload):
        """Keep ``payload`` on the receipt, once: a replay of the same message
        adds nothing, and the whole stays under ``MAX_RAW_PAYLOAD``."""
        for entry in self._mpesa_internal():
            line = json.dumps({label: payload}, sort_keys=True, default=str)
            kept = entry.raw_payload or ""
            if line in kept.split("\n"):
                continue
            if len(kept) + len(line) + 1 > MAX_RAW_PAYLOAD:
                _logger.info(
                    "M-PESA: receipt %s keeps enough payloads; %s not added",
                    entry.name,
                    label,
                )
                continue
            entry.raw_payload = f"{kept}\n{line}" if kept else line

    # === paybill (C2B) === #

    @api.model
    def _mpesa_parse_c2b(self, data):
        if not isinstance(data, dict):
            raise MpesaBadPayload("the body is not a JSON object")
        receipt = str(data.get("TransID") or "").strip().upper()
        if not _RECEIPT_RE.match(receipt):
            raise MpesaBadPayload("TransID is missing or not an M-PESA receipt")
        amount = self._mpesa_parse_amount(data.get("TransAmount"))
        if amount is None:
            raise MpesaBadPayload(
                "TransAmount is missing or not an amount M-PESA moves "
                f"(KES {const.MIN_AMOUNT} to {const.MAX_AMOUNT:,}, two decimals)"
            )
        return receipt, amount

    @api.model
    def _mpesa_parse_amount(self, value):
        """An amount M-PESA can have moved, as a ``Decimal``, else ``None``:
        a number or a numeric string, finite, from ``const.MIN_AMOUNT`` to
        ``const.MAX_AMOUNT`` (Daraja's limits per transaction), with at most
        two decimals (``"2999.00"``; ``"0.0000001"``, ``"1e10"``, ``"1e400"``,
        ``NaN`` are not amounts)."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        text = str(value).strip()
        if len(text) > 32:
            return None
        try:
            amount = Decimal(text)
        except (InvalidOperation, ValueError, TypeError):
            return None
        if not amount.is_finite():
            return None
        if not const.MIN_AMOUNT <= amount <= const.MAX_AMOUNT:
            return None
        if amount != amount.quantize(Decimal("0.01")):
            return None
        return amount

    @api.model
    def _mpesa_c2b_time(self, value):
        value = str(value or "")
        try:
            local = datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=EAT)
        except ValueError:
            return fields.Datetime.now()
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    @api.model
    def _mpesa_match_reference(self, provider, reference):
        """``(partner, invoices)`` for an account number or an invoice number
        (case- and space-insensitive), invoices open, oldest first; the named
        invoice first."""
        ref = normalize_reference(reference)
        if not ref:
            return self.env["res.partner"], self.env["account.move"]
        company = provider.company_id
        Move = self.env["account.move"].sudo()
        Move.flush_model()
        Sub = self.env["isp.subscription"].sudo()
        # Only an exact match, spaces and case aside: never a pattern (a
        # typed "%" or "_" is a character like any other, not a wildcard).
        sub = Sub.search(
            [("account_number", "=", ref), ("company_id", "=", company.id)], limit=1
        )
        if not sub:
            Sub.flush_model(["account_number", "company_id"])
            self.env.cr.execute(
                """
                SELECT id FROM isp_subscription
                 WHERE company_id = %s
                   AND upper(regexp_replace(account_number, '\\s', '', 'g')) = %s
                 LIMIT 1
                """,
                [company.id, ref],
            )
            row = self.env.cr.fetchone()
            sub = Sub.browse(row[0]) if row else Sub
        named_id = None
        if sub:
            partner_id = sub.partner_id.commercial_partner_id.id
        else:
            # the number exactly (Odoo's unique index of posted names), in any
            # case (the trigram index), else with the name's own spaces
            # ignored too (a sequence with spaces; slower)
            like = re.sub(r"([\\%_])", r"\\\1", ref)
            for condition in (
                SQL("name = %s", ref),
                SQL("name ILIKE %s", like),
                SQL("upper(regexp_replace(name, '\\s', '', 'g')) = %s", ref),
            ):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT id, commercial_partner_id FROM account_move
                         WHERE move_type = 'out_invoice' AND state = 'posted'
                           AND name != '/' AND company_id = %s AND %s
                         LIMIT 1
                        """,
                        company.id,
                        condition,
                    )
                )
                row = self.env.cr.fetchone()
                if row:
                    break
            else:
                return self.env["res.partner"], Move
            named_id, partner_id = row
        # open invoices in M-PESA's currency, oldest due first
        self.env.cr.execute(
            """
            SELECT id FROM account_move
             WHERE move_type = 'out_invoice' AND state = 'posted'
               AND company_id = %s AND commercial_partner_id = %s
               AND payment_state IN ('not_paid', 'partial') AND currency_id = %s
             ORDER BY invoice_date_due, invoice_date, id
            """,
            [company.id, partner_id, self.env.ref(f"base.{const.CURRENCY}").id],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if named_id in ids:  # the invoice the subscriber named comes first
            ids.remove(named_id)
            ids.insert(0, named_id)
        return self.env["res.partner"].sudo().browse(partner_id), Move.browse(ids)

    @api.model
    def _mpesa_recent_stk_tx(self, provider, reference, amount):
        """A recent STK payment this paybill confirmation is the money of:
        same provider, account reference and amount, no receipt yet."""
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("provider_id", "=", provider.id),
                    ("mpesa_account_ref", "=", normalize_reference(reference)),
                    ("amount", "=", float(amount)),
                    ("mpesa_receipt", "=", False),
                    ("state", "in", ("draft", "pending", "done", "cancel", "error")),
                    (
                        "create_date",
                        ">=",
                        fields.Datetime.now()
                        - timedelta(seconds=const.C2B_STK_MATCH_WINDOW),
                    ),
                ],
                order="id desc",
                limit=1,
            )
        )

    @api.model
    def _mpesa_handle_c2b_confirmation(self, provider, data):
        """A paybill confirmation: record the money once, apply it to the
        customer's invoices, or queue it for an accountant.

        :raise MpesaBadPayload: not a confirmation (nothing written)"""
        receipt, amount = self._mpesa_parse_c2b(data)
        raw_msisdn = str(data.get("MSISDN") or "")
        plain = normalize_msisdn(raw_msisdn)
        vals = {
            "channel": "c2b",
            "amount": float(amount),
            "bill_ref_number": (data.get("BillRefNumber") or "").strip()[:64],
            "msisdn": mask_msisdn(plain or raw_msisdn),
            "msisdn_hash": msisdn_hash(plain)
            if plain
            else (
                raw_msisdn.lower()
                if re.fullmatch(r"[0-9a-fA-F]{64}", raw_msisdn)
                else False
            ),
            "payer_name": " ".join(
                filter(
                    None, (data.get(k) for k in ("FirstName", "MiddleName", "LastName"))
                )
            )[:128],
            "trans_time": self._mpesa_c2b_time(data.get("TransTime")),
        }
        # The STK payment this may be the money of is locked *before* the
        # receipt is claimed: the STK callback locks its transaction, then claims
        # the receipt; the same order here keeps the two from deadlocking when
        # they arrive together.
        tx = self._mpesa_recent_stk_tx(provider, vals["bill_ref_number"], amount)
        if tx:
            tx._mpesa_lock()
        entry, created = self._mpesa_claim(provider, receipt, vals)
        entry._mpesa_add_payload("c2b_confirmation", data)
        if not created:
            if entry.channel == "stk":
                entry._mpesa_internal().channel = "both"
            _logger.info(
                "M-PESA: paybill confirmation %s already recorded (%s); nothing "
                "more to do",
                receipt,
                entry.transaction_id.reference or entry.state,
            )
            return entry
        if tx:
            entry._mpesa_internal().write(
                {
                    "transaction_id": tx.id,
                    "partner_id": tx.partner_id.id,
                    "state": "matched",
                    "channel": "both",
                }
            )
            tx._mpesa_append_log("c2b_confirmation", data)
            if tx.state == "done":
                tx.mpesa_receipt = receipt  # paid earlier, receipt was unknown
            else:
                tx._mpesa_settle_paid(receipt, paid_at=vals["trans_time"])
            _logger.info(
                "M-PESA: paybill confirmation %s is the money of STK payment %s",
                receipt,
                tx.reference,
            )
            return entry
        if (
            self.env.context.get("mpesa_defer_post_process")
            and self.env["payment.transaction"]._mpesa_trigger_post_process()
        ):
            # In the callback: the receipt is claimed, the money cannot be lost
            # or counted twice; matching the account and recording the payment
            # are left to the payments job (an STK callback for this receipt
            # arriving before it runs takes the receipt for its own payment).
            entry._mpesa_internal().with_context(
                tracking_disable=True
            ).state = "received"
            return entry
        entry._mpesa_match_and_apply()
        return entry

    def _mpesa_match_and_apply(self, post_process=True):
        """Apply this paybill receipt to the customer its account names, or
        queue it for an accountant."""
        self.ensure_one()
        partner, invoices = self._mpesa_match_reference(
            self.provider_id, self.bill_ref_number
        )
        if not partner:
            self._mpesa_internal().write(
                {
                    "state": "unmatched",
                    "note": self.env._("No subscription or invoice with this account."),
                }
            )
            _logger.info(
                "M-PESA: paybill payment %s (KES %s, account %r) matches no "
                "customer; queued for an accountant",
                self.name,
                self.amount,
                self.bill_ref_number,
            )
            return
        self._mpesa_apply_to(partner, invoices, "matched", post_process=post_process)

    @api.model
    def _mpesa_apply_received(self, batch_size=10, exclude=()):
        """Part of the payments job: apply up to ``batch_size`` paybill
        receipts the confirmations left (one database transaction each; a
        receipt an STK callback is taking at that moment is left to it).
        Their payment transactions are then made like the STK payments'.
        Returns the ids of the receipts tried."""
        entries = self.search(
            [("state", "=", "received"), ("id", "not in", list(exclude))],
            order="id",
            limit=batch_size,
        )
        for entry in entries:
            try:
                self.env.cr.execute(
                    "SELECT id FROM isp_mpesa_payment WHERE id = %s FOR UPDATE NOWAIT",
                    [entry.id],
                    log_exceptions=False,
                )
                entry.invalidate_recordset()
                if entry.state == "received" and not entry.transaction_id:
                    entry._mpesa_match_and_apply(post_process=False)
                self.env.cr.commit()
            except psycopg2.OperationalError:
                # locked or changed by a callback for the same receipt: that
                # callback records it; the next run sees what it did
                self.env.cr.rollback()
            except Exception:
                # as Odoo's post-processing: one receipt that cannot be
                # recorded does not hold up the others; it stays to record
                _logger.exception(
                    "M-PESA: paybill receipt %s could not be recorded", entry.name
                )
                self.env.cr.rollback()
        return entries.ids

    def _mpesa_apply_to(self, partner, invoices, state, post_process=True):
        """Record this receipt as ``partner``'s payment, reconciled with
        ``invoices`` (oldest first); what is left is customer credit. Without
        ``post_process``, the payment is left to the payments job."""
        self.ensure_one()
        provider = self.provider_id
        method = self.env.ref("payment.payment_method_mpesa")
        Tx = self.env["payment.transaction"].sudo()
        tx = Tx.create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "reference": Tx._compute_reference(
                    "mpesa", prefix=f"MPESA-{self.name}"
                ),
                "amount": self.amount,
                "currency_id": self.currency_id.id,
                "partner_id": partner.id,
                "operation": "online_direct",
                "provider_reference": self.name,
                "mpesa_receipt": self.name,
                "mpesa_account_ref": normalize_reference(self.bill_ref_number)[:64],
                "invoice_ids": [Command.set(invoices.ids)],
            }
        )
        self._mpesa_internal().write(
            {"transaction_id": tx.id, "partner_id": partner.id, "state": state}
        )
        tx._mpesa_append_log("receipt", self.name)
        tx.mpesa_result_code = "0"
        tx._set_done(state_message=self.env._("Paid: M-PESA receipt %s.", self.name))
        if post_process:
            tx._mpesa_post_process()
        _logger.info(
            "M-PESA: receipt %s (KES %s) recorded for %s against %s invoice(s)",
            self.name,
            self.amount,
            partner.display_name,
            len(invoices),
        )
        return tx

    @api.model
    def _mpesa_validate_c2b(self, provider, data):
        """The paybill's validation request: accept, or refuse an unknown
        account when the ISP chose so."""
        amount = self._mpesa_parse_amount(data.get("TransAmount"))
        if amount is None:
            return const.C2B_REJECT_AMOUNT
        if provider.mpesa_c2b_reject_unknown:
            partner, __ = self._mpesa_match_reference(
                provider, data.get("BillRefNumber")
            )
            if not partner:
                _logger.info(
                    "M-PESA: paybill payment to unknown account %r refused",
                    data.get("BillRefNumber"),
                )
                return const.C2B_REJECT_ACCOUNT
        return const.C2B_ACCEPT

    # === STK payments without a request we know === #

    @api.model
    def _mpesa_stk_without_request(self, provider, callback, metadata):
        """A callback for a CheckoutRequestID we never sent (or lost, e.g. a
        push whose answer timed out). Failures and unconfirmed successes are
        logged and dropped; a success M-PESA confirms is money: queued."""
        checkout_id = callback.get("CheckoutRequestID")
        if str(callback.get("ResultCode")) != "0":
            _logger.info(
                "M-PESA: callback for unknown request %s (code %s) ignored",
                checkout_id,
                callback.get("ResultCode"),
            )
            return False
        receipt = str(metadata.get("MpesaReceiptNumber") or "")
        amount = self._mpesa_parse_amount(metadata.get("Amount"))
        if not _RECEIPT_RE.match(receipt) or amount is None:
            _logger.warning(
                "M-PESA: success callback for unknown request %s without a valid "
                "receipt or amount; ignored",
                checkout_id,
            )
            return False
        try:
            status, answer = provider._mpesa_stk_query(checkout_id)
        except Exception as error:  # noqa: BLE001 - any refusal means unconfirmed
            status, answer = "error", {"error": str(error)}
        if status != "final" or answer.get("ResultCode") != "0":
            _logger.warning(
                "M-PESA: success callback for unknown request %s not confirmed by "
                "M-PESA (%s); ignored",
                checkout_id,
                answer.get("ResultCode") or status,
            )
            return False
        phone = normalize_msisdn(metadata.get("PhoneNumber"))
        entry, created = self._mpesa_claim(
            provider,
            receipt,
            {
                "channel": "stk",
                "amount": float(amount),
                "msisdn": mask_msisdn(phone or metadata.get("PhoneNumber")),
                "msisdn_hash": msisdn_hash(phone) if phone else False,
                "trans_time": self.env["payment.transaction"]._mpesa_paid_at(metadata),
                "note": self.env._("STK payment for a request Odoo has no record of."),
            },
        )
        entry._mpesa_add_payload("stk_callback", callback)
        if created:
            _logger.warning(
                "M-PESA: confirmed STK payment %s for unknown request %s queued for "
                "an accountant",
                receipt,
                checkout_id,
            )
        return entry

    # === the accountant's queue === #

    def _mpesa_check_accountant(self):
        """Assigning a receipt moves money to a customer: an accountant's act
        (Invoicing / Accounting *Administrator*, ``ACCOUNTANT_GROUP``), not
        an Invoicing user's nor ISP staff's (ISP / User implies Invoicing).
        Checked before any ``sudo()``: every public method is an RPC endpoint."""
        if not self.env.su and not self.env.user.has_group(ACCOUNTANT_GROUP):
            raise AccessError(
                self.env._("Only accountants can assign M-PESA payments to customers.")
            )
        self.check_access("write")

    def action_assign(self):
        """Apply unmatched receipts to the chosen customer's open invoices;
        who assigned and when is kept on the receipt and its chatter."""
        self._mpesa_check_accountant()
        for entry in self:
            # one assignment per receipt, also for two clicks at once: the
            # second waits here, then finds it applied (or is retried by Odoo)
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT id FROM isp_mpesa_payment WHERE id = %s FOR UPDATE",
                [entry.id],
            )
            entry.invalidate_recordset()
            if entry.state != "unmatched" or entry.transaction_id:
                raise UserError(
                    self.env._("%s is already applied to a customer.", entry.name)
                )
            if not entry.partner_id:
                raise UserError(
                    self.env._("Choose the customer who paid %s first.", entry.name)
                )
            partner = entry.partner_id.commercial_partner_id
            invoices = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        *UNPAID_INVOICE_DOMAIN,
                        ("company_id", "=", entry.company_id.id),
                        ("commercial_partner_id", "=", partner.id),
                    ],
                    order="invoice_date_due, invoice_date, id",
                )
            )
            internal = entry._mpesa_internal()
            internal._mpesa_apply_to(partner, invoices, "assigned")
            internal.write(
                {
                    "assigned_by_id": self.env.uid,
                    "assigned_date": fields.Datetime.now(),
                }
            )
            internal.message_post(
                body=self.env._(
                    "Assigned to %(partner)s by %(user)s (%(login)s).",
                    partner=partner.display_name,
                    user=self.env.user.name,
                    login=self.env.user.login,
                ),
                author_id=self.env.user.partner_id.id,
            )
        return True
