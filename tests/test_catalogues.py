"""Every translation catalogue of the add-ons is a well-formed gettext file.

Odoo's own reader (polib) is lenient: an entry that lost its ``msgstr`` in a
merge loads without a word and its term stays untranslated. GNU msgfmt, the
reference implementation, refuses such a file; the check here is msgfmt's
``--check`` (syntax, headers, and format strings that match their msgid).
"""

import shutil
import subprocess

import pytest

from harness import REPO_ROOT

CATALOGUES = sorted(REPO_ROOT.glob("isp_*/i18n/*.po*"))


def test_there_are_catalogues():
    assert {path.suffix for path in CATALOGUES} == {".po", ".pot"}


@pytest.mark.parametrize(
    "path", CATALOGUES, ids=lambda path: str(path.relative_to(REPO_ROOT))
)
def test_catalogue_is_well_formed(path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt not found: install Debian's gettext"
    result = subprocess.run(
        [msgfmt, "--check-format", "--check-domain", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
