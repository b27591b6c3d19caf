# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.sql import create_index

from ..const import CONCURRENCY_ERRORS
from ..tools import wkhtmltopdf
from .account_move_send import PREPARED_BALANCES

_logger = logging.getLogger(__name__)

# Invoices sent per transaction of the sending job in *portal link* mode (no
# PDF to render: each costs an e-mail, a few tens of milliseconds).
ISP_LINK_SEND_BATCH = 50
# cr.cache key of the e-mails' authors found by sender address while a batch
# is sent in portal link mode (_isp_send_link_batch)
AUTHORS_BY_EMAIL = "isp_account_move_send_authors"


class AccountMove(models.Model):
    _inherit = "account.move"

    isp_subscription_ids = fields.Many2many(
        "isp.subscription",
        string="Subscriptions",
        compute="_compute_isp_subscription_ids",
        search="_search_isp_subscription_ids",
        compute_sudo=True,
    )
    isp_account_numbers = fields.Char(
        string="Account number",
        compute="_compute_isp_subscription_ids",
        compute_sudo=True,
    )

    isp_date_paid = fields.Date(
        string="Settled on",
        compute="_compute_isp_date_paid",
        store=True,
        copy=False,
        help="The day the invoice became paid: the accounting date of the "
        "last payment or credit note matched with it (the later of the two "
        "matched entries' dates). Empty while it is not paid.",
    )

    @api.depends("line_ids.isp_subscription_id")
    def _compute_isp_subscription_ids(self):
        for move in self:
            subs = move.line_ids.isp_subscription_id
            move.isp_subscription_ids = subs
            move.isp_account_numbers = ", ".join(subs.mapped("account_number"))

    @api.depends(
        "payment_state",
        "line_ids.display_type",
        "line_ids.matched_credit_ids.max_date",
    )
    def _compute_isp_date_paid(self):
        # The definition of tools/settlement.py (SETTLED_DAYS), which writes
        # it in SQL for the moves that existed before the field: the latest
        # date of the reconciliations of the receivable lines, once paid.
        for move in self:
            dates = []
            if move.payment_state in ("paid", "in_payment"):
                dates = move.line_ids.filtered(
                    lambda line: line.display_type == "payment_term"
                ).matched_credit_ids.mapped("max_date")
            move.isp_date_paid = max(dates) if dates else False

    def _search_isp_subscription_ids(self, operator, value):
        return [("line_ids.isp_subscription_id", operator, value)]

    def init(self):
        super().init()
        # The sending job looks for the invoices queued for sending (Odoo's
        # own search and ours): a handful among all the invoices.
        create_index(
            self.env.cr,
            "account_move_isp_sending_data_index",
            self._table,
            ["id"],
            where="sending_data IS NOT NULL",
        )
        # *Days to pay* reads the invoices settled in a period: a month's
        # among all the invoices.
        create_index(
            self.env.cr,
            "account_move_isp_date_paid_index",
            self._table,
            ["isp_date_paid"],
            where="isp_date_paid IS NOT NULL",
        )

    def _fetch_duplicate_reference(self, matching_states=("draft", "posted")):
        # Odoo flags customer invoices with the same amount and date as possible
        # duplicates. Two subscription invoices never are: each bills its own
        # period, which the database keeps unique (catch-up and consolidated
        # invoices often share amount and date).
        duplicates = super()._fetch_duplicate_reference(matching_states)
        for move, others in duplicates.items():
            if move.isp_subscription_ids:
                duplicates[move] = others.filtered(lambda m: not m.isp_subscription_ids)
        return duplicates

    def _invoice_paid_hook(self):
        # Paid by any channel (bank, card, M-PESA, a credit note): subscriptions
        # suspended for non-payment come back once nothing overdue is left.
        res = super()._invoice_paid_hook()
        self.sudo().isp_subscription_ids._isp_reconnect_if_settled()
        return res

    def _get_mail_template(self):
        # Subscription invoices go out with the ISP's own template.
        if (
            self
            and all(move.isp_subscription_ids for move in self)
            and all(move.move_type == "out_invoice" for move in self)
        ):
            return self.env.ref("isp_billing.mail_template_isp_invoice")
        return super()._get_mail_template()

    def _isp_queue_sending(self):
        """Queue posted subscription invoices for Odoo's invoice sending job
        (``account.move._cron_account_move_send``), which sends them in the
        company's *Invoice e-mails* mode (``res.company.isp_invoice_sending``):
        ``pdf``, Odoo's sending (PDF rendered and attached); ``link``, the
        e-mail with the portal link at once, the PDF made on first download
        (``isp_link`` in ``sending_data``)."""
        to_send = self.filtered(
            lambda move: (
                move.state == "posted"
                and move.company_id.isp_send_invoices
                and not move.is_move_sent
                and not move.sending_data
            )
        )
        self.env["isp.autopay.attempt"]._schedule_first(
            self.filtered(lambda m: m.move_type == "out_invoice")
        )
        if not to_send:
            return
        author = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
        }
        for company, moves in to_send.grouped("company_id").items():
            if company.isp_invoice_sending == "link":
                moves.sending_data = {**author, "isp_link": True}
            else:
                moves.sending_data = author
        self._isp_trigger_sending()

    @api.model
    def _isp_sending_crons(self):
        """The active cron records of the sending job: Odoo's *Send
        invoices* and isp_billing's second worker (inactive by default,
        data/)."""
        crons = self.env.ref("account.ir_cron_account_move_send") | self.env.ref(
            "isp_billing.ir_cron_account_move_send_2", raise_if_not_found=False
        )
        return crons.sudo().filtered("active")

    @api.model
    def _isp_trigger_sending(self, at=None):
        """Have the sending job's active workers run (at ``at``, default at
        once)."""
        for cron in self._isp_sending_crons():
            cron._trigger(at)

    @api.model
    def _cron_account_move_send(self, job_count=10):
        """Override of `account`: first the invoices queued in *portal link*
        mode, ``ISP_LINK_SEND_BATCH`` per call, each e-mailed without
        rendering its PDF; then Odoo's own sending of the others, one invoice
        per call on a wkhtmltopdf that renders one document per call (the
        invoices stay locked while they are rendered: one render, not ten).
        The progress is reported so that the cron runner calls again at once
        while some are waiting. Several workers (cron records) share the
        queue: each call takes the invoices no other transaction holds
        (``_isp_lock_link_sending``)."""
        queued = [("sending_data", "!=", False)]
        before = self.search_count(queued)
        links = self._isp_lock_link_sending(ISP_LINK_SEND_BATCH)
        if links is None:
            # another worker committed some of this call's invoices since its
            # snapshot: this call sends nothing, the next one at once
            self._isp_trigger_sending()
            return
        if links:
            links._isp_send_link_batch()
        else:
            if not wkhtmltopdf.batch_capable():
                job_count = 1
            # Odoo's job takes its next invoices and locks them all or sends
            # nothing (_with_locked_records); locked here first, so that
            # invoices another worker sent since this call began, or holds,
            # are left to it without an error
            first = self.search(queued, limit=job_count)
            locked = self._isp_lock_skip_locked(first.ids) if first else []
            if locked is None:
                self._isp_trigger_sending()
                return
            if len(locked) == len(first):
                super()._cron_account_move_send(job_count=job_count)
        remaining = self.search_count(queued)
        done = max(before - remaining, 0)
        if done:
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if remaining:
                self._isp_trigger_sending()
        elif remaining:
            # all held by another transaction (a download rendering its PDF,
            # another worker): try again in a minute, not at once
            self._isp_trigger_sending(fields.Datetime.now() + timedelta(minutes=1))

    def _isp_send_link_batch(self):
        """E-mail the invoices of ``self`` (queued in *portal link* mode,
        locked by this transaction) through Odoo's sending
        (``account.move.send._generate_and_send_invoices``), what it computes
        invoice by invoice prepared for the batch
        (``account.move.send._isp_prepare_link_mails``), and:

        * Odoo's reset of each invoice's queue entry (``sending_data``, one
          ``account.move.write`` per invoice, with its balance check and
          journal items sync) kept in the cache and written for the batch in
          one statement at the next flush (the field protected meanwhile);
        * the e-mails' author found once per sender address
          (``_mail_find_partner_from_emails``, a search per e-mail in Odoo);
        * the customers' users read for the batch (Odoo's portal button reads
          them customer by customer).
        """
        Send = self.env["account.move.send"]
        self.mapped("sending_data")
        self.partner_id.mapped("user_ids")
        Send._isp_prepare_link_mails(self)
        self.env.cr.cache[AUTHORS_BY_EMAIL] = {}
        try:
            with self.env.protecting([self._fields["sending_data"]], self):
                Send._generate_and_send_invoices(self, from_cron=True)
            self.modified(["sending_data"])
        finally:
            Send._isp_forget_link_mails()
            self.env.cr.cache.pop(AUTHORS_BY_EMAIL, None)
        # as Odoo's job does: an invoice in error has its error on the
        # chatter and is no longer "being sent"
        self.filtered(
            lambda m: m.sending_data and m.sending_data.get("error")
        ).sending_data = False

    @api.model
    def _mail_find_partner_from_emails(
        self, emails, records=None, force_create=False, extra_domain=False
    ):
        """Override of `mail`: while a batch is sent in portal link mode
        (``_isp_send_link_batch``), the partners of the same addresses found
        once: ``message_post`` finds each e-mail's author from its sender
        address (the same for the batch). Odoo's result otherwise."""
        memo = self.env.cr.cache.get(AUTHORS_BY_EMAIL)
        if memo is None or records is not None or force_create or extra_domain:
            return super()._mail_find_partner_from_emails(
                emails,
                records=records,
                force_create=force_create,
                extra_domain=extra_domain,
            )
        key = (tuple(emails), self.env.uid, self.env.su)
        if key not in memo:
            memo[key] = super()._mail_find_partner_from_emails(emails)
        return list(memo[key])

    @api.model
    def _isp_lock_link_sending(self, limit):
        """Up to ``limit`` invoices queued in *portal link* mode, in order of
        id, locked for this transaction (``FOR NO KEY UPDATE``, the lock its
        writes take); those another transaction holds are skipped (``SKIP
        LOCKED``): two workers never take the same invoice. As the ORM's
        search would: every company for the superuser (the cron), the
        caller's companies otherwise (account.move's company rule).

        :return: the invoices, or ``None`` when some of them were sent and
            committed by another transaction since this one began (the
            serialization failure of a lock under repeatable read): none
            locked, this transaction must not send any
        """
        companies = (
            self.env["res.company"].sudo().search([]).ids
            if self.env.su
            else self.env.companies.ids
        )
        ids = self._isp_lock_skip_locked(
            """
            SELECT id FROM account_move
             WHERE sending_data IS NOT NULL
               AND sending_data ->> 'isp_link' = 'true'
               AND company_id = ANY(%s)
             ORDER BY id
             LIMIT %s
            """,
            [companies, limit],
        )
        return None if ids is None else self.browse(ids)

    @api.model
    def _isp_lock_skip_locked(self, query_or_ids, params=None):
        """Lock for this transaction (``FOR NO KEY UPDATE``, the lock the
        sending's writes take) the invoices ``query_or_ids`` (a list of ids, or
        a query of ``account_move`` ids with its ``params``) that no other
        transaction holds (``SKIP LOCKED``).

        :return: the ids locked, or ``None`` when some were changed and
            committed by another transaction since this one began (the
            serialization failure of a lock under repeatable read): then none
            is locked
        """
        if isinstance(query_or_ids, list):
            query_or_ids, params = (
                "SELECT id FROM account_move WHERE id = ANY(%s)",
                [query_or_ids],
            )
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    f"{query_or_ids} FOR NO KEY UPDATE SKIP LOCKED",
                    params,
                    log_exceptions=False,
                )
                return [row[0] for row in self.env.cr.fetchall()]
        except CONCURRENCY_ERRORS:
            _logger.info("Invoices are being sent by another worker")
            return None

    def _isp_ensure_access_tokens(self):
        """Give the invoices of ``self`` their portal access token (the link
        of their e-mails) in one statement, as ``portal.mixin``'s
        ``_portal_ensure_token`` would one by one (a random UUID4, as text).
        The templates' ``get_portal_url()`` would otherwise write a token
        invoice by invoice, each time through ``account.move.write``."""
        missing = self.filtered(lambda inv: not inv.access_token)
        if not missing:
            return
        missing.flush_recordset(["access_token"])
        self.env.cr.execute(
            """
            UPDATE account_move SET access_token = gen_random_uuid()::text
             WHERE id IN %s AND access_token IS NULL
            """,
            [tuple(missing.ids)],
        )
        missing.invalidate_recordset(["access_token"])

    # ------------------------------------------------------------------
    # The invoice PDF in portal link mode: made on first download
    # ------------------------------------------------------------------

    def _isp_pdf_on_download(self):
        """The invoices of ``self`` whose PDF is made on their first download:
        posted subscription invoices and credit notes of a company in *portal
        link* mode without their PDF yet."""
        return self.filtered(
            lambda move: (
                move.state == "posted"
                and move.move_type in ("out_invoice", "out_refund")
                and move.company_id.isp_invoice_sending == "link"
                and move.isp_subscription_ids
                and not move.invoice_pdf_report_id
            )
        )

    def _isp_make_pdf_on_download(self):
        """Render the PDF of the invoices of ``self`` made on first download
        (``_isp_pdf_on_download``), by Odoo's own invoice documents, and keep
        it as the invoice's PDF (``invoice_pdf_report_id``): later downloads,
        the Send wizard and Odoo's flows find that file. Whoever may read the
        invoice may have its PDF made (the portal passes the invoice it
        checked the token of). An invoice being rendered by another
        transaction is waited for, then served from its PDF."""
        todo = self._isp_pdf_on_download()
        if not todo:
            return
        todo.check_access("read")
        Send = self.env["account.move.send"].sudo()
        for move in todo.sudo():
            # Under repeatable read, a download that waited here for another
            # one fails to serialize once that one committed; Odoo retries the
            # request (logged at INFO), which then finds the PDF.
            self.env.cr.execute(
                "SELECT id FROM account_move WHERE id = %s FOR UPDATE",
                [move.id],
                log_exceptions=False,
            )
            move.invalidate_recordset(
                ["invoice_pdf_report_id", "invoice_pdf_report_file"]
            )
            if move.invoice_pdf_report_id:
                continue
            was_sent = move.is_move_sent
            moves_data = {
                move: Send._get_default_sending_settings(move, sending_methods=set())
            }
            Send._generate_invoice_documents(moves_data)
            # Odoo marks an invoice sent when its PDF is made: a download
            # does not send it
            if move.is_move_sent != was_sent:
                move.is_move_sent = was_sent

    def _get_invoice_legal_documents(self, filetype, allow_fallback=False):
        """Override of `account`: in *portal link* mode the first download
        makes the invoice's PDF (instead of a PROFORMA)."""
        if filetype in ("pdf", "all"):
            self._isp_make_pdf_on_download()
        return super()._get_invoice_legal_documents(
            filetype, allow_fallback=allow_fallback
        )

    def _get_invoice_legal_documents_all(self, allow_fallback=False):
        """Override of `account`: see ``_get_invoice_legal_documents``."""
        self._isp_make_pdf_on_download()
        return super()._get_invoice_legal_documents_all(allow_fallback=allow_fallback)

    def action_print_pdf(self):
        """Override of `account`: *Print* of an invoice in *portal link* mode
        downloads its one PDF, made now if it has none yet."""
        self.ensure_one()
        if (
            self.state == "posted"
            and self.company_id.isp_invoice_sending == "link"
            and self.isp_subscription_ids
            and self.move_type in ("out_invoice", "out_refund")
        ):
            self._isp_make_pdf_on_download()
            return self.action_invoice_download_pdf()
        return super().action_print_pdf()

    def _isp_action_view(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["context"] = {"default_move_type": "out_invoice"}
        if len(self) == 1:
            action["views"] = [(self.env.ref("account.view_move_form").id, "form")]
            action["res_id"] = self.id
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action

    # ------------------------------------------------------------------
    # What the subscriber reads (mail and SMS templates, invoice PDF)
    # ------------------------------------------------------------------

    def _isp_balance(self):
        """The customer's one balance (``isp.subscription._isp_balance``) for
        the texts about this invoice: e-mails and SMS show it, not the
        invoice's residual alone. An invoice without subscription: its
        residual.

        :rtype: float
        """
        self.ensure_one()
        ahead = self.env.cr.cache.get(PREPARED_BALANCES)
        if ahead and self.id in ahead:
            # computed together for the e-mails of a sending batch
            return ahead[self.id]
        subscription = self.isp_subscription_ids[:1]
        if not subscription:
            return self.amount_residual
        return subscription._isp_balance()

    def _isp_balances(self):
        """``_isp_balance`` of each invoice of ``self``, their subscriptions'
        balances computed together (``isp.subscription._isp_balances``).

        :return: {invoice id: balance}
        :rtype: dict
        """
        firsts = {move: move.isp_subscription_ids[:1] for move in self}
        subscriptions = self.env["isp.subscription"].union(*firsts.values())
        by_subscription = subscriptions._isp_balances()
        return {
            move.id: by_subscription[sub.id] if sub else move.amount_residual
            for move, sub in firsts.items()
        }

    def _isp_payment_instructions(self):
        """How to pay this invoice outside the portal: the payment
        instructions of its subscriptions (hook
        ``isp.subscription._isp_payment_instructions``), without repeats.

        :rtype: list[str]
        """
        self.ensure_one()
        texts = []
        for subscription in self.isp_subscription_ids:
            for text in subscription._isp_payment_instructions():
                if text not in texts:
                    texts.append(text)
        return texts

    def _isp_sms_payment_text(self):
        """The end of a reminder SMS: the payment instructions, or, without
        any, the account number(s) to quote."""
        self.ensure_one()
        texts = self._isp_payment_instructions()
        if texts:
            return "; ".join(texts)
        return self.env._("Account %(account)s", account=self.isp_account_numbers or "")
