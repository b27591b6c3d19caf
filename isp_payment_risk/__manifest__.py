# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "ISP Payment Risk",
    "summary": "Predict which invoices will be paid late, and why, from the "
    "ISP's own payment history",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "ISP Billing Suite contributors",
    "website": "https://github.com/isp-billing-suite/isp-billing",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": [],
    "depends": ["isp_billing"],
    # requirements.txt of this add-on (and the repository's) pins them.
    "external_dependencies": {"python": ["scikit-learn", "numpy", "threadpoolctl"]},
    "data": [
        "security/ir.model.access.csv",
        "security/isp_payment_risk_security.xml",
        "data/ir_cron_data.xml",
        "views/isp_payment_risk_model_views.xml",
        "views/account_move_views.xml",
        "views/isp_subscription_views.xml",
        "views/isp_dunning_step_views.xml",
        "views/res_config_settings_views.xml",
        # menus last: they reference the actions above
        "views/isp_payment_risk_menus.xml",
    ],
    "installable": True,
}
