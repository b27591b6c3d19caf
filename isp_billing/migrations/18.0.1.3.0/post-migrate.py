# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.3.0: the invoice and dunning e-mails and the dunning SMS state the
customer's balance and the payment instructions, and the dunning e-mails go
out in the customer's language. The templates are ``noupdate``: those still
as an earlier version shipped them are brought up to the XML (and their
Swahili), those the ISP changed are left alone
(``isp_billing/tools/shipped_templates.py``)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.isp_billing.tools.shipped_templates import update_shipped_templates

FILES = ["data/mail_template_data.xml", "data/isp_dunning_data.xml"]

# From tests/shipped_template_digests.py isp_billing \
#     data/mail_template_data.xml data/isp_dunning_data.xml
SHIPPED = {
    "mail_template_isp_dunning_overdue": {
        "body_html": {"a62a27f2f2045f05", "b5b9eb34463ab6b5"},
        "description": {"57fa66cbd89bce5b"},
        "email_from": {"da5f81889be55fc6"},
        "lang": {"9360624cee46e714", "e3b0c44298fc1c14"},
        "name": {"128b7d29fa485a55"},
        "partner_to": {"aadf1d2b0708507e"},
        "subject": {"d49e153936ccec0e"},
    },
    "mail_template_isp_dunning_reminder": {
        "body_html": {"559921f5d31b17cf", "b836f34fad220a01"},
        "description": {"354b65de0550b2b4"},
        "email_from": {"da5f81889be55fc6"},
        "lang": {"9360624cee46e714", "e3b0c44298fc1c14"},
        "name": {"e854e5bda51c1568"},
        "partner_to": {"aadf1d2b0708507e"},
        "subject": {"d9d3c90780d204a6"},
    },
    "mail_template_isp_invoice": {
        "body_html": {"96ffb2909964daf6", "10618f091f4b3dbb"},
        "description": {"c2849a3fc593ea54"},
        "email_from": {"f99d3a73f0d6d57a"},
        "lang": {"9360624cee46e714"},
        "name": {"e5efc47fa4123f05"},
        "partner_to": {"aadf1d2b0708507e"},
        "subject": {"b251a8cea78081ca"},
    },
    "sms_template_isp_dunning_due": {
        "body": {"1a829416519fb437", "372406977092abfc"},
        "name": {"07864259a38b0d24"},
    },
    "sms_template_isp_dunning_overdue": {
        "body": {"3e9c6098e7ef4092", "8792c23d93e9ec31"},
        "name": {"7d62bc3c4695fe4f"},
    },
    "sms_template_isp_dunning_reminder": {
        "body": {"4d2c5df203e1bc1a", "342be76e1eb17995"},
        "name": {"e854e5bda51c1568"},
    },
    "sms_template_isp_dunning_suspended": {
        "body": {"c2d7b8d14ab15b92", "fe108b8755ccef63"},
        "name": {"e71de7c27f76d50e"},
    },
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    update_shipped_templates(env, "isp_billing", FILES, SHIPPED)
