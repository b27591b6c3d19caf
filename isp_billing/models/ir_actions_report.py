# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import OrderedDict

from odoo import models

from ..tools import wkhtmltopdf


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """Override of `base`: on a wkhtmltopdf built against an unpatched Qt
        (Debian's), which refuses several input documents, render each record
        in its own call; a patched build keeps Odoo's batch."""
        if (
            not res_ids
            or len(res_ids) < 2
            or len(res_ids) != len(set(res_ids))
            or wkhtmltopdf.batch_capable()
        ):
            return super()._render_qweb_pdf_prepare_streams(
                report_ref, data, res_ids=res_ids
            )
        streams = OrderedDict()
        for res_id in res_ids:
            streams.update(
                super()._render_qweb_pdf_prepare_streams(
                    report_ref, dict(data or {}), res_ids=[res_id]
                )
            )
        return streams
