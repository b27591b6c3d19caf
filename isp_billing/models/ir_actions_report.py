# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import OrderedDict

import lxml.html

from odoo import models

from ..tools import wkhtmltopdf

# Classes of the report layout's letterhead blocks, as Odoo's _prepare_html
# finds them, and what they become once moved into the document's body.
LAYOUT_BLOCKS = (("header", "o_isp_inline_header"), ("footer", "o_isp_inline_footer"))


def _classes(node):
    return (node.get("class") or "").split()


def inline_letterhead(html):
    """The report's HTML with each layout header moved to the top of the
    document (``div.article``) that follows it and each footer to the bottom
    of the one before it, renamed so that Odoo no longer cuts them out for
    ``--header-html``/``--footer-html``. ``html`` is what
    ``_render_qweb_html`` returns; a document without article is unchanged."""
    root = lxml.html.fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
    moved = False
    for block, inline_class in LAYOUT_BLOCKS:
        for node in root.xpath(
            f"//div[contains(concat(' ', @class, ' '), ' {block} ')]"
        ):
            siblings = (
                node.itersiblings()
                if block == "header"
                else node.itersiblings(preceding=True)
            )
            article = next((s for s in siblings if "article" in _classes(s)), None)
            if article is None:
                continue
            node.set(
                "class",
                " ".join(inline_class if c == block else c for c in _classes(node)),
            )
            if block == "header":
                article.insert(0, node)
            else:
                article.append(node)
            moved = True
    if not moved:
        return html
    return lxml.html.tostring(root, encoding="utf-8")


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _prepare_html(self, html, report_model=False):
        """Override of `base`: an unpatched-Qt wkhtmltopdf ignores
        ``--header-html``/``--footer-html``, so the layout's letterhead would be
        lost; there it is put into the document's own body instead (at the top
        of its first page and the end of its last)."""
        if html and not wkhtmltopdf.batch_capable():
            html = inline_letterhead(html)
        return super()._prepare_html(html, report_model=report_model)

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """Override of `base`: on a wkhtmltopdf built against an unpatched Qt
        (Debian's), which refuses several input documents, render each record
        in its own call; a patched build keeps Odoo's batch."""
        if (
            not res_ids
            or len(res_ids) < 2
            or len(res_ids) != len(set(res_ids))
            or wkhtmltopdf.batch_capable()
        ):
            return super()._render_qweb_pdf_prepare_streams(
                report_ref, data, res_ids=res_ids
            )
        streams = OrderedDict()
        for res_id in res_ids:
            streams.update(
                super()._render_qweb_pdf_prepare_streams(
                    report_ref, dict(data or {}), res_ids=[res_id]
                )
            )
        return streams
