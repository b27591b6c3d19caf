# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One spelling, "M-PESA" (issue #14): Odoo's payment method is renamed so,
in English and Swahili (also on upgrade), and no other spelling is left in
the add-ons' catalogues (what the portal, e-mails, SMS and backend show)."""

import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path

from odoo.addons.isp_billing.tests.test_template_upgrade import run_migration

ADDONS = ("isp_billing", "isp_radius", "isp_mpesa")
# M-Pesa, Mpesa, MPESA, M Pesa... but not the identifiers (mpesa_phone) nor
# URLs and module names, which are in lower case.
OTHER_SPELLING = re.compile(r"\bM[\s-]?(?!PESA\b)[Pp][Ee][Ss][Aa]\b|\bMPESA\b")


@tagged("post_install", "-at_install")
class TestMpesaSpelling(TransactionCase):
    def test_payment_method_is_m_pesa(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_mpesa"], ["sw"])
        method = self.env.ref("payment.payment_method_mpesa")
        self.assertEqual(method.with_context(lang="en_US").name, "M-PESA")
        self.assertEqual(method.with_context(lang="sw").name, "M-PESA")

    def test_no_other_spelling_in_the_catalogues(self):
        found = []
        for addon in ADDONS:
            for entry in polib.pofile(file_path(f"{addon}/i18n/sw.po")):
                for text in (entry.msgid, entry.msgstr):
                    found += [f"{addon}: {m}" for m in OTHER_SPELLING.findall(text)]
        self.assertEqual(found, [])

    def test_upgrade_renames_odoos_spelling_only(self):
        """isp_mpesa 18.0.1.1.0: a database installed before the rename
        still has Odoo's "M-Pesa" (payment's record is noupdate)."""
        method = self.env.ref("payment.payment_method_mpesa").with_context(lang="en_US")
        method.name = "M-Pesa"
        run_migration(self.env, "isp_mpesa", "18.0.1.1.0")
        self.assertEqual(method.name, "M-PESA")
        method.name = "Lipa na M-PESA"
        run_migration(self.env, "isp_mpesa", "18.0.1.1.0")
        self.assertEqual(method.name, "Lipa na M-PESA")
