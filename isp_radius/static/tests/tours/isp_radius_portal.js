/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("isp_radius_portal_topup", {
    steps: () => [
        {
            content: "Used against the allowance",
            trigger: ".o_isp_radius_used:contains('4.25 GB'):contains('of 5 GB')",
        },
        {
            content: "The bar and the share used",
            trigger: ".o_isp_radius_percent:contains('85 % used')",
        },
        {
            content: "Days left in the period",
            trigger: ".o_isp_radius_days_left:contains('Days left:')",
        },
        {
            content: "The day's figure is written, not only drawn",
            trigger: ".o_isp_radius_day .o_isp_radius_day_gb:contains('4.25 GB')",
        },
        {
            content: "Near the cap: a top-up is offered, taxes included",
            trigger: ".o_isp_radius_topup_offer .o_isp_radius_topup_price:contains('400.20')",
        },
        {
            content: "Buy 2 GB",
            trigger: "button.o_isp_radius_topup",
            run: "click",
        },
        {
            content: "Confirm: an invoice is issued now",
            trigger: ".o_isp_radius_topup_modal.show button.o_isp_radius_topup_confirm",
            run: "click",
        },
        {
            content: "Added",
            trigger: ".o_isp_message:contains('2 GB added to this period')",
        },
        {
            content: "The allowance is 7 GB now",
            trigger: ".o_isp_radius_used:contains('of 7 GB')",
        },
        {
            content: "No more offer",
            trigger: ".o_isp_radius_usage:not(:has(.o_isp_radius_topup_offer))",
        },
        {
            content: "The invoice is on the statement",
            trigger: ".o_isp_statement_invoice .o_isp_statement_amount:contains('400.20')",
        },
    ],
});
