# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, models

# cr.cache key of the e-mail bodies rendered ahead for one call of the
# sending job in portal link mode: {(move id, template id, lang): body}
PRERENDERED_BODIES = "isp_account_move_send_bodies"


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

    @api.model
    def _isp_prerender_mail_bodies(self, moves):
        """Render the e-mail bodies of ``moves`` ahead, one rendering per
        template and language with the template compiled once
        (``isp_qweb_compile_once``, as the dunning ladder's e-mails), for
        ``_get_default_mail_body``; Odoo renders and compiles it per invoice.
        Until ``_isp_forget_mail_bodies``."""
        groups = defaultdict(list)
        for move in moves:
            template = self._get_default_mail_template_id(move)
            if template:
                groups[template].append(move.id)
        bodies = {}
        for template, ids in groups.items():
            by_lang = defaultdict(list)
            for move_id, lang in template._render_lang(ids).items():
                by_lang[lang].append(move_id)
            for lang, lang_ids in by_lang.items():
                rendered = template.with_context(
                    lang=lang, isp_qweb_compile_once=True
                )._render_field("body_html", lang_ids, options={"post_process": True})
                for move_id in lang_ids:
                    bodies[move_id, template.id, lang] = rendered[move_id]
        self.env.cr.cache[PRERENDERED_BODIES] = bodies

    @api.model
    def _isp_forget_mail_bodies(self):
        self.env.cr.cache.pop(PRERENDERED_BODIES, None)

    @api.model
    def _get_default_mail_body(self, move, mail_template, mail_lang):
        """Override of `account`: the body rendered ahead, if it was
        (``_isp_prerender_mail_bodies``)."""
        bodies = self.env.cr.cache.get(PRERENDERED_BODIES) or {}
        key = (move.id, mail_template.id, mail_lang)
        if key in bodies:
            return bodies[key]
        return super()._get_default_mail_body(move, mail_template, mail_lang)

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
        made; one sent in *portal link* mode is sent once its e-mail is."""
        res = super()._hook_if_success(moves_data)
        linked = [move for move, data in moves_data.items() if data.get("isp_link")]
        if linked:
            self.env["account.move"].union(*linked).is_move_sent = True
        return res
