# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The 18.0.1.3.0 migration (isp_billing) and 18.0.1.4.0 (isp_radius): the
shipped mail and SMS templates are ``noupdate``; those still as an earlier
version shipped them are brought up to the XML, with their Swahili, on
upgrade; those the ISP changed are left alone (issue #14)."""

import importlib.util

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path

from odoo.addons.isp_billing.tools.shipped_templates import digest

# As isp_billing shipped them before 18.0.1.3.0 (commit 77be31e), by hand.
OLD_SMS_REMINDER = (
    "{{ object.company_id.name }}: invoice {{ object.name }}, "
    "{{ format_amount(object.amount_residual, object.currency_id) }}, "
    "due {{ format_date(object.invoice_date_due) }}. "
    "Account {{ object.isp_account_numbers or '' }}."
)
OLD_SMS_REMINDER_SW = (
    "{{ object.company_id.name }}: ankara {{ object.name }}, "
    "{{ format_amount(object.amount_residual, object.currency_id) }}, "
    "inadaiwa {{ format_date(object.invoice_date_due) }}. "
    "Akaunti {{ object.isp_account_numbers or '' }}."
)
OLD_MAIL_OVERDUE = """<div style="margin: 0px; padding: 0px; font-size: 14px; line-height: 1.5;">
    <p>Hello <t t-out="object.partner_id.name or ''">Wanjiku Kamau</t>,</p>
    <p>
        Your invoice <strong t-out="object.name or ''">INV/2026/00001</strong>
        of <strong t-out="format_amount(object.amount_residual, object.currency_id) or ''">KES 2,999.00</strong>
        was due on <strong t-out="format_date(object.invoice_date_due) or ''">05/31/2026</strong>
        and is still unpaid. Please pay now to avoid the suspension of your service.
    </p>
    <p style="margin: 16px 0px;">
        <a t-att-href="object.get_portal_url()" style="background-color: #875A7B; padding: 8px 16px; color: #ffffff; text-decoration: none; border-radius: 5px;">Pay now</a>
    </p>
    <p>If you already paid, thank you, and please ignore this message.</p>
    <p><t t-out="object.company_id.name or ''">YourCompany</t></p>
</div>"""  # noqa: E501


def run_migration(env, module, version):
    """Run ``module``'s post-migrate script of ``version`` on ``env``'s
    cursor, as Odoo's upgrade does."""
    path = file_path(f"{module}/migrations/{version}/post-migrate.py")
    spec = importlib.util.spec_from_file_location(f"{module}_{version}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.migrate(env.cr, version)
    env.invalidate_all()


@tagged("post_install", "-at_install")
class TestTemplateUpgrade(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sw")
        cls.env["ir.module.module"]._load_module_terms(
            ["isp_billing", "isp_radius"], ["sw"]
        )
        cls.sms = cls.env.ref("isp_billing.sms_template_isp_dunning_reminder")
        cls.overdue = cls.env.ref("isp_billing.mail_template_isp_dunning_overdue")
        cls.new_sms = cls.sms.with_context(lang="en_US").body
        cls.new_overdue = cls.overdue.with_context(lang="en_US").body_html

    def _migrate(self):
        run_migration(self.env, "isp_billing", "18.0.1.3.0")

    def _set_old(self):
        self.sms.with_context(lang="en_US").body = OLD_SMS_REMINDER
        self.sms.with_context(lang="sw").body = OLD_SMS_REMINDER_SW
        self.overdue.with_context(lang="en_US").write(
            {"body_html": OLD_MAIL_OVERDUE, "lang": False}
        )
        self.overdue.with_context(lang="sw").body_html = "<p>Habari (old)</p>"

    def test_old_shipped_templates_are_brought_up_to_date(self):
        self._set_old()
        self._migrate()
        self.assertEqual(
            self.sms.with_context(lang="en_US").body,
            "{{ object.company_id.name }}: invoice {{ object.name }} due "
            "{{ format_date(object.invoice_date_due) }}. Balance "
            "{{ format_amount(object._isp_balance(), object.currency_id) }}. "
            "{{ object._isp_sms_payment_text() }}.",
        )
        self.assertEqual(self.sms.with_context(lang="en_US").body, self.new_sms)
        # the Swahili of the new text, from isp_billing's sw.po
        self.assertEqual(
            self.sms.with_context(lang="sw").body,
            "{{ object.company_id.name }}: ankara {{ object.name }} inadaiwa "
            "{{ format_date(object.invoice_date_due) }}. Salio "
            "{{ format_amount(object._isp_balance(), object.currency_id) }}. "
            "{{ object._isp_sms_payment_text() }}.",
        )
        english = self.overdue.with_context(lang="en_US")
        self.assertEqual(digest(english.body_html), digest(self.new_overdue))
        self.assertIn("To pay from your phone:", english.body_html)
        self.assertEqual(english.lang, "{{ object.partner_id.lang }}")
        self.assertIn(
            "Kulipa kwa simu yako:", self.overdue.with_context(lang="sw").body_html
        )

    def test_templates_the_isp_changed_are_left_alone(self):
        self._set_old()
        custom = "{{ object.company_id.name }}: please pay {{ object.name }}."
        self.sms.with_context(lang="en_US").body = custom
        # an old body, but a subject of the ISP's: the ISP's template
        self.overdue.with_context(lang="en_US").subject = "Please pay {{ object.name }}"
        self._migrate()
        self.assertEqual(self.sms.with_context(lang="en_US").body, custom)
        self.assertEqual(self.sms.with_context(lang="sw").body, OLD_SMS_REMINDER_SW)
        english = self.overdue.with_context(lang="en_US")
        self.assertEqual(digest(english.body_html), digest(OLD_MAIL_OVERDUE))
        self.assertEqual(english.subject, "Please pay {{ object.name }}")
        self.assertFalse(english.lang)
