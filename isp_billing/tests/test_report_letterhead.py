# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invoice letterhead on an unpatched-Qt wkhtmltopdf, which ignores
``--header-html``/``--footer-html``: it is moved into the document's body."""

from odoo.tests import tagged

from odoo.addons.base.models.ir_actions_report import (
    IrActionsReport as BaseIrActionsReport,
)

from ..models.ir_actions_report import inline_letterhead
from .common import IspBillingCommon


@tagged("post_install", "-at_install")
class TestReportLetterhead(IspBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.init_invoice("out_invoice", amounts=[1000.0], post=True)
        cls.invoice.company_id.name = "Karibu Fibre Letterhead Ltd"
        cls.report = cls.env["ir.actions.report"]._get_report(
            "account.account_invoices"
        )

    def _split(self, html):
        """Odoo's own split of the report into bodies, header and footer."""
        Report = self.env["ir.actions.report"]
        bodies, _res_ids, header, footer, _args = BaseIrActionsReport._prepare_html(
            Report, html, report_model="account.move"
        )
        return "".join(bodies), header, footer

    def test_letterhead_moved_into_the_body(self):
        html = self.report._render_qweb_html(
            "account.account_invoices", self.invoice.ids
        )[0]
        # Without the change the company's name and address only live in
        # the separate header/footer documents an unpatched build drops.
        body, header, footer = self._split(html)
        self.assertNotIn("Karibu Fibre Letterhead Ltd", body)
        self.assertIn("Karibu Fibre Letterhead Ltd", header + footer)

        body, header, footer = self._split(inline_letterhead(html))
        self.assertIn("Karibu Fibre Letterhead Ltd", body)
        self.assertIn("o_isp_inline_header", body)
        self.assertIn("o_isp_inline_footer", body)
        self.assertLess(
            body.index("o_isp_inline_header"), body.index(self.invoice.name)
        )
        self.assertGreater(
            body.index("o_isp_inline_footer"), body.index(self.invoice.name)
        )
        self.assertNotIn("Karibu Fibre Letterhead Ltd", header + footer)
        # Idempotent: nothing left to move the second time.
        self.assertEqual(
            inline_letterhead(inline_letterhead(html)), inline_letterhead(html)
        )

    def test_document_without_layout_unchanged(self):
        html = b"<html><body><main><p>no layout</p></main></body></html>"
        self.assertIs(inline_letterhead(html), html)
