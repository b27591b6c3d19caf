# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the installed wkhtmltopdf can do, asked once per process.

Debian's package is built against an unpatched Qt: it ignores
``--header-html``/``--footer-html`` and refuses more than one input document
("does not support more than one input document", exit code 1, which Odoo
accepts, then reads an empty PDF: ``EmptyFileError``). Odoo renders several
records in one call, so such a build needs one document per call."""

import logging
import os
import subprocess
import tempfile

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

_logger = logging.getLogger(__name__)

_PROBE_HTML = b"<html><body><h1>probe</h1></body></html>"
_batch_capable = None


def _probe_several_inputs(binary):
    """Render two tiny documents in one call: True when a PDF comes out."""
    with tempfile.TemporaryDirectory(prefix="isp_wkhtmltopdf_probe.") as tmp:
        paths = []
        for name in ("a.html", "b.html"):
            path = os.path.join(tmp, name)
            with open(path, "wb") as probe:
                probe.write(_PROBE_HTML)
            paths.append(path)
        out = os.path.join(tmp, "out.pdf")
        subprocess.run(  # noqa: S603 - our own fixed arguments
            [binary, "--quiet", *paths, out],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return os.path.exists(out) and os.path.getsize(out) > 0


def detect_batch_capable(binary=None):
    """Ask the binary (not cached): True for a patched-Qt build, which takes
    several input documents (and headers) in one call.

    ``--version`` of a patched build says "(with patched qt)"; without it the
    build is checked by rendering two documents in one call, so a build that
    does not say it but can (or says it and cannot) is not guessed wrong."""
    binary = binary or _get_wkhtmltopdf_bin()
    try:
        version = subprocess.run(  # noqa: S603 - our own fixed arguments
            [binary, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        says_patched = "with patched qt" in version.lower()
        can_batch = _probe_several_inputs(binary)
    except (OSError, subprocess.SubprocessError) as error:
        _logger.info(
            "wkhtmltopdf could not be probed (%s): one document per call", error
        )
        return False
    if says_patched != can_batch:
        _logger.warning(
            "wkhtmltopdf %r says patched qt: %s, renders several documents: %s",
            version.strip(),
            says_patched,
            can_batch,
        )
    _logger.info(
        "wkhtmltopdf %s: %s",
        version.strip(),
        "several documents per call" if can_batch else "one document per call",
    )
    return can_batch


def batch_capable():
    """``detect_batch_capable()`` of Odoo's binary, cached for the process."""
    global _batch_capable  # noqa: PLW0603 - the per-process cache
    if _batch_capable is None:
        _batch_capable = detect_batch_capable()
    return _batch_capable
