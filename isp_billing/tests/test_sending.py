# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import io
import subprocess
import uuid

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

from ..models.account_move_send import PREPARED_MAILS
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


@tagged("post_install", "-at_install")
class TestSendingLinkBatch(IspBillingCommon):
    """Portal link mode: the e-mails of one call of the sending job prepared
    together (``account.move.send._isp_prepare_link_mails``) are the ones
    Odoo's sending computes invoice by invoice, to the character; several
    workers (cron records) share the queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"isp_send_invoices": True, "isp_invoice_sending": "link"})
        cls.env["res.lang"]._activate_lang("sw")
        cls.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"])
        cls.customer_sw = cls.env["res.partner"].create(
            {
                "name": "Juma Omondi",
                "email": "juma@example.com",
                "lang": "sw",
                "country_id": cls.kenya.id,
            }
        )
        cls.Send = cls.env["account.move.send"]

    def _queued_invoices(self):
        """Four invoices queued in link mode: two of one customer, one in
        Swahili."""
        day = self.d("2026-11-01")
        subs = self._active_subscription(self.plan_home, day)
        subs |= self._active_subscription(self.plan_business, day)
        subs |= self._active_subscription(
            self.plan_business, day, partner=self.customer_2
        )
        subs |= self._active_subscription(self.plan_home, day, partner=self.customer_sw)
        moves = self._bill(subs, day)
        self.assertEqual(len(moves), 4)
        self.assertTrue(all(move.sending_data.get("isp_link") for move in moves))
        return moves

    def _odoo_mails(self, moves):
        """What Odoo's sending computes for the e-mail of each invoice."""
        mails = {}
        for move in moves:
            vals = self.Send._get_default_sending_settings(move, from_cron=True)
            template, lang = vals["mail_template"], vals["mail_lang"]
            mails[move.id] = {
                "lang": lang,
                "body": vals["mail_body"],
                "subject": vals["mail_subject"],
                "partner_ids": vals["mail_partner_ids"],
                "email_from": self.Send._get_mail_default_field_value_from_template(
                    template, lang, move, "email_from"
                ),
            }
        return mails

    def test_prepared_e_mails_are_odoo_s(self):
        moves = self._queued_invoices()
        # A recipient that no longer exists is left out, as Odoo does.
        gone = self.env["res.partner"].create({"name": "Gone", "email": "g@x.example"})
        gone_id = gone.id
        gone.unlink()
        template = self.env.ref("isp_billing.mail_template_isp_invoice")
        template.partner_to = (
            f"{{{{ object.partner_id.id }}}},{gone_id},{self.customer_2.id}"
        )
        odoo = self._odoo_mails(moves)
        self.Send._isp_prepare_link_mails(moves)
        try:
            prepared = self._odoo_mails(moves)
        finally:
            self.Send._isp_forget_link_mails()
        self.assertEqual(prepared, odoo)

        by_partner = {move.partner_id: odoo[move.id] for move in moves}
        self.assertEqual(by_partner[self.customer_sw]["lang"], "sw")
        for move in moves:
            self.assertEqual(
                odoo[move.id]["partner_ids"],
                list(dict.fromkeys([move.partner_id.id, self.customer_2.id])),
            )
            self.assertIn(move.name, odoo[move.id]["subject"])
        # The balance of each customer (the plans' prices include their
        # taxes): 2,999.00 + 9,999.00 = 12,998.00 for the customer of two.
        customer_moves = moves.filtered(lambda m: m.partner_id == self.customer)
        for move in customer_moves:
            self.assertIn("12,998.00", odoo[move.id]["body"])
        self.assertIn("9,999.00", by_partner[self.customer_2]["body"])
        self.assertIn("2,999.00", by_partner[self.customer_sw]["body"])

    def test_access_tokens_in_one_statement(self):
        moves = self._queued_invoices()
        kept = moves[0]._portal_ensure_token()
        self.assertFalse(any(moves[1:].mapped("access_token")))
        moves._isp_ensure_access_tokens()
        tokens = moves.mapped("access_token")
        self.assertEqual(tokens[0], kept, "an invoice's token is kept")
        self.assertEqual(len(set(tokens)), len(moves))
        for token in tokens:
            self.assertEqual(str(uuid.UUID(token, version=4)), token)

    def test_batch_e_mailed_each_with_its_link(self):
        moves = self._queued_invoices()
        self.env["account.move"].with_context(
            mail_notify_force_send=False
        )._cron_account_move_send()
        self.assertFalse(self.env.cr.cache.get(PREPARED_MAILS))
        for move in moves:
            self.assertTrue(move.is_move_sent)
            self.assertFalse(move.sending_data)
            message = move.message_ids.filtered(
                lambda m, move=move: (
                    m.message_type == "comment" and move.partner_id in m.partner_ids
                )
            )
            self.assertEqual(len(message), 1)
            self.assertIn(move.name, message.subject)
            mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
            self.assertEqual(len(mail), 1)
            self.assertIn(f"access_token={move.access_token}", mail.body_html)
            self.assertIn(move.isp_account_numbers, mail.body_html)

    def test_batch_written_and_searched_once(self):
        """Odoo's per-invoice writes (the queue reset, the access token) and
        per-e-mail author searches are made once for the batch; the result
        is Odoo's: nothing queued, the author found from the sender."""
        moves = self._queued_invoices()
        Move = type(self.env["account.move"])
        write, search_on_partner = Move.write, Move._mail_search_on_partner
        writes, searches = [], []

        def counting_write(records, vals):
            writes.append((records._name, tuple(records.ids), tuple(vals)))
            return write(records, vals)

        def counting_search_on_partner(records, emails, extra_domain=False):
            searches.append(tuple(emails))
            return search_on_partner(records, emails, extra_domain=extra_domain)

        self.patch(Move, "write", counting_write)
        self.patch(Move, "_mail_search_on_partner", counting_search_on_partner)
        self.env["account.move"].with_context(
            mail_notify_force_send=False
        )._cron_account_move_send()
        one_by_one = [
            (ids, fields)
            for model, ids, fields in writes
            if model == "account.move" and len(ids) == 1 and ids[0] in moves.ids
        ]
        self.assertEqual(one_by_one, [], "no write invoice by invoice")
        self.assertLessEqual(len(searches), 1, "the sender searched once")
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM account_move WHERE id = ANY(%s) "
            "AND (sending_data IS NOT NULL OR NOT is_move_sent)",
            [moves.ids],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertFalse(any(moves.mapped("is_being_sent")))
        messages = moves.message_ids.filtered(
            lambda m: m.message_type == "comment" and m.partner_ids <= moves.partner_id
        )
        self.assertEqual(len(messages), 4)
        template = self.env.ref("isp_billing.mail_template_isp_invoice")
        sender = template._render_field("email_from", moves[:1].ids)[moves[0].id]
        author = self.env["account.move"]._mail_find_partner_from_emails([sender])[0]
        self.assertEqual(messages.author_id, author)

    def test_second_worker_inactive_by_default(self):
        """The second worker runs Odoo's job, inactive until the ISP turns it
        on; queued invoices then trigger both workers."""
        first = self.env.ref("account.ir_cron_account_move_send")
        second = self.env.ref("isp_billing.ir_cron_account_move_send_2")
        self.assertFalse(second.active)
        self.assertEqual(second.model_id, first.model_id)
        self.assertEqual(second.code, first.code)
        Trigger = self.env["ir.cron.trigger"]
        workers = first | second

        def triggered(before):
            return (Trigger.search([]) - before).cron_id & workers

        before = Trigger.search([])
        self._queued_invoices()
        self.assertEqual(triggered(before), first, "the first worker only")
        second.active = True
        before = Trigger.search([])
        day = self.d("2026-11-01")
        sub = self._active_subscription(self.plan_home, day, partner=self.customer_2)
        self._bill(sub, day)
        self.assertEqual(triggered(before), workers)
