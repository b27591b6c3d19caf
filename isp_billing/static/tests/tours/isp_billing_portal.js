/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function openPlans(planName) {
    return [
        {
            content: "Open the plan change",
            trigger: ".o_isp_plan_card a.o_isp_change_plan",
            run: "click",
        },
        {
            content: `Choose ${planName}`,
            trigger: `.o_isp_plan_option:contains('${planName}') a.o_isp_choose_plan`,
            run: "click",
        },
    ];
}

tours.add("isp_billing_portal_pay", {
    steps: () => [
        {
            content: "The subscription is listed",
            trigger: ".o_isp_subscription_item:contains('Fibre 10')",
            run: "click",
        },
        {
            content: "Plan, speed, status and next bill are shown",
            trigger: ".o_isp_plan_card:contains('Fibre 10'):contains('10/10 Mbps')",
        },
        {
            content: "The subscription is active",
            trigger: ".o_isp_status .o_isp_state:contains('Active')",
        },
        {
            content: "The amount due is the unpaid invoice",
            trigger: ".o_isp_amount_due:contains('2,999.00')",
        },
        {
            content: "The statement has the invoice and the balance",
            trigger: ".o_isp_statement .o_isp_balance:contains('2,999.00')",
        },
        {
            content: "Pay now",
            trigger: "a.o_isp_pay_now",
            run: "click",
        },
        {
            content: "The balance's payment page, with Odoo's payment form",
            trigger: "#o_payment_summary_amount:contains('2,999.00')",
            run() {
                const url = new URL(window.location.href);
                if (!/^\/my\/subscriptions\/\d+\/pay$/.test(url.pathname)) {
                    throw new Error(`not the balance's payment page: ${url}`);
                }
            },
        },
    ],
});

tours.add("isp_billing_portal_upgrade", {
    steps: () => [
        ...openPlans("Fibre 50"),
        {
            content: "It is an upgrade, from today",
            trigger: ".o_isp_plan_preview:contains('Upgrade to'):contains('Starts today')",
        },
        {
            content: "Credit of the unused 20 of 30 days of Fibre 10: 2,999 × 20/30",
            trigger:
                ".o_isp_preview_line:contains('Credit for unused days of Fibre 10')" +
                " .o_isp_preview_amount:contains('1,999.33')",
        },
        {
            content: "Fibre 50 for the same 20 days: 9,999 × 20/30",
            trigger:
                ".o_isp_preview_line:contains('Fibre 50:')" +
                " .o_isp_preview_amount:contains('6,666.00')",
        },
        {
            content: "To pay now",
            trigger: ".o_isp_preview_net:contains('4,666.67')",
        },
        {
            content: "Confirm",
            trigger: "button.o_isp_confirm_plan",
            run: "click",
        },
        {
            content: "Done",
            trigger: ".o_isp_message:contains('Your plan is now Fibre 50')",
        },
        {
            content: "The plan shows",
            trigger: ".o_isp_plan_name:contains('Fibre 50')",
        },
        {
            content: "The adjustment invoice is due",
            trigger: ".o_isp_amount_due:contains('4,666.67')",
        },
        {
            content: "and is on the statement",
            trigger: ".o_isp_statement_invoice .o_isp_statement_amount:contains('4,666.67')",
        },
    ],
});

tours.add("isp_billing_portal_plan_family", {
    steps: () => [
        {
            content: "Open the plan change",
            trigger: ".o_isp_plan_card a.o_isp_change_plan",
            run: "click",
        },
        {
            content: "The current plan, taxes included: 2,999 + 449.85 + 551.82",
            trigger: ".o_isp_plan_current:contains('Home 10'):contains('4,000.67')",
        },
        {
            content: "Only the home family is offered",
            trigger: ".o_isp_plan_page:not(:has(.o_isp_plan_option:contains('Office 100')))",
        },
        {
            content: "Home 20 GB: its speed, its cap, its price with taxes (1,500 + 225 + 276)",
            trigger:
                ".o_isp_plan_option:contains('Home 20 GB')" +
                ":has(.o_isp_plan_option_speed:contains('20/10 Mbps'))" +
                ":has(.o_isp_plan_option_data:contains('20 GB of data per period'))" +
                ":has(.o_isp_plan_option_price:contains('2,001.00'))",
        },
        {
            content: "Home 50: unlimited, 9,999 + 1,499.85 + 1,839.82 with taxes",
            trigger:
                ".o_isp_plan_option:contains('Home 50')" +
                ":has(.o_isp_plan_option_speed:contains('50/25 Mbps'))" +
                ":has(.o_isp_plan_option_data:contains('Unlimited data'))" +
                ":has(.o_isp_plan_option_price:contains('13,338.67'))",
        },
        {
            content: "Choose Home 50",
            trigger: ".o_isp_plan_option:contains('Home 50') a.o_isp_choose_plan",
            run: "click",
        },
        {
            content: "An upgrade from today; 4,666.67 before taxes",
            trigger:
                ".o_isp_plan_preview:contains('Upgrade to'):contains('Starts today')" +
                " .o_isp_preview_net:contains('4,666.67')",
        },
        {
            content: "To pay now, taxes included",
            trigger: ".o_isp_preview_total:contains('6,225.33')",
        },
        {
            content: "Then the full price with taxes",
            trigger: ".o_isp_preview_then:contains('13,338.67')",
        },
        {
            content: "Confirm",
            trigger: "button.o_isp_confirm_plan",
            run: "click",
        },
        {
            content: "Done",
            trigger: ".o_isp_message:contains('Your plan is now Home 50')",
        },
    ],
});

tours.add("isp_billing_portal_downgrade", {
    steps: () => [
        ...openPlans("Fibre 5"),
        {
            content: "It is a downgrade at the end of the paid period",
            trigger:
                ".o_isp_plan_preview:contains('Downgrade to')" +
                " .o_isp_preview_when:contains('when the period you paid for ends')",
        },
        {
            content: "Confirm",
            trigger: "button.o_isp_confirm_plan",
            run: "click",
        },
        {
            content: "Scheduled",
            trigger: ".o_isp_message:contains('Your plan changes to Fibre 5')",
        },
        {
            content: "Still on Fibre 10 until then",
            trigger: ".o_isp_plan_name:contains('Fibre 10')",
        },
        {
            content: "The scheduled change shows",
            trigger: ".o_isp_pending_plan:contains('Fibre 5')",
        },
        {
            content: "Nothing due",
            trigger: ".o_isp_amount_due:contains('0.00')",
        },
    ],
});

tours.add("isp_billing_portal_promise", {
    steps: () => [
        {
            content: "Suspended for non-payment",
            trigger: ".o_isp_status .o_isp_state:contains('Suspended')",
        },
        {
            content: "Promise to pay",
            trigger: "button.o_isp_promise",
            run: "click",
        },
        {
            content: "The confirmation states the last day of service",
            trigger: ".o_isp_promise_modal.show .o_isp_promise_date",
            run() {
                const date = this.anchor.textContent.trim();
                if (!date) {
                    throw new Error("the confirmation states no date");
                }
                sessionStorage.setItem("isp_promise_date", date);
            },
        },
        {
            content: "Cancel: nothing is promised",
            trigger: ".o_isp_promise_modal.show button[data-bs-dismiss='modal']:contains('Cancel')",
            run: "click",
        },
        {
            content: "The confirmation is closed, the button still there",
            trigger: ".o_isp_balance_card:not(:has(.o_isp_promise_modal.show)) button.o_isp_promise",
            run: "click",
        },
        {
            content: "Confirm the promise",
            trigger: ".o_isp_promise_modal.show button.o_isp_promise_confirm",
            run: "click",
        },
        {
            content: "Service extended until the day the confirmation stated",
            trigger: ".o_isp_message:contains('your service is extended until')",
            run() {
                const date = sessionStorage.getItem("isp_promise_date");
                if (!this.anchor.textContent.includes(date)) {
                    throw new Error(`"${this.anchor.textContent}" does not say ${date}`);
                }
            },
        },
        {
            content: "Active again",
            trigger: ".o_isp_status .o_isp_state:contains('Active')",
        },
        {
            content: "The promise shows, with the same day",
            trigger: ".o_isp_promise_running",
            run() {
                const date = sessionStorage.getItem("isp_promise_date");
                if (!this.anchor.textContent.includes(date)) {
                    throw new Error(`"${this.anchor.textContent}" does not say ${date}`);
                }
            },
        },
        {
            content: "A second promise is not offered, and the page says why",
            trigger:
                ".o_isp_promise_unavailable:contains('A promise was already made this billing period')",
        },
        {
            content: "No promise button",
            trigger: ".o_isp_balance_card:not(:has(button.o_isp_promise))",
        },
    ],
});

tours.add("isp_billing_portal_autopay", {
    steps: () => [
        {
            content: "Auto-pay is offered with the saved card",
            trigger: ".o_isp_autopay_card select[name='token_id']",
        },
        {
            content: "Turn it on",
            trigger: "button.o_isp_autopay_enable",
            run: "click",
        },
        {
            content: "It is on",
            trigger: ".o_isp_message:contains('Auto-pay is on')",
        },
        {
            content: "and says which method pays",
            trigger: ".o_isp_autopay_on:contains('4242')",
        },
        {
            content: "Turn it off",
            trigger: "button.o_isp_autopay_disable",
            run: "click",
        },
        {
            content: "It is off",
            trigger: ".o_isp_message:contains('Auto-pay is off')",
        },
        {
            content: "and can be turned on again",
            trigger: "button.o_isp_autopay_enable",
        },
    ],
});
