# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "ISP Sales",
    "summary": "Lead to quotation to installation to live subscriber: CRM and "
    "Sales onboarding for ISP Billing",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "author": "ISP Billing Suite contributors",
    "website": "https://github.com/isp-billing-suite/isp-billing",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "maintainers": [],
    # sale_crm: lead -> quotation; sale_project: installation tasks from
    # service products. Both are Odoo Community.
    "depends": ["isp_billing", "sale_crm", "sale_project"],
    "data": [
        "security/ir.model.access.csv",
        "security/isp_sale_security.xml",
        "data/mail_template_data.xml",
        "data/sms_template_data.xml",
        "views/product_template_views.xml",
        "views/sale_order_views.xml",
        "views/isp_subscription_views.xml",
        "views/project_task_views.xml",
        "views/res_partner_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "views/isp_coverage_area_views.xml",
    ],
    "demo": [
        "demo/isp_sale_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "isp_sale/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "auto_install": False,
}
