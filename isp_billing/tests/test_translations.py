# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Swahili catalogues of the add-ons against Odoo's own term export
(the one ``odoo --i18n-export`` writes, issue #14): every term the add-ons
show, backend and portal alike (views, field labels, selection values, help,
server messages, templates, data), has a Swahili translation in its add-on's
``i18n/sw.po``, and the catalogue has no entry the export no longer makes
(a file the export cannot read, e.g. a NameError in its translated calls,
shows here as entries missing from the export).

One kind of term depends on the database's history, not on the add-ons: the
label and help of a field that a module the add-on does not depend on adds
to one of its models through a mixin (``rating``'s *Ratings* and
``calendar``'s *Next Activity Calendar Event*, installed for ``isp_sale``,
on ``mail.thread`` and ``mail.activity.mixin``). Odoo exports such a field
as the add-on's only when that module was loaded before the add-on's models
were last reflected: in a database built at once it is; in one where the
add-on was installed first and the other module later (an older test
database updated with ``-u``), the field belongs to the other module until
the add-on's next update. Those terms may be in the catalogue without being
exported; when exported, they need their Swahili like any other."""

import polib

from odoo.modules.module import get_manifest
from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

ADDONS = ("isp_billing", "isp_radius", "isp_mpesa", "isp_sale")


def upstream_modules(addon):
    """``addon`` and every module it depends on, directly or not."""
    modules, todo = set(), [addon]
    while todo:
        module = todo.pop()
        if module not in modules:
            modules.add(module)
            todo += get_manifest(module).get("depends", [])
    return modules


def borrowed_terms(env, addon):
    """The labels and help texts of the fields of ``addon``'s models that
    only modules outside its dependencies define (see the module's
    docstring): exported as ``addon``'s or not, by the database's history."""
    upstream = upstream_modules(addon)
    terms = set()
    for model in env.registry.values():
        if model._original_module != addon:
            continue
        for field in model._fields.values():
            if upstream.intersection(field._modules):
                continue  # loaded before the add-on, always
            if all(addon in upstream_modules(module) for module in field._modules):
                continue  # loaded after it, always (e.g. isp_sale's fields)
            terms.update(text for text in (field.string, field.help) if text)
    return terms


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
            borrowed = borrowed_terms(self.env, addon)
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
                self.assertEqual(sorted(listed - exported - borrowed), [], "stale")
                self.assertEqual(unattributed, [], "without their module line")
