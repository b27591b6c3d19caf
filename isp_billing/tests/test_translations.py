# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Swahili catalogues of the add-ons against Odoo's own term export
(the one ``odoo --i18n-export`` writes, issue #14): every term the add-ons
show, backend and portal alike (views, field labels, selection values, help,
server messages, templates, data), has a Swahili translation in its add-on's
``i18n/sw.po``, and the catalogue has no entry the export no longer makes
(a file the export cannot read, e.g. a NameError in its translated calls,
shows here as entries missing from the export)."""

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

ADDONS = ("isp_billing", "isp_radius", "isp_mpesa", "isp_sale")


@tagged("post_install", "-at_install")
class TestSwahiliCatalogues(TransactionCase):
    def test_every_exported_term_is_translated_and_none_is_stale(self):
        for addon in ADDONS:
            # One add-on at a time, as ``--i18n-export --modules=<addon>``:
            # a record with external ids of several of them (e.g. the model
            # res.company) is exported by the last one read only.
            exported = {
                source
                for module, __, __, __, source, __, __ in TranslationModuleReader(
                    self.env.cr, modules=[addon]
                )
                if module == addon and source
            }
            catalogue = polib.pofile(file_path(f"{addon}/i18n/sw.po"))
            translated = {
                entry.msgid
                for entry in catalogue
                if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
            }
            listed = {entry.msgid for entry in catalogue if not entry.obsolete}
            # Odoo's PO reader skips an entry without its "#. module:" line:
            # its term would stay English in the database.
            unattributed = [
                entry.msgid
                for entry in catalogue
                if not entry.obsolete
                and f"module: {addon}" not in (entry.comment or "").splitlines()
            ]
            with self.subTest(addon=addon):
                self.assertEqual(sorted(exported - translated), [], "not translated")
                self.assertEqual(sorted(listed - exported), [], "stale")
                self.assertEqual(unattributed, [], "without their module line")
