# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount


class IspPortalInvoice(PortalAccount):
    @http.route()
    def portal_my_invoice_detail(
        self, invoice_id, access_token=None, report_type=None, download=False, **kw
    ):
        """Override of `account`: in *portal link* mode the invoice's PDF,
        viewed as well as downloaded, is its one PDF, made on the first
        request (``account.move._isp_make_pdf_on_download``) after Odoo's
        access check (the invoice's own customer, or its access token)."""
        if report_type == "pdf" and not download:
            try:
                invoice_sudo = self._document_check_access(
                    "account.move", invoice_id, access_token
                )
            except (AccessError, MissingError):
                return request.redirect("/my")
            if invoice_sudo._isp_pdf_on_download() or (
                invoice_sudo.state == "posted"
                and invoice_sudo.company_id.isp_invoice_sending == "link"
                and invoice_sudo.isp_subscription_ids
                and invoice_sudo.invoice_pdf_report_id
            ):
                document = invoice_sudo._get_invoice_legal_documents("pdf")
                if document:
                    headers = self._get_http_headers(
                        invoice_sudo, report_type, document["content"], download
                    )
                    return request.make_response(
                        document["content"], list(headers.items())
                    )
        return super().portal_my_invoice_detail(
            invoice_id,
            access_token=access_token,
            report_type=report_type,
            download=download,
            **kw,
        )
