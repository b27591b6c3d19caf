# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


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
