/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

// From the subscriber's subscriptions (isp_billing's portal): Pay now opens
// the payment page of the whole balance (invoices 4,000.67 + 8,001.34, minus
// a credit note of 1,029.37 and an unallocated payment of 500.00 =
// 10,472.64); pay it with M-PESA in one prompt.
registry.category("web_tour.tours").add("isp_mpesa_portal_subscription_pay", {
    steps: () => [
        {
            content: "Open the subscription",
            trigger: ".o_isp_subscription_item:contains('10 Mbps Home')",
            run: "click",
        },
        {
            content: "The amount due is the balance",
            trigger: ".o_isp_amount_due:contains('10,472.64')",
        },
        {
            content: "The statement closes on the same balance",
            trigger: ".o_isp_statement .o_isp_balance:contains('10,472.64')",
        },
        {
            content: "Pay now",
            trigger: "a.o_isp_pay_now",
            run: "click",
        },
        {
            content: "The payment page asks for the whole balance",
            trigger: "#o_payment_summary_amount:contains('10,472.64')",
        },
        {
            content: "Choose M-PESA",
            trigger: "input[name='o_payment_radio'][data-provider-code='mpesa']",
            run: "click",
        },
        {
            content: "Confirm the phone number",
            trigger: "input[name='mpesa_phone']",
            run: "edit 0712345678",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']",
            run: "click",
        },
        {
            content: "The status page asks to check the phone",
            trigger: "div[name='o_payment_status_alert']:contains('Check your phone')",
            timeout: 60000,
        },
        {
            content: "Back on the subscription: nothing left to pay",
            trigger: ".o_isp_balance_card:not(:has(a.o_isp_pay_now))",
            timeout: 60000,
        },
    ],
});
