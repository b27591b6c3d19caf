#!/usr/bin/env python3
# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Print, for a migration that brings shipped templates up to date
(``isp_billing/tools/shipped_templates.py``), the digests of every value each
field of each mail and SMS template of an add-on had in every commit of
git history that changed its data files, as a Python literal:

    tests/shipped_template_digests.py isp_billing data/mail_template_data.xml \
        data/isp_dunning_data.xml

A field a version did not set counts as the empty text.
"""

import importlib.util
import pprint
import subprocess
import sys
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]


def _tools():
    path = REPO / "isp_billing" / "tools" / "shipped_templates.py"
    spec = importlib.util.spec_from_file_location("shipped_templates", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def versions(path):
    """The text of ``path`` (relative to the repository) at every commit
    that changed it, oldest first."""
    commits = subprocess.run(
        ["git", "-C", str(REPO), "log", "--format=%H", "--reverse", "--", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for commit in commits:
        shown = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{commit}:{path}"],
            capture_output=True,
        )
        if shown.returncode == 0:
            yield shown.stdout


def digests(module, filenames):
    tools = _tools()
    seen = {}  # record id -> list of {field: value}
    for filename in filenames:
        for data in versions(f"{module}/{filename}"):
            root = etree.fromstring(data)
            for node in root.iterfind(".//record"):
                if node.get("model") in tools.TEMPLATE_MODELS and node.get("id"):
                    seen.setdefault(node.get("id"), []).append(tools.text_fields(node))
    result = {}
    for rec_id, shipped in seen.items():
        names = sorted({name for values in shipped for name in values})
        result[rec_id] = {
            name: {tools.digest(values.get(name, "")) for values in shipped}
            for name in names
        }
    return result


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pprint.pprint(digests(sys.argv[1], sys.argv[2:]), width=88)
