# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.sql import create_index

from ..tools import wkhtmltopdf

# Invoices sent per transaction of the sending job in *portal link* mode (no
# PDF to render: each costs an e-mail, a few tens of milliseconds).
ISP_LINK_SEND_BATCH = 50


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

    @api.depends("line_ids.isp_subscription_id")
    def _compute_isp_subscription_ids(self):
        for move in self:
            subs = move.line_ids.isp_subscription_id
            move.isp_subscription_ids = subs
            move.isp_account_numbers = ", ".join(subs.mapped("account_number"))

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
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    @api.model
    def _cron_account_move_send(self, job_count=10):
        """Override of `account`: first the invoices queued in *portal link*
        mode, ``ISP_LINK_SEND_BATCH`` per call, each e-mailed without
        rendering its PDF; then Odoo's own sending of the others, one invoice
        per call on a wkhtmltopdf that renders one document per call (the
        invoices stay locked while they are rendered: one render, not ten).
        The progress is reported so that the cron runner calls again at once
        while some are waiting."""
        queued = [("sending_data", "!=", False)]
        before = self.search_count(queued)
        links = self._isp_lock_link_sending(ISP_LINK_SEND_BATCH)
        if links:
            Send = self.env["account.move.send"]
            Send._isp_prerender_mail_bodies(links)
            try:
                Send._generate_and_send_invoices(links, from_cron=True)
            finally:
                Send._isp_forget_mail_bodies()
            # as Odoo's job does: an invoice in error has its error on the
            # chatter and is no longer "being sent"
            links.filtered(
                lambda m: m.sending_data and m.sending_data.get("error")
            ).sending_data = False
        else:
            if not wkhtmltopdf.batch_capable():
                job_count = 1
            super()._cron_account_move_send(job_count=job_count)
        remaining = self.search_count(queued)
        done = max(before - remaining, 0)
        cron = self.env.ref("account.ir_cron_account_move_send")
        if done:
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if remaining:
                cron._trigger()
        elif remaining:
            # all held by another transaction (a download rendering its PDF,
            # another worker): try again in a minute, not at once
            cron._trigger(fields.Datetime.now() + timedelta(minutes=1))

    @api.model
    def _isp_lock_link_sending(self, limit):
        """Up to ``limit`` invoices queued in *portal link* mode, locked for
        this transaction; those another transaction holds are left to it.
        As the ORM's search would: every company for the superuser (the
        cron), the caller's companies otherwise (account.move's company
        rule)."""
        companies = (
            self.env["res.company"].sudo().search([]).ids
            if self.env.su
            else self.env.companies.ids
        )
        self.env.cr.execute(
            """
            SELECT id FROM account_move
             WHERE sending_data IS NOT NULL
               AND sending_data ->> 'isp_link' = 'true'
               AND company_id = ANY(%s)
             ORDER BY id
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            [companies, limit],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

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
        subscription = self.isp_subscription_ids[:1]
        if not subscription:
            return self.amount_residual
        return subscription._isp_balance()

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
