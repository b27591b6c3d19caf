# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.4.0: the usage alert e-mail template, still as an earlier version
shipped it, is brought up to the XML (its description names the *Near the
data cap* share) and to its Swahili; one the ISP changed is left alone
(``isp_billing/tools/shipped_templates.py``)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.isp_billing.tools.shipped_templates import update_shipped_templates

FILES = ["data/mail_template_data.xml"]

# tests/shipped_template_digests.py isp_radius data/mail_template_data.xml
SHIPPED = {
    "mail_template_usage_alert": {
        "body_html": {"6f73dd77492ace4d"},
        "description": {"e07b8d145ed20b79", "b9b14cfe39142f0e"},
        "email_from": {"0b5ff4c3892e12aa"},
        "lang": {"9360624cee46e714"},
        "name": {"1e878d00f6b7125d"},
        "partner_to": {"aadf1d2b0708507e"},
        "subject": {"a5c4b5e3e7f6e74f"},
    }
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    update_shipped_templates(env, "isp_radius", FILES, SHIPPED)
