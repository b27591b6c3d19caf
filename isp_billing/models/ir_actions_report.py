# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import OrderedDict

import lxml.html

from odoo import api, models

from ..tools import wkhtmltopdf

# Classes of the report layout's letterhead blocks, as Odoo's _prepare_html
# finds them, and what they become once moved into the document's body.
LAYOUT_BLOCKS = (("header", "o_isp_inline_header"), ("footer", "o_isp_inline_footer"))
# Switches an unpatched-Qt wkhtmltopdf ignores, saying so on stderr (which Odoo
# logs as a warning on every rendering), and how many values each takes.
UNPATCHED_IGNORED_SWITCHES = {
    "--header-spacing": 1,
    "--footer-spacing": 1,
    "--header-line": 0,
    "--footer-line": 0,
}


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
        of its first page and the end of its last), and no header or footer
        document is given to the binary, which would only warn that it
        ignores them."""
        if not html or wkhtmltopdf.batch_capable():
            return super()._prepare_html(html, report_model=report_model)
        bodies, res_ids, __, __, args = super()._prepare_html(
            inline_letterhead(html), report_model=report_model
        )
        return bodies, res_ids, None, None, args

    @api.model
    def _build_wkhtmltopdf_args(
        self,
        paperformat_id,
        landscape,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        """Override of `base`: without the header/footer switches an
        unpatched-Qt wkhtmltopdf ignores (``UNPATCHED_IGNORED_SWITCHES``)."""
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        if wkhtmltopdf.batch_capable():
            return args
        kept, skip = [], 0
        for arg in args:
            if skip:
                skip -= 1
            elif arg in UNPATCHED_IGNORED_SWITCHES:
                skip = UNPATCHED_IGNORED_SWITCHES[arg]
            else:
                kept.append(arg)
        return kept

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
