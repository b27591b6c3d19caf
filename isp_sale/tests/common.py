# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command

from odoo.addons.isp_billing.tests.common import IspBillingCommon


class IspSaleCommon(IspBillingCommon):
    """The ISP company of ``isp_billing``'s tests selling through Sales: a
    fibre plan with the Kenyan excise and VAT, a rented router (a recurring
    add-on, cheaper on the ISP's pricelist), an installation fee that makes
    an installation task (``sale_project``), a lead with its service
    address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref(
            "sales_team.group_sale_manager"
        ) + cls.env.ref("project.group_project_manager")
        cls.company.write({"isp_sale_anchor": "month_start", "isp_sale_welcome": True})
        cls.plan_fibre = cls._isp_plan(
            "Fibre 30 Mbps", 3000.0, down=30, up=15, taxes=cls.excise + cls.vat
        )
        cls.router.isp_recurring_addon = True
        cls.static_ip.isp_recurring_addon = True
        cls.installations = cls.env["project.project"].create(
            {"name": "Installations", "company_id": cls.company.id}
        )
        cls.install_fee.with_company(cls.company).write(
            {
                "service_tracking": "task_global_project",
                "project_id": cls.installations.id,
            }
        )
        cls.pricelist = cls.env["product.pricelist"].create(
            {
                "name": "ISP KES",
                "currency_id": cls.kes.id,
                "company_id": cls.company.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": cls.router.id,
                            "compute_price": "fixed",
                            "fixed_price": 250.0,
                        }
                    )
                ],
            }
        )
        cls.customer.with_company(
            cls.company
        ).property_product_pricelist = cls.pricelist

    @classmethod
    def _order(cls, products, partner=None, **vals):
        """A quotation of ``products`` (product or ``(product, line vals)``)
        in the ISP company, on the ISP pricelist."""
        lines = []
        for item in products:
            product, line_vals = item if isinstance(item, tuple) else (item, {})
            lines.append(Command.create({"product_id": product.id, **line_vals}))
        return cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "company_id": cls.company.id,
                "pricelist_id": cls.pricelist.id,
                "order_line": lines,
                **vals,
            }
        )

    def _subscriptions(self, order):
        return (
            self.env["isp.subscription"]
            .with_context(active_test=False)
            .search([("sale_order_id", "=", order.id)], order="id")
        )
