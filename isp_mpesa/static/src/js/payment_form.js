/** @odoo-module **/
/* Copyright 2026 ISP Billing Suite contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */

import { _t } from "@web/core/l10n/translation";
import { rpc } from "@web/core/network/rpc";
import paymentForm from "@payment/js/payment_form";

// 07XX XXX XXX, 01XX…, +2547…, 2547…, 7XX… (spaces and dashes ignored)
const MSISDN_RE = /^(?:\+?254|0)?([17]\d{8})$/;

paymentForm.include({
    /**
     * M-PESA has no card form: the subscriber confirms the phone number that
     * receives the prompt, in the inline form.
     *
     * @override
     */
    async _prepareInlineForm(providerId, providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (providerCode !== "mpesa") {
            return this._super(...arguments);
        }
        this._setPaymentFlow("direct");
    },

    _mpesaPhoneInput() {
        const radio = this.el.querySelector('input[name="o_payment_radio"]:checked');
        const inline = radio && this._getInlineForm(radio);
        return inline && inline.querySelector('input[name="mpesa_phone"]');
    },

    /**
     * Refuse a phone number M-PESA cannot prompt before creating anything.
     *
     * @override
     */
    async _initiatePaymentFlow(providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (providerCode === "mpesa") {
            const input = this._mpesaPhoneInput();
            const raw = (input?.value || "").replace(/[\s\-().]/g, "");
            if (!MSISDN_RE.test(raw)) {
                input?.classList.add("is-invalid");
                this._displayErrorDialog(
                    _t("Check the phone number"),
                    _t("Enter the Safaricom number that pays, e.g. 0712 345 678.")
                );
                this._enableButton();
                return;
            }
            input.classList.remove("is-invalid");
        }
        return this._super(...arguments);
    },

    /**
     * Send the prompt to the phone, then follow the payment on the status page
     * ("check your phone"), which updates by itself.
     *
     * @override
     */
    async _processDirectFlow(providerCode, paymentOptionId, paymentMethodCode, processingValues) {
        if (providerCode !== "mpesa") {
            return this._super(...arguments);
        }
        const result = await rpc("/payment/mpesa/stk_push", {
            reference: processingValues.reference,
            access_token: processingValues.mpesa_access_token,
            phone: this._mpesaPhoneInput()?.value || "",
        });
        if (result.error) {
            this._displayErrorDialog(_t("M-PESA payment not sent"), result.error);
            this._enableButton();
            return;
        }
        window.location = "/payment/status";
    },
});
