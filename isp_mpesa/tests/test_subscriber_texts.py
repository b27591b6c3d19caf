# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The paybill instructions the subscriber reads (issue #14): "M-PESA Paybill
<shortcode>, account <account number>" from the company's M-PESA provider on
the portal page (HTTP), the invoice PDF, the invoice and reminder e-mails and
the SMS, in English and in Swahili; none without a paybill to pay."""

from datetime import timedelta

from lxml import html

from odoo import fields
from odoo.tests import tagged

from odoo.addons.isp_billing.tests.page_texts import english_left, texts_of

from .common import SANDBOX_SHORTCODE, IspMpesaCommon


@tagged("post_install", "-at_install")
class TestPaybillTexts(IspMpesaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_portal_user("wanjiru")
        cls.plan_taxed = cls._isp_plan(
            "10 Mbps Home (taxed)", 2999.0, taxes=cls.excise | cls.vat
        )
        today = fields.Date.context_today(
            cls.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        cls.start = today - timedelta(days=10)

    def _running(self):
        sub = self._active_subscription(self.plan_taxed, self.start, anchor=self.start)
        invoice = self._bill(sub, self.start)
        # 2,999.00 + excise 449.85 + VAT 16 % of 3,448.85 (551.82) = 4,000.67
        self.assertMoveAmounts(invoice, 2999.0, 1001.67, 4000.67)
        return sub, invoice

    def _sms(self, xmlid, invoice):
        template = self.env.ref(f"isp_billing.sms_template_isp_dunning_{xmlid}")
        # as the ladder renders SMS: in the customer's language
        body = template._render_field(
            "body", invoice.ids, set_lang=invoice.partner_id.lang or "en_US"
        )
        return body[invoice.id].replace("\xa0", " ")

    def _mail_text(self, xmlid, invoice):
        template = self.env.ref(f"isp_billing.mail_template_isp_{xmlid}")
        body = template._render_field("body_html", invoice.ids, compute_lang=True)
        return " ".join(html.fromstring(body[invoice.id]).text_content().split())

    def _pdf_html(self, invoice):
        markup = self.env["ir.actions.report"]._render_qweb_html(
            "account.account_invoices", invoice.ids
        )[0]
        return markup.decode() if isinstance(markup, bytes) else markup

    def test_paybill_everywhere(self):
        sub, invoice = self._running()
        paybill = f"M-PESA Paybill {SANDBOX_SHORTCODE}, account {sub.account_number}"
        self.assertEqual(sub._isp_payment_instructions(), [paybill])
        self.assertEqual(invoice._isp_payment_instructions(), [paybill])

        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertEqual(texts_of(page, "o_isp_pay_instruction"), [paybill])
        self.assertEqual(
            texts_of(page, "o_isp_pay_instructions"),
            [f"Other ways to pay {paybill}"],
        )

        pdf = " ".join(html.fromstring(self._pdf_html(invoice)).text_content().split())
        self.assertIn(f"How to pay {paybill}", pdf)

        self.assertIn(
            f"To pay from your phone: {paybill}", self._mail_text("invoice", invoice)
        )
        for xmlid in ("dunning_reminder", "dunning_overdue"):
            self.assertIn(
                f"To pay from your phone: {paybill}", self._mail_text(xmlid, invoice)
            )
        self.assertEqual(
            self._sms("due", invoice),
            f"Kenya ISP Ltd: 4,000.67 KSh due today (invoice {invoice.name}). "
            f"{paybill}.",
        )
        for xmlid in ("reminder", "due", "overdue", "suspended"):
            self.assertLessEqual(len(self._sms(xmlid, invoice)), 160, xmlid)

        # Paid: the PDF no longer says how to pay.
        self._pay(invoice)
        self.assertNotIn("How to pay", self._pdf_html(invoice))

    def _pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"journal_id": self.bank_journal.id})._create_payments()
        self.assertEqual(invoice.payment_state in ("paid", "in_payment"), True)

    def test_no_paybill_without_an_mpesa_provider(self):
        sub, invoice = self._running()
        self.provider.state = "disabled"
        self.assertEqual(sub._isp_payment_instructions(), [])
        self.assertEqual(
            self._sms("due", invoice),
            f"Kenya ISP Ltd: 4,000.67 KSh due today (invoice {invoice.name}). "
            f"Account {sub.account_number}.",
        )
        self.assertNotIn("How to pay", self._pdf_html(invoice))
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertNotIn("o_isp_pay_instructions", page)

    def _till(self):
        self.provider.write(
            {"mpesa_shortcode_type": "till", "mpesa_till_number": "5123456"}
        )

    def test_till_buy_goods_everywhere(self):
        """A till (Buy Goods): the till number, no account number (a Buy
        Goods payment carries none)."""
        self._till()
        sub, invoice = self._running()
        till = "M-PESA Buy Goods, till 5123456"
        self.assertEqual(sub._isp_payment_instructions(), [till])
        self.assertEqual(invoice._isp_payment_instructions(), [till])
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertEqual(texts_of(page, "o_isp_pay_instruction"), [till])
        pdf = " ".join(html.fromstring(self._pdf_html(invoice)).text_content().split())
        self.assertIn(f"How to pay {till}", pdf)
        for xmlid in ("invoice", "dunning_reminder", "dunning_overdue"):
            self.assertIn(
                f"To pay from your phone: {till}", self._mail_text(xmlid, invoice)
            )
        self.assertEqual(
            self._sms("due", invoice),
            f"Kenya ISP Ltd: 4,000.67 KSh due today (invoice {invoice.name}). {till}.",
        )
        for xmlid in ("reminder", "due", "overdue", "suspended"):
            self.assertNotIn(sub.account_number, self._sms(xmlid, invoice), xmlid)
            self.assertLessEqual(len(self._sms(xmlid, invoice)), 160, xmlid)

    def test_till_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(
            ["isp_billing", "isp_radius", "isp_mpesa"], ["sw"]
        )
        self.customer.lang = "sw"
        self._till()
        sub, invoice = self._running()
        till = "M-PESA Buy Goods, till namba 5123456"
        self.assertEqual(
            sub.with_context(lang="sw")._isp_payment_instructions(), [till]
        )
        self.assertEqual(
            self._sms("due", invoice),
            f"Kenya ISP Ltd: 4,000.67 KSh inadaiwa leo (ankara {invoice.name}). "
            f"{till}.",
        )
        for xmlid in ("reminder", "due", "overdue", "suspended"):
            self.assertLessEqual(len(self._sms(xmlid, invoice)), 160, xmlid)

    def test_swahili_page_mails_and_sms(self):
        """The customer reads Swahili: the portal page, the e-mails, the PDF
        and the SMS have no English sentence of the add-ons left."""
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(
            ["isp_billing", "isp_radius", "isp_mpesa"], ["sw"]
        )
        self.customer.lang = "sw"
        self.portal_user.lang = "sw"
        sub, invoice = self._running()
        paybill = f"M-PESA Paybill {SANDBOX_SHORTCODE}, akaunti {sub.account_number}"
        self.assertEqual(
            sub.with_context(lang="sw")._isp_payment_instructions(), [paybill]
        )
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertEqual(
            texts_of(page, "o_isp_pay_instructions"),
            [f"Njia nyingine za kulipa {paybill}"],
        )
        self.assertEqual(english_left(page, "//main"), [])
        plan_page = self.url_open(f"/my/subscriptions/{sub.id}/plan").text
        self.assertEqual(english_left(plan_page, "//main"), [])
        for xmlid in ("invoice", "dunning_reminder", "dunning_overdue"):
            template = self.env.ref(f"isp_billing.mail_template_isp_{xmlid}")
            body = template._render_field("body_html", invoice.ids, compute_lang=True)[
                invoice.id
            ]
            self.assertEqual(english_left(body, "//*"), [], xmlid)
            self.assertIn(paybill, body)
        self.assertEqual(
            self._sms("due", invoice),
            f"Kenya ISP Ltd: 4,000.67 KSh inadaiwa leo (ankara {invoice.name}). "
            f"{paybill}.",
        )
        for xmlid in ("reminder", "due", "overdue", "suspended"):
            sms = self._sms(xmlid, invoice)
            self.assertLessEqual(len(sms), 160, xmlid)
            self.assertEqual(english_left(f"<p>{sms}</p>", "//*"), [], xmlid)
        pdf = self.env["ir.actions.report"].with_context(lang="sw")
        markup = pdf._render_qweb_html("account.account_invoices", invoice.ids)[0]
        self.assertIn("Jinsi ya kulipa", markup.decode())
        self.assertIn(paybill, markup.decode())
