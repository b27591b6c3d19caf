/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";
import tourUtils from "@sale/js/tours/tour_utils";

// Lead -> quotation -> confirmation -> installation task done -> subscription
// active with its first invoice, and the portal invitation on its chatter.
// The Python test (tests/test_sale_tour.py) checks the amounts.
registry.category("web_tour.tours").add("isp_sale_onboarding", {
    steps: () => [
        {
            content: "New quotation from the lead",
            trigger: ".o_form_view button[name='action_sale_quotations_new']",
            run: "click",
        },
        {
            content: "Create the customer from the lead",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "The quotation of the new customer",
            trigger: ".o_form_view .o_field_widget[name='partner_id'] input",
        },
        ...tourUtils.addProduct("Onboarding fibre 30 Mbps", 1),
        {
            content: "The plan at its price",
            trigger: ".o_data_row:nth-child(1) .o_field_cell[name=price_subtotal]:contains('3,000.00')",
        },
        ...tourUtils.clickSomewhereElse(),
        ...tourUtils.addProduct("Onboarding router", 2),
        {
            content: "The router at the pricelist's price",
            trigger: ".o_data_row:nth-child(2) .o_field_cell[name=price_subtotal]:contains('250.00')",
        },
        ...tourUtils.clickSomewhereElse(),
        ...tourUtils.addProduct("Onboarding installation", 3),
        {
            content: "The installation fee",
            trigger: ".o_data_row:nth-child(3) .o_field_cell[name=price_subtotal]:contains('5,000.00')",
        },
        ...tourUtils.clickSomewhereElse(),
        {
            content: "Confirm the quotation",
            trigger: "button[name=action_confirm]:enabled",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_field_widget[name=state] .o_arrow_button_current:contains('Sales Order')",
        },
        {
            content: "Its draft subscription",
            trigger: ".o_field_widget[name=isp_subscription_summary]:contains('(Draft)')",
        },
        {
            content: "Open the installation task",
            trigger: "button[name='action_view_task']",
            run: "click",
        },
        {
            content: "The task says which subscription it activates",
            trigger: ".o_isp_sale_task_subscription:contains('(Draft)')",
        },
        {
            content: "The technician activates: the line is installed",
            trigger: "button[name='action_isp_sale_activate']",
            run: "click",
        },
        {
            content: "The subscription is active",
            trigger: ".o_isp_sale_task_subscription:contains('(Active)')",
        },
        {
            content: "Back to the order",
            trigger: ".o_breadcrumb li.breadcrumb-item:last-child a",
            run: "click",
        },
        {
            content: "Open the subscription",
            trigger: "button[name='action_view_isp_subscriptions']",
            run: "click",
        },
        {
            content: "The subscription is active",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Active')",
        },
        {
            content: "Its chatter: the portal invitation",
            trigger: ".o-mail-Message:contains('Portal invitation sent')",
        },
        {
            content: "Open its first invoice",
            trigger: "button[name='action_view_invoices']",
            run: "click",
        },
        {
            content: "The first invoice, posted",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Posted')",
        },
    ],
});
