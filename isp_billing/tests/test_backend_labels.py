# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Staff screens' labels (issue #14): one case style (sentence case) for the
field labels and selection values the add-ons define, exclusive end dates
say "(excluded)", and the subscriptions' filter is "Due for billing"."""

import re

from lxml import etree

from odoo.tests import TransactionCase, tagged

ADDONS = {"isp_billing", "isp_radius", "isp_mpesa", "isp_sale"}


def _capitalised_inner_word(label):
    """The first word after the first one that starts with a capital and is
    not all capitals (an acronym such as ISP, RADIUS, M-PESA, GB), if any."""
    for word in re.findall(r"[\w'’-]+", label)[1:]:
        if word[0].isupper() and not word.isupper():
            return word
    return None


@tagged("post_install", "-at_install")
class TestBackendLabels(TransactionCase):
    # Names, not words: they keep their capitals inside a sentence.
    PROPER = {"Odoo", "Africa's", "Talking", "Daraja", "FreeRADIUS", "MikroTik"}
    PROPER |= {"CoA", "Mbps", "IPv4", "PartyB", "Safaricom", "Cisco", "Disconnect"}
    PROPER |= {"Lipa", "Buy", "Goods", "Kenyan", "Paybill", "Go-Live", "URLs", "Odoo's"}

    def test_labels_in_sentence_case(self):
        wrong = []
        for name in self.env.registry:
            model = self.env[name]
            for fname, field in model._fields.items():
                # Odoo's own columns (create_uid, display_name...) are not ours
                if field.automatic or getattr(field, "_module", None) not in ADDONS:
                    continue
                labels = [(fname, field.string or "")]
                origin = field._base_fields[0] if field._base_fields else field
                if (
                    field.type == "selection"
                    and isinstance(field.selection, list)
                    and getattr(origin, "_module", None) in ADDONS
                    # Odoo's providers, to which isp_mpesa adds M-PESA
                    and f"{name}.{fname}" != "payment.provider.code"
                ):
                    labels += [(f"{fname}={k}", label) for k, label in field.selection]
                for where, label in labels:
                    word = _capitalised_inner_word(label)
                    if word and word not in self.PROPER:
                        wrong.append(f"{name}.{where}: {label!r}")
        self.assertEqual(wrong, [])

    def test_exclusive_end_dates_say_excluded(self):
        self.assertEqual(
            self.env["isp.subscription"]._fields["billed_until"].string,
            "Billed until (excluded)",
        )
        for model, fname in (
            ("isp.subscription", "date_end"),
            ("account.move.line", "isp_period_end"),
        ):
            self.assertEqual(
                self.env[model]._fields[fname].string, "Service until (excluded)"
            )
        self.assertEqual(
            self.env["isp.subscription.period"]._fields["date_end"].string,
            "Until (excluded)",
        )

    def test_due_filter_is_due_for_billing(self):
        arch = self.env["isp.subscription"].get_views([(False, "search")])["views"][
            "search"
        ]["arch"]
        [due] = etree.fromstring(arch).xpath("//filter[@name='due']")
        self.assertEqual(due.get("string"), "Due for billing")
