/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { registry } from "@web/core/registry";

function payWithMpesa(phone) {
    return [
        {
            content: "Open the payment dialog",
            trigger: ".o_portal_invoice_sidebar a[data-bs-target='#pay_with']",
            run: "click",
        },
        {
            content: "Choose M-PESA",
            trigger: "#pay_with input[name='o_payment_radio'][data-provider-code='mpesa']",
            run: "click",
        },
        {
            content: "The phone number is filled in from the account",
            trigger: "#pay_with input[name='mpesa_phone']",
            run() {
                const digits = this.anchor.value.replace(/\D/g, "");
                if (!digits.endsWith("712345678")) {
                    throw new Error(`phone not filled in: "${this.anchor.value}"`);
                }
            },
        },
        {
            content: "Confirm the phone number",
            trigger: "#pay_with input[name='mpesa_phone']",
            run: `edit ${phone}`,
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
    ];
}

registry.category("web_tour.tours").add("isp_mpesa_portal_pay", {
    steps: () => [
        ...payWithMpesa("0712345678"),
        {
            content: "Back on the invoice, which is paid",
            trigger: ".o_portal_invoice_sidebar .badge:contains('Paid')",
            timeout: 60000,
        },
    ],
});

registry.category("web_tour.tours").add("isp_mpesa_portal_cancelled", {
    steps: () => [
        ...payWithMpesa("0712 345 678"),
        {
            content: "Back on the invoice, told why in plain words",
            trigger: ".o_mpesa_failure:contains('You cancelled the payment on your phone')",
            timeout: 60000,
        },
        {
            content: "and it can be paid again",
            trigger: ".o_portal_invoice_sidebar a[data-bs-target='#pay_with']",
        },
    ],
});

registry.category("web_tour.tours").add("isp_mpesa_portal_bad_phone", {
    steps: () => [
        {
            content: "Open the payment dialog",
            trigger: ".o_portal_invoice_sidebar a[data-bs-target='#pay_with']",
            run: "click",
        },
        {
            content: "Choose M-PESA",
            trigger: "#pay_with input[name='o_payment_radio'][data-provider-code='mpesa']",
            run: "click",
        },
        {
            content: "Type a number M-PESA cannot prompt",
            trigger: "#pay_with input[name='mpesa_phone']",
            run: "edit 0812 345",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name='o_payment_submit_button']",
            run: "click",
        },
        {
            content: "A clear message, nothing sent",
            trigger: ".modal:contains('Check the phone number')",
        },
    ],
});
