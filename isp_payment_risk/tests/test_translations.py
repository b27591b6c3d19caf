# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Swahili catalogue of isp_payment_risk against Odoo's own term export,
as isp_billing's TestSwahiliCatalogues does for the other add-ons."""

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

ADDON = "isp_payment_risk"


@tagged("post_install", "-at_install")
class TestSwahiliCatalogue(TransactionCase):
    def test_every_exported_term_is_translated_and_none_is_stale(self):
        exported = {
            source
            for module, __, __, __, source, __, __ in TranslationModuleReader(
                self.env.cr, modules=[ADDON]
            )
            if module == ADDON and source
        }
        for name in ("sw.po", f"{ADDON}.pot"):
            catalogue = polib.pofile(file_path(f"{ADDON}/i18n/{name}"))
            listed = {entry.msgid for entry in catalogue if not entry.obsolete}
            unattributed = [
                entry.msgid
                for entry in catalogue
                if not entry.obsolete
                and f"module: {ADDON}" not in (entry.comment or "").splitlines()
            ]
            with self.subTest(catalogue=name):
                self.assertEqual(sorted(exported - listed), [], "missing")
                self.assertEqual(sorted(listed - exported), [], "stale")
                self.assertEqual(unattributed, [], "without their module line")
        translated = {
            entry.msgid
            for entry in polib.pofile(file_path(f"{ADDON}/i18n/sw.po"))
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
        }
        self.assertEqual(sorted(exported - translated), [], "not translated")
