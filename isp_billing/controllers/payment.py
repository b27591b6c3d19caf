# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""*Pay now* on the subscription page: the customer's whole balance in one
payment transaction, with Odoo's payment form."""

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Command
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal


class IspBalancePayment(PaymentPortal):
    def _isp_balance_sub(self, subscription_id, access_token):
        """The subscription (sudoed) if the visitor may see it (record rules or
        the page's link), else ``None``. Paying needs no more than seeing."""
        try:
            return self._document_check_access(
                "isp.subscription", subscription_id, access_token
            )
        except (AccessError, MissingError):
            return None

    def _isp_payer(self, sub_sudo):
        """Who pays: the logged-in user if one of the customer's contacts (its
        saved payment methods), else the customer; the payment is always the
        customer's, so that it settles the customer's balance."""
        customer = sub_sudo.partner_id.commercial_partner_id
        user_partner = request.env.user.partner_id
        if (
            not request.env.user._is_public()
            and user_partner.commercial_partner_id == customer
        ):
            return user_partner
        return customer

    @http.route(
        "/my/subscriptions/<int:subscription_id>/pay",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def portal_isp_pay_balance(self, subscription_id, access_token=None, **kw):
        sub_sudo = self._isp_balance_sub(subscription_id, access_token)
        if sub_sudo is None:
            return request.redirect("/my")
        balance = sub_sudo._isp_balance()
        currency = sub_sudo.currency_id
        if balance <= 0 or currency.is_zero(balance):
            return request.redirect(sub_sudo.get_portal_url())
        company = sub_sudo.company_id
        partner_sudo = self._isp_payer(sub_sudo)
        report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner_sudo.id,
                balance,
                currency_id=currency.id,
                report=report,
            )
        )
        methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=currency.id,
                report=report,
            )
        )
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
        )
        reference = sub_sudo.account_number or sub_sudo.display_name
        values = {
            "page_name": "isp_subscription_pay",
            "payment": {
                "date": fields.Date.today(),
                "reference": reference,
                "amount": balance,
                "currency": currency,
            },
            "amount": balance,
            "company_mismatch": not self._can_partner_pay_in_company(
                partner_sudo, company
            ),
            "expected_company": company,
            "show_tokenize_input_mapping": self._compute_show_tokenize_input_mapping(
                providers_sudo
            ),
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": report,
            "transaction_route": f"/my/subscriptions/{sub_sudo.id}/pay/transaction",
            "landing_route": sub_sudo.get_portal_url(),
            "access_token": access_token or sub_sudo._portal_ensure_token(),
            "payment_reference": False,
        }
        return request.render("account_payment.portal_overdue_invoices_page", values)

    @http.route(
        "/my/subscriptions/<int:subscription_id>/pay/transaction",
        type="json",
        auth="public",
    )
    def portal_isp_pay_balance_transaction(
        self, subscription_id, access_token=None, **kwargs
    ):
        """Create the transaction of the whole balance (the amount sent by the
        browser is ignored) for the customer's open invoices, oldest first."""
        sub_sudo = self._isp_balance_sub(subscription_id, access_token)
        if sub_sudo is None:
            raise ValidationError(request.env._("The access token is invalid."))
        balance = sub_sudo._isp_balance()
        invoices = sub_sudo._isp_balance_invoices()
        if balance <= 0 or sub_sudo.currency_id.is_zero(balance) or not invoices:
            raise ValidationError(request.env._("There is nothing to pay."))
        kwargs.pop("payment_reference", None)
        self._validate_transaction_kwargs(kwargs)
        kwargs.update(
            {
                "amount": balance,
                "currency_id": sub_sudo.currency_id.id,
                "partner_id": self._isp_payer(sub_sudo).id,
            }
        )
        tx_sudo = self._create_transaction(
            custom_create_values={
                "invoice_ids": [Command.set(invoices.ids)],
                "isp_subscription_id": sub_sudo.id,
            },
            **kwargs,
        )
        return tx_sudo._get_processing_values()
