# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..utils import mask_payload

_logger = logging.getLogger(__name__)


class IspMpesaCallback(models.Model):
    """Daraja's callbacks as they came (the inbox): STK push results and paybill
    confirmations. A callback route checks the token and the message's shape,
    keeps the body here in one ``INSERT`` and answers; the payments job
    processes the callbacks in order of arrival (STK query, receipt claim,
    transaction, payment), as the route once did in the request. Nothing is
    lost meanwhile: the body is committed before Daraja gets its answer.
    Exactly-once stays with the ledger's unique receipt: a callback repeated
    by Daraja is kept twice here and processed twice, to no effect."""

    _name = "isp.mpesa.callback"
    _description = "M-PESA callback"
    _order = "id desc"
    _rec_name = "key"

    provider_id = fields.Many2one(
        "payment.provider", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    kind = fields.Selection(
        [("stk", "STK push result"), ("c2b", "Paybill confirmation")],
        required=True,
        readonly=True,
    )
    key = fields.Char(
        string="Daraja identifier",
        readonly=True,
        index=True,
        help="CheckoutRequestID of an STK push result, TransID (the receipt) of a "
        "paybill confirmation.",
    )
    body = fields.Text(readonly=True, groups="base.group_system")
    state = fields.Selection(
        [("new", "To process"), ("done", "Processed"), ("failed", "Failed")],
        default="new",
        required=True,
        readonly=True,
        index=True,
    )
    error = fields.Text(readonly=True)

    # === the route's part === #

    @api.model
    def _mpesa_store(self, provider, kind, key, body):
        """Keep one callback as received; the stored record.

        One plain ``INSERT`` (no ORM ``create``): this is all a callback does in
        the request besides checking its token and shape, so that Daraja's
        bursts cost little more than answering."""
        self.env.cr.execute(
            """
            INSERT INTO isp_mpesa_callback
                (provider_id, company_id, kind, key, body, state,
                 create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, 'new', %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            RETURNING id
            """,
            [
                provider.id,
                provider.company_id.id,
                kind,
                (key or "")[:64],
                body,
                self.env.uid,
                self.env.uid,
            ],
        )
        return self.browse(self.env.cr.fetchone()[0])

    # === the job's part === #

    def _mpesa_process(self):
        """Process these callbacks now, each as the route once did in the
        request (in the caller's transaction)."""
        Tx = self.env["payment.transaction"].sudo()
        Ledger = self.env["isp.mpesa.payment"].sudo()
        for record in self.sudo():
            data = json.loads(record.body)
            if record.kind == "stk":
                callback = data["Body"]["stkCallback"]
                _logger.info("M-PESA STK callback: %s", mask_payload(callback))
                Tx._mpesa_handle_stk_callback(record.provider_id, callback)
            else:
                _logger.info("M-PESA paybill confirmation: %s", mask_payload(data))
                Ledger._mpesa_handle_c2b_confirmation(record.provider_id, data)
            record.state = "done"

    def _mpesa_lock(self):
        """Lock this callback if nobody else processes it and it is still to
        process: True, else False (``NOWAIT``: raises if locked)."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM isp_mpesa_callback "
            "WHERE id = %s AND state = 'new' FOR UPDATE NOWAIT",
            [self.id],
            log_exceptions=False,
        )
        found = bool(self.env.cr.fetchone())
        self.invalidate_recordset()
        return found

    @api.model
    def _mpesa_process_new(self, batch_size=10, exclude=()):
        """Part of the payments job: process up to ``batch_size`` callbacks in
        order of arrival, one database transaction each. A callback another
        worker holds (the status page's polling) is left to it; one that fails
        is marked *Failed* with its error, logged, and does not hold up the
        others. Returns the ids of the callbacks tried."""
        records = self.sudo().search(
            [("state", "=", "new"), ("id", "not in", list(exclude))],
            order="id",
            limit=batch_size,
        )
        cr = self.env.cr
        for record in records:
            try:
                if record._mpesa_lock():
                    record._mpesa_process()
                cr.commit()
            except psycopg2.OperationalError:
                # held by the status page, or a serialization failure against
                # another job: the next run sees what happened
                cr.rollback()
            except Exception as error:  # noqa: BLE001 - kept on the record
                _logger.exception(
                    "M-PESA: callback %s (%s) could not be processed",
                    record.id,
                    record.key,
                )
                cr.rollback()
                record.write({"state": "failed", "error": str(error)[:2000]})
                cr.commit()
        return records.ids

    @api.model
    def _mpesa_process_for(self, txs):
        """What the status page's polling does for the M-PESA payments it
        watches: process their STK callbacks now instead of waiting for the
        job (in the request's transaction; a callback the job holds is left
        to it, one that fails is left to the job, which says why)."""
        keys = [key for key in txs.mapped("mpesa_checkout_request_id") if key]
        if not keys:
            return
        records = self.sudo().search(
            [("state", "=", "new"), ("kind", "=", "stk"), ("key", "in", keys)],
            order="id",
        )
        for record in records:
            try:
                with self.env.cr.savepoint():
                    if record._mpesa_lock():
                        record._mpesa_process()
            except psycopg2.OperationalError:
                pass  # the job holds it
            except Exception:  # noqa: BLE001 - the job retries and records it
                _logger.warning(
                    "M-PESA: callback %s could not be processed for the status "
                    "page; left to the payments job",
                    record.id,
                    exc_info=True,
                )

    def action_process_again(self):
        """Staff: process failed callbacks again (after fixing the cause); the
        payments job takes them at once. System administrators only (the
        callback's body is theirs to read, and to fix)."""
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only system administrators can process callbacks again.")
            )
        self.check_access("write")
        self.filtered(lambda record: record.state == "failed").write(
            {"state": "new", "error": False}
        )
        self.env["payment.transaction"]._mpesa_trigger_post_process()
        return True

    @api.autovacuum
    def _gc_processed(self):
        """Processed callbacks are kept 90 days (the transaction and the
        ledger keep their payloads for good)."""
        self.env.cr.execute(
            """
            DELETE FROM isp_mpesa_callback
             WHERE state = 'done'
               AND create_date < now() at time zone 'UTC' - interval '90 days'
            """
        )
