# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.addons.payment import reset_payment_provider, setup_provider

from . import controllers, models, wizards
from .utils import install_callback_token_filter

# no callback token in Odoo's access log (see utils.CallbackTokenFilter)
install_callback_token_filter()


def post_init_hook(env):
    setup_provider(env, "mpesa")


def uninstall_hook(env):
    reset_payment_provider(env, "mpesa")
