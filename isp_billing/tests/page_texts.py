# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Helpers of the tests of what the subscriber reads: the texts of a page's
elements, and what English of the add-ons' catalogues is left in a page or a
message rendered in Swahili."""

import re
from pathlib import Path

import polib
from lxml import html

REPO = Path(__file__).resolve().parents[2]
ADDONS = ("isp_billing", "isp_radius", "isp_mpesa")
# Words that are the same in both languages (names, units, M-PESA's terms).
SAME_WORDS = {"M-PESA", "Paybill", "Mbps", "GB", "MB", "OK"}


def texts_of(page, css_class):
    """The text of each element of ``page`` with the class ``css_class``,
    whitespace (no-break spaces included) collapsed."""
    tree = html.fromstring(page)
    return [
        " ".join(node.text_content().split()) for node in tree.find_class(css_class)
    ]


def english_terms():
    """The English sentences of the three add-ons' ``i18n/sw.po``: each
    msgid whose Swahili differs, split at its QWeb/inline placeholders and
    markup into the plain pieces a reader would see; pieces with a word in
    lower case (not codes such as INV/2026/00001), of two words or more or
    one word not in ``SAME_WORDS``."""
    terms = set()
    for addon in ADDONS:
        for entry in polib.pofile(str(REPO / addon / "i18n" / "sw.po")):
            if entry.obsolete or entry.msgstr == entry.msgid:
                continue
            # The placeholders of t-out/t-field elements are replaced when
            # rendered: sample data, not text.
            plain = re.sub(
                r"<(\w+)[^>]*\bt-(?:out|esc|field)=[^>]*>.*?</\1>",
                "\n",
                entry.msgid,
                flags=re.S,
            )
            plain = re.sub(r"\{\{.*?\}\}|<[^>]+>|%\(\w+\)s|%s", "\n", plain)
            for piece in plain.split("\n"):
                piece = " ".join(piece.split()).strip(" .,:;()·-/")
                if not piece or not re.search(r"[A-Za-z][a-z]", piece):
                    continue
                if " " not in piece and piece in SAME_WORDS:
                    continue
                terms.add(piece)
    return terms


def visible_texts(markup, root_xpath="//body"):
    """The text nodes of ``markup`` under ``root_xpath`` (scripts, styles and
    the translations' own placeholders excluded), whitespace collapsed."""
    tree = html.fromstring(markup)
    roots = tree.xpath(root_xpath) or [tree]
    texts = []
    for root in roots:
        for node in root.iter():
            if node.tag in ("script", "style") or not isinstance(node.tag, str):
                continue
            for text in (node.text, node.tail):
                text = " ".join((text or "").split())
                if text:
                    texts.append(text)
    return texts


def english_left(markup, root_xpath="//body"):
    """The English terms of the catalogues (:func:`english_terms`) found in
    the visible text of ``markup``: a whole text node equal to a term, or a
    term of three words or more inside one."""
    terms = english_terms()
    left = []
    for text in visible_texts(markup, root_xpath):
        stripped = text.strip(" .,:;()·-/")
        if stripped in terms:
            left.append(stripped)
            continue
        left += [
            term
            for term in terms
            if term.count(" ") >= 2 and re.search(rf"\b{re.escape(term)}\b", text)
        ]
    return sorted(set(left))
