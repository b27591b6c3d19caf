# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: one spelling, "M-PESA". Odoo's payment method
``payment.payment_method_mpesa`` is ``noupdate`` in ``payment``, so the
rename in ``data/payment_provider_data.xml`` reaches only new databases: an
existing one still says Odoo's "M-Pesa". Renamed here when it still has
Odoo's name (in English); a name the ISP chose is left alone."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    method = env.ref("payment.payment_method_mpesa", raise_if_not_found=False)
    if method and method.with_context(lang="en_US").name == "M-Pesa":
        method.with_context(lang="en_US").name = "M-PESA"
