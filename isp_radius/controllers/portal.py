# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.isp_billing.controllers.portal import IspCustomerPortal


class IspRadiusCustomerPortal(IspCustomerPortal):
    """The subscriber's usage on the subscription page (isp_billing) and the
    data top-up near the cap."""

    def _isp_subscription_page_values(self, sub_sudo, access_token, **kw):
        values = super()._isp_subscription_page_values(sub_sudo, access_token, **kw)
        values.update(self._isp_radius_usage_values(sub_sudo))
        values["topup_offer"] = (
            sub_sudo._radius_topup_offer() if values.get("isp_owner") else None
        )
        return values

    def _isp_radius_usage_values(self, sub_sudo):
        """The usage card's figures: the period's allowance (plan + top-ups),
        used, share used, days left (today included), data per day."""
        period = sub_sudo._isp_portal_current_period()
        if not period:
            return {"usage_days": [], "usage_allowance_gb": 0.0}
        first, last = period
        end = last + timedelta(days=1)
        usage = (
            request.env["isp.radius.usage"]
            .sudo()
            .search(
                [
                    ("subscription_id", "=", sub_sudo.id),
                    ("date", ">=", first),
                    ("date", "<", end),
                ]
            )
        )
        per_day = {}
        for row in usage:
            per_day[row.date] = per_day.get(row.date, 0.0) + row.total_gb
        today = sub_sudo._today()
        # Newest first: today's figure at the top of the list.
        days = [
            (first + timedelta(days=n), per_day.get(first + timedelta(days=n), 0.0))
            for n in range((min(today, last) - first).days, -1, -1)
        ]
        allowance_gb = sub_sudo._radius_allowance_bytes(first) / 10**9
        used_gb = sub_sudo.radius_period_gb
        return {
            "usage_days": days,
            "usage_max_gb": max([gb for __, gb in days] or [0.0]),
            "usage_used_gb": used_gb,
            "usage_allowance_gb": allowance_gb,
            "usage_percent": min(100.0, 100.0 * used_gb / allowance_gb)
            if allowance_gb
            else 0.0,
            "usage_days_left": max(0, (last - today).days + 1),
        }

    def _isp_message(self, sub_sudo, message, **kw):
        env = request.env
        if message == "topup":
            topup = sub_sudo.env["isp.radius.topup"].search(
                [("subscription_id", "=", sub_sudo.id)], limit=1
            )
            return "success", env._(
                "%(gb)g GB added to this period's data. Invoice %(invoice)s: "
                "pay it with Pay now.",
                gb=topup.gb,
                invoice=topup.move_id.name or "-",
            )
        if message == "topup_refused":
            return "danger", env._("No data top-up is offered now.")
        return super()._isp_message(sub_sudo, message, **kw)

    @http.route(
        "/my/subscriptions/<int:subscription_id>/topup",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_isp_topup(self, subscription_id, access_token=None, **kw):
        """Buy the data top-up offered on the page (logged-in customer only)."""
        sub_sudo = self._isp_check_owner(subscription_id)
        if sub_sudo is None:
            return self._isp_refuse_action(subscription_id, access_token)
        try:
            with request.env.cr.savepoint():
                sub_sudo._radius_buy_topup()
        except UserError:
            return request.redirect(
                self._isp_url(sub_sudo, access_token, message="topup_refused")
            )
        return request.redirect(self._isp_url(sub_sudo, access_token, message="topup"))
