# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from werkzeug.urls import url_encode, url_quote

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools import format_date

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class IspCustomerPortal(CustomerPortal):
    """The subscriber's pages: ``/my/subscriptions`` and one page per
    subscription (plan, status, statement, Pay now, promise to pay, plan
    change)."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "isp_subscription_count" in counters:
            Subscription = request.env["isp.subscription"]
            values["isp_subscription_count"] = (
                Subscription.search_count(self._isp_subscriptions_domain(), limit=1)
                if Subscription.has_access("read")
                else 0
            )
        return values

    def _isp_subscriptions_domain(self):
        partner = request.env.user.partner_id
        return [
            ("partner_id", "child_of", [partner.commercial_partner_id.id]),
            ("state", "!=", "draft"),
        ]

    # ------------------------------------------------------------------
    # List
    # ------------------------------------------------------------------

    @http.route(
        ["/my/subscriptions", "/my/subscriptions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_isp_subscriptions(self, page=1, **kw):
        Subscription = request.env["isp.subscription"]
        if not Subscription.has_access("read"):
            return request.redirect("/my")
        domain = self._isp_subscriptions_domain()
        pager = portal_pager(
            url="/my/subscriptions",
            total=Subscription.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        subscriptions = Subscription.search(
            domain, limit=self._items_per_page, offset=pager["offset"]
        )
        request.session["my_isp_subscriptions_history"] = subscriptions.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "isp_subscription",
                "subscriptions": subscriptions.sudo(),
                "pager": pager,
                "default_url": "/my/subscriptions",
            }
        )
        return request.render("isp_billing.portal_my_isp_subscriptions", values)

    # ------------------------------------------------------------------
    # One subscription
    # ------------------------------------------------------------------

    def _isp_check_access(self, subscription_id, access_token):
        """The subscription, sudoed, if the user may see it (record rules or
        a valid access token); ``None`` otherwise."""
        try:
            return self._document_check_access(
                "isp.subscription", subscription_id, access_token
            )
        except (AccessError, MissingError):
            return None

    def _isp_check_owner(self, subscription_id):
        """The subscription, sudoed, if the logged-in user may act on it: its
        customer (or one of its contacts) or staff who can read it, by the record
        rules. An access token alone never allows an action: it only shows the
        page (it travels in notification e-mails)."""
        if request.env.user._is_public():
            return None
        return self._isp_check_access(subscription_id, None)

    def _isp_refuse_action(self, subscription_id, access_token):
        """Where a refused action goes: the login page for a visitor who holds
        a valid link, else ``/my``."""
        if self._isp_check_access(subscription_id, access_token) is not None:
            return request.redirect(
                "/web/login?redirect="
                + url_quote(f"/my/subscriptions/{subscription_id}")
            )
        return request.redirect("/my")

    def _isp_url(self, sub_sudo, access_token=None, suffix="", **params):
        """URL of the subscription's page (``suffix``: a sub-page), keeping the
        access token the page was opened with."""
        query = dict(params)
        if access_token:
            query["access_token"] = access_token
        url = sub_sudo.access_url + suffix
        return f"{url}?{url_encode(query)}" if query else url

    @http.route(
        "/my/subscriptions/<int:subscription_id>",
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_isp_subscription(
        self, subscription_id, access_token=None, message=None, **kw
    ):
        sub_sudo = self._isp_check_access(subscription_id, access_token)
        if sub_sudo is None:
            return request.redirect("/my")
        values = self._isp_subscription_page_values(sub_sudo, access_token, **kw)
        values["isp_message"] = self._isp_message(sub_sudo, message, **kw)
        return request.render("isp_billing.portal_isp_subscription_page", values)

    def _isp_subscription_page_values(self, sub_sudo, access_token, **kw):
        open_invoices = sub_sudo._isp_open_invoices()
        promise_ok, promise_reason = sub_sudo._isp_promise_available()
        statement, balance = sub_sudo._isp_portal_statement()
        period = sub_sudo._isp_portal_current_period()
        today = sub_sudo._today()
        values = {
            "page_name": "isp_subscription",
            "sub": sub_sudo,
            "currency": sub_sudo.currency_id,
            "period": period,
            # Days of the current period up to today, for add-ons' usage charts.
            "period_days": [
                period[0] + timedelta(days=n)
                for n in range((min(today, period[1]) - period[0]).days + 1)
            ]
            if period
            else [],
            "open_invoices": open_invoices,
            # The one balance (see _isp_balance); Pay now pays all of it.
            "amount_due": balance,
            "pay_url": self._isp_url(sub_sudo, access_token, "/pay")
            if balance > 0 and not sub_sudo.currency_id.is_zero(balance)
            else False,
            "autopay_tokens": self._isp_autopay_tokens(sub_sudo),
            "promise_ok": promise_ok,
            "promise_reason": promise_reason,
            # The last day a promise made now keeps the service on, stated in
            # its confirmation and checked again when it is confirmed.
            "promise_until": sub_sudo._isp_promise_until() if promise_ok else False,
            "statement": statement,
            "balance": balance,
            # What the subscriber pays: taxes included.
            "price_incl": sub_sudo._isp_recurring_total_incl(),
            "next_bill": sub_sudo._isp_next_bill(),
            "pay_instructions": sub_sudo._isp_payment_instructions(),
            # Actions (promise, auto-pay, plan change) and the network
            # credentials are for the logged-in customer only, not for a link.
            "isp_owner": self._isp_check_owner(sub_sudo.id) is not None,
            "can_change_plan": sub_sudo.state == "active"
            and self._isp_check_owner(sub_sudo.id) is not None,
            "sub_url": lambda suffix="", **params: self._isp_url(
                sub_sudo, access_token, suffix, **params
            ),
        }
        return self._get_page_view_values(
            sub_sudo, access_token, values, "my_isp_subscriptions_history", False, **kw
        )

    def _isp_autopay_tokens(self, sub_sudo):
        """The customer's saved payment methods usable for this subscription."""
        return (
            request.env["payment.token"]
            .sudo()
            .search(
                [
                    (
                        "partner_id",
                        "child_of",
                        sub_sudo.partner_id.commercial_partner_id.id,
                    ),
                    ("provider_id.company_id", "=", sub_sudo.company_id.id),
                    ("provider_id.state", "in", ("enabled", "test")),
                ]
            )
        )

    def _isp_message(self, sub_sudo, message, **kw):
        """``(css class, text)`` of the message to show after an action; the
        query string carries only its key."""
        env = request.env
        if message == "promise":
            return "success", env._(
                "Thank you: your service is extended until %(date)s.",
                date=format_date(env, sub_sudo.promise_until),
            )
        if message == "promise_refused":
            return "danger", env._(
                "Promise to pay refused: %(reason)s",
                reason=sub_sudo._isp_promise_available()[1],
            )
        if message == "promise_changed":
            return "warning", env._(
                "Please confirm again: a promise made now keeps your service on "
                "until %(date)s.",
                date=format_date(env, sub_sudo._isp_promise_until()),
            )
        if message == "upgraded":
            return "success", env._(
                "Your plan is now %(plan)s.", plan=sub_sudo.plan_id.display_name
            )
        if message == "scheduled" and sub_sudo.pending_plan_id:
            return "success", env._(
                "Your plan changes to %(plan)s on %(date)s.",
                plan=sub_sudo.pending_plan_id.display_name,
                date=format_date(env, sub_sudo.pending_plan_date),
            )
        if message == "autopay_on":
            return "success", env._(
                "Auto-pay is on with %(method)s.",
                method=sub_sudo.autopay_token_id.display_name,
            )
        if message == "autopay_off":
            return "success", env._("Auto-pay is off.")
        if message == "plan_refused":
            return "danger", env._("This plan change is not available to you.")
        return None

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @http.route(
        "/my/subscriptions/<int:subscription_id>/promise",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_isp_promise(self, subscription_id, access_token=None, until=None, **kw):
        """Make the promise the subscriber confirmed: ``until`` is the last
        day of service the confirmation stated; a promise that would end on
        another day (the page was opened yesterday, the setting changed) is
        not made and the page asks again."""
        sub_sudo = self._isp_check_owner(subscription_id)
        if sub_sudo is None:
            return self._isp_refuse_action(subscription_id, access_token)
        ok, _reason = sub_sudo._isp_promise_available()
        if not ok:
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="promise_refused")
            )
        if until != fields.Date.to_string(sub_sudo._isp_promise_until()):
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="promise_changed")
            )
        sub_sudo.action_promise_to_pay()
        return request.redirect(
            self._isp_url(sub_sudo, access_token, message="promise")
        )

    @http.route(
        "/my/subscriptions/<int:subscription_id>/autopay",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_isp_autopay(self, subscription_id, access_token=None, token_id=0, **kw):
        """Auto-pay on with one of the customer's saved methods (``token_id``),
        or off (``0``)."""
        sub_sudo = self._isp_check_owner(subscription_id)
        if sub_sudo is None:
            return self._isp_refuse_action(subscription_id, access_token)
        try:
            token_id = int(token_id)
        except (TypeError, ValueError):
            token_id = -1
        if token_id == 0:
            sub_sudo.action_autopay_disable()
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="autopay_off")
            )
        token = self._isp_autopay_tokens(sub_sudo).filtered(lambda t: t.id == token_id)
        if not token:
            return request.redirect("/my")
        sub_sudo.action_autopay_enable(token)
        return request.redirect(
            self._isp_url(sub_sudo, access_token, message="autopay_on")
        )

    @http.route(
        "/my/subscriptions/<int:subscription_id>/plan",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
    )
    def portal_isp_plan(self, subscription_id, access_token=None, plan_id=None, **kw):
        sub_sudo = self._isp_check_owner(subscription_id)
        if sub_sudo is None:
            return self._isp_refuse_action(subscription_id, access_token)
        if sub_sudo.state != "active":
            return request.redirect(self._isp_url(sub_sudo, access_token))
        plans = sub_sudo._isp_portal_plans()
        options = [(plan, sub_sudo._isp_plan_change_preview(plan)) for plan in plans]
        chosen = next(
            (option for option in options if str(option[0].id) == plan_id), None
        )
        values = self._isp_subscription_page_values(sub_sudo, access_token, **kw)
        values.update(
            {
                "options": options,
                "chosen": chosen,
                "current_price_incl": sub_sudo._isp_price_with_taxes(
                    sub_sudo.plan_id, sub_sudo._plan_line().price_unit
                ),
            }
        )
        return request.render("isp_billing.portal_isp_subscription_plan", values)

    @http.route(
        "/my/subscriptions/<int:subscription_id>/plan",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_isp_plan_confirm(
        self, subscription_id, access_token=None, plan_id=None, **kw
    ):
        sub_sudo = self._isp_check_owner(subscription_id)
        if sub_sudo is None:
            return self._isp_refuse_action(subscription_id, access_token)
        plan = sub_sudo._isp_portal_plans().filtered(lambda p: str(p.id) == plan_id)
        if sub_sudo.state != "active" or not plan:
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="plan_refused")
            )
        preview = sub_sudo._isp_plan_change_preview(plan)
        try:
            with request.env.cr.savepoint():
                sub_sudo._change_plan(
                    plan,
                    preview["date"],
                    reason=request.env._("Requested by the subscriber on the portal"),
                )
        except (UserError, ValidationError):
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="plan_refused")
            )
        message = "upgraded" if sub_sudo.plan_id == plan else "scheduled"
        return request.redirect(self._isp_url(sub_sudo, access_token, message=message))
