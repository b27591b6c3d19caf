# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "ISP RADIUS",
    "summary": "FreeRADIUS provisioning, accounting import, usage billing, CoA",
    "version": "18.0.1.4.0",
    "category": "Accounting/Accounting",
    "author": "ISP Billing Suite contributors",
    "website": "https://github.com/isp-billing-suite/isp-billing",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "maintainers": [],
    "depends": ["isp_billing"],
    "external_dependencies": {"python": ["pyrad", "psycopg2"]},
    "data": [
        "security/ir.model.access.csv",
        "security/isp_radius_security.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/isp_radius_nas_views.xml",
        "views/isp_radius_usage_views.xml",
        "views/isp_radius_session_views.xml",
        "views/isp_radius_outbox_views.xml",
        "views/isp_subscription_views.xml",
        "views/product_template_views.xml",
        "views/res_config_settings_views.xml",
        "views/portal_templates.xml",
        "views/isp_radius_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "isp_radius/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
}
