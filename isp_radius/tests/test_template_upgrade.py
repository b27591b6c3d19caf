# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""isp_radius 18.0.1.4.0: the usage alert template still as an earlier
version shipped it is brought up to the XML on upgrade; one the ISP changed
is left alone (issue #14; the rule: isp_billing/tools/shipped_templates.py)."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.isp_billing.tests.test_template_upgrade import run_migration

# As isp_radius shipped it before 18.0.1.4.0 (commit 9081fe6), by hand.
OLD_DESCRIPTION = (
    "Sent when a subscriber reaches 80 % and 100 % of the plan's data allowance."
)


@tagged("post_install", "-at_install")
class TestUsageAlertUpgrade(TransactionCase):
    def setUp(self):
        super().setUp()
        self.alert = self.env.ref("isp_radius.mail_template_usage_alert").with_context(
            lang="en_US"
        )

    def test_old_shipped_alert_is_brought_up_to_date(self):
        self.alert.description = OLD_DESCRIPTION
        run_migration(self.env, "isp_radius", "18.0.1.4.0")
        self.assertEqual(
            self.alert.description,
            "Sent when a subscriber reaches the Near the data cap share (80 % by "
            "default) and 100 % of the period's data allowance.",
        )

    def test_alert_the_isp_changed_is_left_alone(self):
        self.alert.write(
            {
                "description": OLD_DESCRIPTION,
                "subject": "{{ object.company_id.name }}: data used",
            }
        )
        run_migration(self.env, "isp_radius", "18.0.1.4.0")
        self.assertEqual(self.alert.description, OLD_DESCRIPTION)
        self.assertEqual(self.alert.subject, "{{ object.company_id.name }}: data used")
