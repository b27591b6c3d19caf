# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import io
import subprocess

from odoo import Command
from odoo.exceptions import AccessError
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
        self.company.isp_invoice_sending = "pdf"
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
        if not wkhtmltopdf.batch_capable():
            # One document per wkhtmltopdf call: one invoice per transaction,
            # locked for one rendering only; the job calls itself again.
            self.assertEqual(moves.mapped("is_move_sent").count(True), 1)
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


@tagged("post_install", "-at_install")
class TestSendingLink(IspBillingCommon):
    """*Portal link* mode: e-mail now, PDF on first download (the real PDF and
    the portal over HTTP: tests/test_sending.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("sendlink")
        cls.company.write({"isp_send_invoices": True, "isp_invoice_sending": "link"})

    def _sent_link_invoice(self, partner=None):
        sub = self._active_subscription(
            self.plan_home, self.d("2026-11-01"), partner=partner or self.customer
        )
        move = self._bill(sub, self.d("2026-11-01"))
        self.assertEqual(move.sending_data.get("isp_link"), True)
        self.env["account.move"]._cron_account_move_send()
        return move

    def _pdf_attachments(self, move):
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", move.id),
                ("res_field", "=", "invoice_pdf_report_file"),
            ]
        )

    def test_new_company_sends_the_link(self):
        company = self.env["res.company"].create({"name": "New ISP"})
        self.assertEqual(company.isp_invoice_sending, "link")

    def test_link_mode_emails_without_rendering(self):
        move = self._sent_link_invoice()
        self.assertTrue(move.is_move_sent)
        self.assertFalse(move.sending_data)
        self.assertFalse(move.invoice_pdf_report_id)
        self.assertFalse(self._pdf_attachments(move))
        message = move.message_ids.filtered(
            lambda m: m.message_type == "comment" and self.customer in m.partner_ids
        )
        self.assertEqual(len(message), 1)
        self.assertFalse(message.attachment_ids)
        self.assertIn(move.isp_account_numbers, message.body)

    def test_print_makes_the_pdf_once(self):
        move = self._sent_link_invoice()
        action = move.with_user(self.invoicing_user).action_print_pdf()
        self.assertEqual(action["type"], "ir.actions.act_url")
        kept = self._pdf_attachments(move)
        self.assertEqual(len(kept), 1)
        self.assertEqual(move.invoice_pdf_report_id, kept)
        again = move.with_user(self.invoicing_user)._get_invoice_legal_documents("pdf")
        self.assertEqual(again["content"], kept.raw)
        move.with_user(self.invoicing_user).action_print_pdf()
        self.assertEqual(self._pdf_attachments(move), kept)

    def test_other_customer_makes_no_pdf(self):
        """The portal user of another customer can neither read the invoice
        nor have its PDF made."""
        move = self._sent_link_invoice(partner=self.customer_2)
        with self.assertRaises(AccessError):
            move.with_user(self.portal_user)._get_invoice_legal_documents("pdf")
        self.assertFalse(self._pdf_attachments(move))

    def test_pdf_mode_unchanged(self):
        """PDF mode: a download before the sending job gives Odoo's PROFORMA
        and keeps nothing, as without this add-on."""
        self.company.isp_invoice_sending = "pdf"
        sub = self._active_subscription(self.plan_home, self.d("2026-11-01"))
        move = self._bill(sub, self.d("2026-11-01"))
        self.assertNotIn("isp_link", move.sending_data)
        document = move._get_invoice_legal_documents("pdf", allow_fallback=True)
        self.assertIn("proforma", document["filename"])
        self.assertFalse(self._pdf_attachments(move))


@tagged("post_install", "-at_install")
class TestSendingLinkCompanies(IspBillingCommon):
    """The portal link sending job takes the invoices of the caller's
    companies only, as the ORM's search does (account.move's company rule):
    run by a user of one company (e.g. *Run manually* by an accountant), it
    neither locks nor sends another company's queued invoices; the
    superuser's job (the cron) takes every company's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.env = env(
            context={k: v for k, v in env.context.items() if k != "allowed_company_ids"}
        )
        cls.other = cls.setup_other_company(
            name="Coast ISP Ltd", currency_id=cls.kes.id, country_id=cls.kenya.id
        )["company"]
        cls.env = env
        cls._create_role_users("sendco")
        (cls.company | cls.other).write(
            {"isp_send_invoices": True, "isp_invoice_sending": "link"}
        )
        sub = cls._active_subscription(cls.plan_home, cls.d("2026-11-01"))
        cls.mine = cls.env["isp.billing.run"]._bill(sub, cls.d("2026-11-01"))
        other_env = cls.env(
            context=dict(cls.env.context, allowed_company_ids=cls.other.ids)
        )
        plan = (
            other_env["product.product"]
            .with_company(cls.other)
            .create(
                {
                    "name": "Coast 5 Mbps",
                    "type": "service",
                    "list_price": 1000.0,
                    "taxes_id": [Command.clear()],
                    "company_id": cls.other.id,
                    "isp_is_plan": True,
                    "isp_period_interval": 1,
                    "isp_period_unit": "month",
                    "isp_data_unlimited": True,
                }
            )
        )
        theirs = other_env["isp.subscription"].create(
            {
                "partner_id": cls.customer_2.id,
                "company_id": cls.other.id,
                "date_start": "2026-11-01",
                "line_ids": [Command.create({"product_id": plan.id})],
                "tz": "Africa/Nairobi",
            }
        )
        theirs.action_activate()
        cls.theirs = other_env["isp.billing.run"]._bill(theirs, cls.d("2026-11-01"))

    def test_one_company_user_sends_that_company_only(self):
        for move in self.mine | self.theirs:
            self.assertEqual(move.sending_data.get("isp_link"), True, move.company_id)
        # an accountant of the first company only
        Move = self.env["account.move"].with_user(self.invoicing_user)
        self.assertEqual(Move._isp_lock_link_sending(1000), self.mine)
        Move._cron_account_move_send()
        self.assertTrue(self.mine.is_move_sent)
        self.assertFalse(self.mine.sending_data)
        self.assertFalse(self.theirs.is_move_sent)
        self.assertEqual(self.theirs.sending_data.get("isp_link"), True)
        self.assertFalse(
            self.env["mail.message"]
            .search([("model", "=", "account.move"), ("res_id", "=", self.theirs.id)])
            .filtered(lambda m: self.customer_2 in m.partner_ids)
        )
        # the cron (superuser) takes the other company's too
        locked = self.env["account.move"].sudo()._isp_lock_link_sending(100000)
        self.assertIn(self.theirs, locked)
