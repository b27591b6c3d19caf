# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import io
import subprocess

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

from ..tools import wkhtmltopdf
from .common import IspBillingCommon


def _pdf_text(raw):
    return "".join(page.extract_text() for page in PdfFileReader(io.BytesIO(raw)).pages)


@tagged("post_install", "-at_install")
class TestSending(IspBillingCommon):
    def test_invoices_sent_by_odoo_with_pdf_and_template(self):
        """Odoo renders reports as HTML inside tests; the real wkhtmltopdf PDF of an
        invoice is checked against the installed database in tests/test_demo.py."""
        self.company.isp_send_invoices = True
        subs = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        subs |= self._active_subscription(
            self.plan_business, self.d("2026-11-01"), partner=self.customer_2
        )
        moves = self._bill(subs, self.d("2026-11-01"))
        self.assertEqual(len(moves), 2)
        # Queued for Odoo's own sending job, not sent inside the billing run.
        self.assertTrue(all(moves.mapped("sending_data")))
        self.assertFalse(any(moves.mapped("is_move_sent")))
        self.env["account.move"]._cron_account_move_send()
        for move in moves:
            self.assertTrue(move.is_move_sent)
            self.assertFalse(move.sending_data)
            message = move.message_ids.filtered(
                lambda m, move=move: (
                    m.message_type == "comment" and move.partner_id in m.partner_ids
                )
            )[:1]
            self.assertTrue(message, "no email to the customer")
            self.assertIn(move.isp_account_numbers, message.body)
            self.assertIn(move.name, message.subject)
            pdf = message.attachment_ids.filtered(lambda a: a.name.endswith(".pdf"))
            self.assertEqual(len(pdf), 1)
            self.assertIn(move.name.replace("/", "_"), pdf.name)
            self.assertIn(
                move.isp_account_numbers.encode(), base64.b64decode(pdf.datas)
            )
            self.assertEqual(move.invoice_pdf_report_id.checksum, pdf.checksum)

    def test_sending_can_be_turned_off(self):
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        moves = self._bill(sub, self.d("2026-11-01"))
        self.assertFalse(moves.sending_data)

    def test_build_detected_from_the_real_binary(self):
        """This machine's wkhtmltopdf decides, not its version number: a patched
        build says so and renders several documents, Debian's does neither."""
        version = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"], capture_output=True, text=True
        ).stdout
        self.assertEqual(
            wkhtmltopdf.detect_batch_capable(), "with patched qt" in version.lower()
        )
        self.assertEqual(wkhtmltopdf.batch_capable(), wkhtmltopdf.batch_capable())
