# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "ISP M-PESA",
    "summary": "M-PESA (Daraja) payments for ISP subscribers: STK push from the "
    "portal and the backend, paybill matching by account number, exactly once",
    "description": " ",  # non-empty: the README is Markdown, not for docutils
    "version": "18.0.1.1.0",
    "category": "Accounting/Payment Providers",
    "author": "ISP Billing Suite contributors",
    "website": "https://github.com/isp-billing-suite/isp-billing",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["isp_billing", "payment", "account_payment", "phone_validation"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/isp_mpesa_security.xml",
        "views/payment_mpesa_templates.xml",
        "data/payment_provider_data.xml",
        "data/ir_cron_data.xml",
        "views/payment_provider_views.xml",
        "views/payment_transaction_views.xml",
        "views/isp_mpesa_payment_views.xml",
        "views/isp_mpesa_callback_views.xml",
        "views/account_move_views.xml",
        "views/isp_subscription_views.xml",
        "wizards/isp_mpesa_request_views.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "isp_mpesa/static/src/js/payment_form.js",
        ],
        "web.assets_tests": [
            "isp_mpesa/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
