# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, models

# cr.cache key of what the sending job in portal link mode computed ahead for
# the invoices of one call (``_isp_prepare_link_mails``), until
# ``_isp_forget_link_mails``:
# {"langs": {(move id, template id): lang},
#  "fields": {(field, move id, template id, lang): rendered value},
#  "partners": {(move id, template id, lang): [partner id, ...]}}
PREPARED_MAILS = "isp_account_move_send_prepared"
# cr.cache key of the invoices' balances computed together for the bodies
# rendered ahead ({move id: balance}, ``account.move._isp_balance``), while
# they are rendered
PREPARED_BALANCES = "isp_account_move_send_balances"
# The template fields rendered ahead besides the body (inline templates), as
# Odoo renders them one invoice at a time (``_get_default_mail_subject``,
# ``_get_default_mail_partner_ids``, ``_send_mails``'s sender).
PREPARED_FIELDS = ("subject", "email_from", "partner_to")


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_sending_settings(self, move, from_cron=False, **custom_settings):
        """Override of `account`: the sending job tells the invoices queued in
        the company's *portal link* mode (``isp_link`` in their
        ``sending_data``, see ``account.move._isp_queue_sending``)."""
        vals = super()._get_default_sending_settings(
            move, from_cron=from_cron, **custom_settings
        )
        vals["isp_link"] = bool(
            from_cron and move.sending_data and move.sending_data.get("isp_link")
        )
        return vals

    # ------------------------------------------------------------------
    # Portal link mode: the e-mails of one call prepared together
    # ------------------------------------------------------------------

    @api.model
    def _isp_prepare_link_mails(self, moves):
        """Compute ahead, for the whole batch ``moves``, what Odoo's sending
        computes one invoice at a time, with the same results (the e-mails
        are the same, only made with fewer queries and renderings):

        * the invoices' portal access tokens (the e-mail's button), in one
          statement (``account.move._isp_ensure_access_tokens``) instead of one
          ``write`` per invoice when Odoo makes the button;
        * the customers' balances (the body's ``_isp_balance()``), one search
          per company and currency (``account.move._isp_balances``);
        * each invoice's language (the template's ``lang``), one rendering per
          template;
        * the body, one rendering per template and language with the template
          compiled once (``isp_qweb_compile_once``, as the dunning ladder's
          e-mails), and the subject, the sender and the recipients
          (``PREPARED_FIELDS``), one rendering per template and language;
        * the recipients' partners checked to exist in one query.

        Used by ``_get_default_mail_lang``,
        ``_get_mail_default_field_value_from_template`` and
        ``_get_default_mail_partner_ids`` until ``_isp_forget_link_mails``.
        """
        moves._isp_ensure_access_tokens()
        prepared = {"langs": {}, "fields": {}, "partners": {}}
        groups = defaultdict(list)
        for move in moves:
            template = self._get_default_mail_template_id(move)
            if template:
                groups[template].append(move.id)
        self.env.cr.cache[PREPARED_BALANCES] = moves._isp_balances()
        try:
            for template, ids in groups.items():
                by_lang = defaultdict(list)
                for move_id, lang in template._render_lang(ids).items():
                    prepared["langs"][move_id, template.id] = lang
                    by_lang[lang].append(move_id)
                for lang, lang_ids in by_lang.items():
                    self._isp_prepare_lang(prepared, template, lang, lang_ids)
        finally:
            self.env.cr.cache.pop(PREPARED_BALANCES, None)
        self.env.cr.cache[PREPARED_MAILS] = prepared

    @api.model
    def _isp_prepare_lang(self, prepared, template, lang, ids):
        """``_isp_prepare_link_mails`` for the invoices ``ids`` of one template
        and language."""
        localized = template.with_context(lang=lang)
        rendered = {
            "body_html": localized.with_context(
                isp_qweb_compile_once=True
            )._render_field("body_html", ids, options={"post_process": True})
        }
        for field in PREPARED_FIELDS:
            if template[field]:
                rendered[field] = localized._render_field(field, ids)
        for field, values in rendered.items():
            for move_id in ids:
                prepared["fields"][field, move_id, template.id, lang] = values[move_id]
        # Odoo's recipients (_get_default_mail_partner_ids): the partners of
        # partner_to that exist; e-mail addresses (email_to, email_cc) find
        # or create partners: left to Odoo.
        if "partner_to" not in rendered or template.email_to or template.email_cc:
            return
        parsed = {
            move_id: template._parse_partner_to(rendered["partner_to"][move_id])
            for move_id in ids
        }
        all_ids = {pid for pids in parsed.values() for pid in pids}
        existing = set(self.env["res.partner"].sudo().browse(all_ids).exists().ids)
        for move_id, pids in parsed.items():
            prepared["partners"][move_id, template.id, lang] = [
                pid for pid in pids if pid in existing
            ]

    @api.model
    def _isp_forget_link_mails(self):
        self.env.cr.cache.pop(PREPARED_MAILS, None)

    @api.model
    def _isp_prepared(self, kind):
        return (self.env.cr.cache.get(PREPARED_MAILS) or {}).get(kind) or {}

    @api.model
    def _get_default_mail_lang(self, move, mail_template):
        """Override of `account`: the language computed ahead, if it was
        (``_isp_prepare_link_mails``)."""
        langs = self._isp_prepared("langs")
        key = (move.id, mail_template.id)
        if key in langs:
            return langs[key]
        return super()._get_default_mail_lang(move, mail_template)

    @api.model
    def _get_mail_default_field_value_from_template(
        self, mail_template, lang, move, field, **kwargs
    ):
        """Override of `account`: the body, subject, sender or recipients
        rendered ahead, if they were (``_isp_prepare_link_mails``)."""
        values = self._isp_prepared("fields")
        if mail_template:
            key = (field, move._origin.id, mail_template.id, lang)
            if key in values:
                return values[key]
        return super()._get_mail_default_field_value_from_template(
            mail_template, lang, move, field, **kwargs
        )

    @api.model
    def _get_default_mail_partner_ids(self, move, mail_template, mail_lang):
        """Override of `account`: the recipients computed ahead, if they were
        (``_isp_prepare_link_mails``): Odoo's result (the partners of the
        template's ``partner_to`` that exist and have an e-mail address)."""
        partners_ahead = self._isp_prepared("partners")
        key = (move.id, mail_template.id, mail_lang)
        if key not in partners_ahead:
            return super()._get_default_mail_partner_ids(move, mail_template, mail_lang)
        partners = self.env["res.partner"].with_company(move.company_id)
        partners |= self.env["res.partner"].sudo().browse(partners_ahead[key])
        return partners.filtered("email")

    @api.model
    def _generate_invoice_documents(self, invoices_data, allow_fallback_pdf=False):
        """Override of `account`: an invoice sent in *portal link* mode gets no
        PDF now; it is made on its first download
        (``account.move._isp_make_pdf_on_download``)."""
        rendered = {
            invoice: invoice_data
            for invoice, invoice_data in invoices_data.items()
            if not invoice_data.get("isp_link")
        }
        for invoice_data in invoices_data.values():
            if invoice_data.get("isp_link"):
                # what Odoo returns for an invoice without PDF: none here
                invoice_data["proforma_pdf_attachment"] = self.env["ir.attachment"]
        if rendered:
            super()._generate_invoice_documents(
                rendered, allow_fallback_pdf=allow_fallback_pdf
            )

    @api.model
    def _hook_if_success(self, moves_data):
        """Override of `account`: Odoo marks an invoice sent when its PDF is
        made; one sent in *portal link* mode is sent once its e-mail is (in
        one write for the batch, without the journal items' sync and balance
        check of ``account.move.write``: the flag changes neither)."""
        res = super()._hook_if_success(moves_data)
        linked = [move for move, data in moves_data.items() if data.get("isp_link")]
        if linked:
            self.env["account.move"].union(*linked).with_context(
                skip_invoice_sync=True, check_move_validity=False
            ).is_move_sent = True
        return res
