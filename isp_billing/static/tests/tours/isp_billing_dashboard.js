/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("isp_billing_dashboard", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the ISP app",
            trigger: ".o_app[data-menu-xmlid='isp_billing.isp_billing_menu_root']",
            run: "click",
        },
        {
            content: "The app opens on the dashboard, with its subscriber tiles",
            trigger: ".o_isp_dashboard .o_isp_dashboard_tile_active .o_isp_dashboard_tile_value:contains('4')",
        },
        {
            content: "The overdue invoices tile shows their count and amount",
            trigger: ".o_isp_dashboard_tile_overdue .o_isp_dashboard_tile_amount",
        },
        {
            content: "The billing exceptions tile",
            trigger: ".o_isp_dashboard_tile_billing_exceptions .o_isp_dashboard_tile_value:contains('1')",
        },
        {
            content: "Click the suspended subscribers",
            trigger: ".o_isp_dashboard_tile_suspended:contains('1')",
            run: "click",
        },
        {
            content: "The list of the suspended subscription",
            trigger: ".o_list_view .o_data_row:contains('Dashboard customer 0')",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`the list has ${rows.length} rows, the tile said 1`);
                }
            },
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The dashboard again, with its collections tiles",
            trigger: ".o_isp_dashboard .o_isp_dashboard_section_collections .o_isp_dashboard_tile_dso",
        },
        {
            content: "Choose November 2026, the month of the suspension",
            trigger: ".o_isp_dashboard .o_isp_dashboard_period",
            run() {
                const input = document.querySelector(".o_isp_dashboard_period");
                input.value = "2026-11";
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Click the month's suspensions",
            trigger: ".o_isp_dashboard_tile_suspensions .o_isp_dashboard_tile_value:contains('1')",
            run: "click",
        },
        {
            content: "The list of the suspension events: the one of 2 November",
            trigger: ".o_list_view .o_data_row:contains('Dashboard customer 0')",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`the list has ${rows.length} rows, the tile said 1`);
                }
                if (!rows[0].textContent.includes("Suspension")) {
                    throw new Error(`not a suspension event: ${rows[0].textContent}`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("isp_billing_dashboard_phone", {
    steps: () => [
        {
            content: "On a phone, the tiles stack two per row, nothing overflows",
            trigger: ".o_isp_dashboard .o_isp_dashboard_tile_active .o_isp_dashboard_tile_value:contains('4')",
            run() {
                const tile = document.querySelector(".o_isp_dashboard_tile_active");
                const width = window.innerWidth;
                if (tile.getBoundingClientRect().width > width * 0.55) {
                    throw new Error(`a tile is ${tile.getBoundingClientRect().width}px wide on a ${width}px screen`);
                }
                const page = document.querySelector(".o_isp_dashboard .o_content");
                if (page.scrollWidth > page.clientWidth) {
                    throw new Error("the dashboard scrolls sideways on a phone");
                }
            },
        },
        {
            content: "Click the suspended subscribers",
            trigger: ".o_isp_dashboard_tile_suspended .o_isp_dashboard_tile_value:contains('1')",
            run: "click",
        },
        {
            content: "The suspended subscription",
            trigger: ".o_list_view .o_data_row, .o_kanban_view .o_kanban_record:not(.o_kanban_ghost)",
            run() {
                const rows = document.querySelectorAll(
                    ".o_list_view .o_data_row, .o_kanban_view .o_kanban_record:not(.o_kanban_ghost)"
                );
                if (rows.length !== 1) {
                    throw new Error(`the list has ${rows.length} records, the tile said 1`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("isp_billing_dashboard_chart", {
    steps: () => [
        {
            content: "A manager sees the MRR chart above the tiles",
            trigger: ".o_isp_dashboard .o_isp_dashboard_chart canvas",
            run() {
                const canvas = document.querySelector(".o_isp_dashboard_chart canvas");
                if (!window.Chart || !Chart.getChart(canvas)) {
                    throw new Error("no chart drawn on the canvas");
                }
            },
        },
        {
            content: "Click the last month's point of the MRR line",
            trigger: ".o_isp_dashboard .o_isp_dashboard_chart canvas",
            run() {
                const canvas = document.querySelector(".o_isp_dashboard_chart canvas");
                const chart = Chart.getChart(canvas);
                const line = chart.data.datasets.findIndex((d) => d.type === "line");
                const points = chart.getDatasetMeta(line).data;
                // where the point ends up (it may still be animated)
                const point = points[points.length - 1].getProps(["x", "y"], true);
                const rect = canvas.getBoundingClientRect();
                canvas.dispatchEvent(
                    new MouseEvent("click", {
                        clientX: rect.left + point.x,
                        clientY: rect.top + point.y,
                        bubbles: true,
                    })
                );
            },
        },
        {
            content: "It opens that month's MRR report rows, built on the click",
            trigger: ".o_breadcrumb:contains('MRR at end')",
        },
        {
            content: "the 5 subscriptions of the MRR tile",
            trigger: ".o_list_view .o_data_row",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 5) {
                    throw new Error(`the point's list has ${rows.length} rows, the MRR 5`);
                }
            },
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "and the MRR tile",
            trigger: ".o_isp_dashboard_tile_mrr .o_isp_dashboard_tile_value",
            run: "click",
        },
        {
            content: "which opens the MRR report rows",
            trigger: ".o_list_view .o_data_row",
        },
    ],
});
