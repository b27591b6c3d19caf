# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bring the mail and SMS templates an add-on ships up to its XML in an
existing database, on upgrade, unless the ISP changed them.

The templates are loaded ``noupdate``, so that the ISP may edit them: Odoo
never rewrites them after the install. An add-on's migration calls
:func:`update_shipped_templates` with the digests of every value each field
of each template had in the versions the add-on shipped
(``tests/shipped_template_digests.py`` prints them from git history). A
template whose every such field, read in English, is one of those values is
rewritten from the XML, and its other languages are loaded again from the
add-on's ``i18n`` files; any other template is the ISP's and is left as it
is.
"""

import hashlib
import logging
import re

from lxml import etree

from odoo.tools import file_path
from odoo.tools.convert import xml_import

_logger = logging.getLogger(__name__)

TEMPLATE_MODELS = ("mail.template", "sms.template")
_VOID = r"<(br|hr|img|input|meta|link|col|wbr)\b([^<>]*?)\s*/?>"


def digest(value):
    """A short digest of a field's text, normalised so that the XML's value
    and what the database stores of it (through Odoo's HTML sanitizer) give
    the same: whitespace runs folded, the sanitizer's ``data-o-mail-quote*``
    attributes dropped, empty and void elements written short (``<t .../>``,
    ``<br/>``)."""
    text = " ".join(str(value or "").split())
    text = re.sub(r'\s+data-o-mail-quote[\w-]*="[^"]*"', "", text)
    text = re.sub(r"<(\w+)((?:\s[^<>]*?)?)\s*></\1>", r"<\1\2/>", text)
    text = re.sub(
        r"<(br|hr|img|input|meta|link|col|wbr)\b([^<>]*?)\s*/?>", r"<\1\2/>", text
    )
    text = re.sub(r"\s*/>", "/>", text)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def text_fields(node):
    """``{field: value}`` of the fields a ``<record>`` sets from its text
    (not ``ref``, ``eval`` nor ``search``), the HTML ones serialised as
    Odoo's XML loader does."""
    values = {}
    for field in node.iterchildren("field"):
        if field.get("ref") or field.get("eval") or field.get("search"):
            continue
        if field.get("type") == "html":
            value = "".join(
                etree.tostring(child, method="html", encoding="unicode")
                for child in field
            )
        else:
            value = field.text or ""
        values[field.get("name")] = value
    return values


def template_nodes(module, filename):
    """The ``<record>`` nodes of mail and SMS templates of a data file."""
    tree = etree.parse(file_path(f"{module}/{filename}"))
    return [
        node
        for node in tree.iterfind(".//record")
        if node.get("model") in TEMPLATE_MODELS and node.get("id")
    ]


def update_shipped_templates(env, module, filenames, shipped):
    """Rewrite from ``module``'s data files the templates still as shipped.

    :param filenames: the data files, relative to the add-on
    :param shipped: ``{record id: {field: set of digests}}``, each value
        each field had in a shipped version (the empty text where a version
        did not set the field)
    :return: the rewritten templates
    """
    updated = []
    for filename in filenames:
        for node in template_nodes(module, filename):
            rec_id = node.get("id")
            known = shipped.get(rec_id)
            record = env.ref(f"{module}.{rec_id}", raise_if_not_found=False)
            if not known or not record:
                continue
            english = record.with_context(lang="en_US")
            if any(digest(english[name]) not in known[name] for name in known):
                _logger.info(
                    "%s.%s: changed in this database, left as it is", module, rec_id
                )
                continue
            new = text_fields(node)
            if all(digest(english[name]) == digest(new.get(name)) for name in known):
                continue
            importer = xml_import(
                env, module, {}, mode="init", noupdate=True, xml_filename=filename
            )
            importer._tag_record(node)
            _drop_translations(record, new)
            updated.append(record)
            _logger.info("%s.%s: brought up to the shipped text", module, rec_id)
    if updated:
        langs = [code for code, __ in env["res.lang"].get_installed()]
        env["ir.module.module"]._load_module_terms([module], langs, overwrite=False)
    return updated


def _drop_translations(record, values):
    """Forget the other languages of the translated fields just rewritten,
    so that the add-on's translations of the new text fill them."""
    record.flush_recordset()
    for name in values:
        field = record._fields.get(name)
        if not field or not field.translate or not field.store:
            continue
        record.env.cr.execute(
            f'UPDATE "{record._table}" '  # noqa: S608 - table and column are the model's
            f"SET \"{name}\" = jsonb_build_object('en_US', \"{name}\"->'en_US') "
            f'WHERE id = %s AND "{name}" IS NOT NULL',
            [record.id],
        )
    record.invalidate_recordset()
