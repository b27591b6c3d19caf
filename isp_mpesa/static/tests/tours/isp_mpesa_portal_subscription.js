/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

// From the subscriber's subscriptions (isp_billing's portal): Pay now opens
// the oldest unpaid invoice with Odoo's payment dialog; pay it with M-PESA.
registry.category("web_tour.tours").add("isp_mpesa_portal_subscription_pay", {
    steps: () => [
        {
            content: "Open the subscription",
            trigger: ".o_isp_subscription_item:contains('10 Mbps Home')",
            run: "click",
        },
        {
            content: "The amount due",
            trigger: ".o_isp_amount_due:contains('2,999.00')",
        },
        {
            content: "Pay now",
            trigger: "a.o_isp_pay_now",
            run: "click",
        },
        {
            content: "The payment dialog opens by itself: choose M-PESA",
            trigger: "#pay_with input[name='o_payment_radio'][data-provider-code='mpesa']",
            run: "click",
        },
        {
            content: "Confirm the phone number",
            trigger: "#pay_with input[name='mpesa_phone']",
            run: "edit 0712345678",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name='o_payment_submit_button']",
            run: "click",
        },
        {
            content: "The status page asks to check the phone",
            trigger: "div[name='o_payment_status_alert']:contains('Check your phone')",
            timeout: 60000,
        },
        {
            content: "Back on the invoice, which is paid",
            trigger: ".o_portal_invoice_sidebar .badge:contains('Paid')",
            timeout: 60000,
        },
    ],
});
