# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the subscriber reads (issue #14): the price and the next bill taxes
included on the portal page (HTTP), and the customer's one balance, not the
invoice's residual, in the invoice and reminder e-mails and the ladder's SMS.
Without a payment add-on's instructions the SMS quote the account number."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from lxml import html

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from .common import IspBillingCommon
from .page_texts import texts_of


@tagged("post_install", "-at_install")
class TestSubscriberTexts(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._create_portal_user("wanjiru")
        cls.plan_taxed = cls._isp_plan(
            "10 Mbps Home (taxed)", 2999.0, taxes=cls.excise | cls.vat
        )
        cls.today = fields.Date.context_today(
            cls.env["isp.subscription"].with_context(tz="Africa/Nairobi")
        )
        cls.start = cls.today - timedelta(days=10)

    def _running(self):
        """Active on the taxed plan since 10 days ago, anchored on its first
        day, the first month billed."""
        sub = self._active_subscription(self.plan_taxed, self.start, anchor=self.start)
        invoice = self._bill(sub, self.start)
        # By hand: excise 15 % of 2,999.00 = 449.85; VAT 16 % of
        # 2,999.00 + 449.85 = 3,448.85 is 551.816, rounded 551.82;
        # total 2,999.00 + 449.85 + 551.82 = 4,000.67.
        self.assertMoveAmounts(invoice, 2999.0, 1001.67, 4000.67)
        return sub, invoice

    def _credit_note(self, amount):
        move = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today,
                    "currency_id": self.kes.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goodwill credit",
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                                "account_id": self.income_account.id,
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def test_portal_price_and_next_bill_taxes_included(self):
        sub, __ = self._running()
        self.assertEqual(sub._isp_recurring_total_incl(), 4000.67)
        next_day = self.start + relativedelta(months=1)
        self.assertEqual(sub._isp_next_bill(), (next_day, 4000.67))
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertEqual(
            texts_of(page, "o_isp_price"),
            [f"4,000.67 KSh / {self.plan_taxed.isp_period_label} taxes included"],
        )
        self.assertEqual(
            texts_of(page, "o_isp_next_bill"),
            [f"4,000.67 KSh on {next_day.strftime('%m/%d/%Y')} taxes included"],
        )
        self.assertNotIn("before taxes", page)
        # No payment add-on gives instructions for this company.
        self.assertEqual(sub._isp_payment_instructions(), [])
        self.assertNotIn("o_isp_pay_instructions", page)

    def test_no_next_bill_once_it_ends(self):
        sub, __ = self._running()
        sub.date_end = self.start + relativedelta(months=1)
        self.assertIsNone(sub._isp_next_bill())
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open(f"/my/subscriptions/{sub.id}").text
        self.assertNotIn("o_isp_next_bill", page)

    def test_list_shows_the_next_bill_date_as_the_page(self):
        """The subscriptions list gives the next bill's date by the page's
        rule: none for a subscription ending before its next period (its next
        invoice date is still set)."""
        sub, __ = self._running()
        next_day = self.start + relativedelta(months=1)
        ending, __ = self._running()
        ending.date_end = next_day
        self.assertTrue(ending.next_invoice_date)
        self.assertIsNone(ending._isp_next_bill())
        self.authenticate("wanjiru", "wanjiru")
        page = self.url_open("/my/subscriptions").text
        cards = {
            card.get("href").split("?")[0]: " ".join(card.text_content().split())
            for card in html.fromstring(page).find_class("o_isp_subscription_item")
        }
        shown = {
            record: "Next bill" in cards[f"/my/subscriptions/{record.id}"]
            for record in (sub, ending)
        }
        self.assertEqual(shown, {sub: True, ending: False})
        self.assertIn(
            f"Next bill {next_day.strftime('%m/%d/%Y')}",
            cards[f"/my/subscriptions/{sub.id}"],
        )

    def test_emails_and_sms_show_the_balance(self):
        """By hand: the invoice of 4,000.67 less a credit note of 1,000.50
        not allocated to it: the customer owes 3,000.17, while the invoice's
        own residual stays 4,000.67."""
        sub, invoice = self._running()
        self._credit_note(1000.50)
        self.assertEqual(invoice.amount_residual, 4000.67)
        self.assertEqual(invoice._isp_balance(), 3000.17)
        due_text = invoice.invoice_date_due.strftime("%m/%d/%Y")
        account = sub.account_number
        name = invoice.name

        def sms(xmlid):
            template = self.env.ref(f"isp_billing.sms_template_isp_dunning_{xmlid}")
            body = template._render_field("body", invoice.ids, compute_lang=True)
            return body[invoice.id].replace("\xa0", " ")

        self.assertEqual(
            sms("reminder"),
            f"Kenya ISP Ltd: invoice {name} due {due_text}. "
            f"Balance 3,000.17 KSh. Account {account}.",
        )
        self.assertEqual(
            sms("due"),
            f"Kenya ISP Ltd: 3,000.17 KSh due today (invoice {name}). "
            f"Account {account}.",
        )
        self.assertEqual(
            sms("overdue"),
            f"Kenya ISP Ltd: invoice {name} is overdue, balance 3,000.17 KSh. "
            f"Pay now to stay connected. Account {account}.",
        )
        self.assertEqual(
            sms("suspended"),
            f"Kenya ISP Ltd: service suspended, 3,000.17 KSh unpaid (invoice "
            f"{name}). It comes back when you pay. Account {account}.",
        )

        def body(xmlid):
            template = self.env.ref(f"isp_billing.mail_template_isp_{xmlid}")
            rendered = template._render_field(
                "body_html", invoice.ids, compute_lang=True
            )[invoice.id]
            return " ".join(html.fromstring(rendered).text_content().split())

        text = body("invoice")
        self.assertIn("Invoice total 4,000.67 KSh", text)
        self.assertIn("Balance due on your account 3,000.17 KSh", text)
        self.assertNotIn("To pay from your phone", text)
        for xmlid in ("dunning_reminder", "dunning_overdue"):
            text = body(xmlid)
            self.assertIn("Balance due on your account: 3,000.17 KSh.", text)
            self.assertIn("4,000.67 KSh", text)  # the invoice's own amount

    def test_credit_on_the_account(self):
        """By hand: 4,000.67 invoiced, 5,000.00 credited: 999.33 in credit."""
        __, invoice = self._running()
        self._credit_note(5000.0)
        template = self.env.ref("isp_billing.mail_template_isp_invoice")
        rendered = template._render_field("body_html", invoice.ids)[invoice.id]
        text = " ".join(html.fromstring(rendered).text_content().split())
        self.assertIn("Credit on your account 999.33 KSh", text)
        self.assertNotIn("Balance due", text)
