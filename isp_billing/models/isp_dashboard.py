# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ISP app's landing dashboard: one service (``isp.dashboard``) computes
every tile's figure and the window action that opens the records behind it.

Each tile is counted on the very domain its click-through opens, as the
caller (no ``sudo``): the list it opens shows exactly the records counted.
The add-ons (``isp_mpesa``, ``isp_radius``) add their tiles by overriding
:meth:`IspDashboard._get_dashboard_tiles`."""

import re
from collections import defaultdict
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang

from ..const import UNPAID_INVOICE_DOMAIN

DASHBOARD_GROUP = "isp_billing.group_isp_user"
_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


class IspDashboard(models.AbstractModel):
    _name = "isp.dashboard"
    _description = "ISP dashboard"

    # ------------------------------------------------------------------
    # The entry point
    # ------------------------------------------------------------------

    @api.model
    def get_dashboard_data(self, filters=None):
        """Everything the dashboard shows, for ``filters``::

            {"company_ids": [ids], "period": "YYYY-MM", "plan_id": id or False}

        ``company_ids``: among the companies selected in the company switcher
        (default: all of them); ``period``: the month of the period figures
        (default: this month); ``plan_id``: only subscriptions of this plan.

        Returns ``{"filters", "options", "tiles", "chart"}``; each tile has its
        ``value`` and the ``action`` listing exactly the records counted.

        :raise AccessError: the caller is not ISP staff, or asks for a company
            it may not see
        :raise UserError: a filter is malformed
        """
        self._check_dashboard_access()
        flt = self._dashboard_filters(filters or {})
        dashboard = self.with_context(allowed_company_ids=flt["companies"].ids)
        flt["companies"] = flt["companies"].with_env(dashboard.env)
        tiles = sorted(
            dashboard._get_dashboard_tiles(flt), key=lambda t: (t["sequence"], t["key"])
        )
        return {
            "filters": {
                "company_ids": flt["companies"].ids,
                "period": flt["period"],
                "plan_id": flt["plan"].id or False,
            },
            "options": dashboard._dashboard_options(flt),
            "tiles": tiles,
            "chart": dashboard._get_dashboard_chart(flt),
        }

    @api.model
    def get_dashboard_chart_action(self, filters, series, point, currency_id):
        """The window action of the chart's bar (or point) the user clicked:
        series ``series`` (a key of the chart's ``click["series"]``), at the
        label ``point`` (of ``click["points"]``), in the chart's currency
        ``currency_id`` (``click["currency_id"]``), for the ``filters`` the
        chart was drawn with (see :meth:`get_dashboard_data`). Built on
        click rather than with the chart: one action instead of one per
        bar. The same records as the chart's figure.

        :raise AccessError: as :meth:`get_dashboard_data`
        :raise UserError: a filter, the series, the point or the currency is
            malformed or unknown
        """
        self._check_dashboard_access()
        flt = self._dashboard_filters(filters or {})
        if not isinstance(series, str) or not isinstance(point, str):
            raise UserError(self.env._("The chart's series and point are names."))
        if not isinstance(currency_id, int) or isinstance(currency_id, bool):
            raise UserError(self.env._("The currency must be given by its id."))
        dashboard = self.with_context(allowed_company_ids=flt["companies"].ids)
        flt["companies"] = flt["companies"].with_env(dashboard.env)
        action = dashboard._get_dashboard_chart_action(flt, series, point, currency_id)
        if action is None:
            raise UserError(self.env._("The dashboard has no such chart."))
        return action

    def _check_dashboard_access(self):
        """ISP staff only, checked before anything is read."""
        if self.env.su or self.env.user.has_group(DASHBOARD_GROUP):
            return
        raise AccessError(
            self.env._(
                "Only ISP users may open the ISP dashboard (%(user)s).",
                user=self.env.user.name,
            )
        )

    def _dashboard_filters(self, filters):
        """Check and normalise the filters: ``{"companies", "plan", "period",
        "date_from", "date_to", "today"}``. Nothing is read before they pass.
        """
        if not isinstance(filters, dict):
            raise UserError(self.env._("The dashboard filters must be a mapping."))
        unknown = set(filters) - {"company_ids", "period", "plan_id"}
        if unknown:
            raise UserError(
                self.env._(
                    "Unknown dashboard filter: %(names)s.",
                    names=", ".join(sorted(map(str, unknown))),
                )
            )
        allowed = self.env.companies
        company_ids = filters.get("company_ids") or allowed.ids
        if not isinstance(company_ids, list) or not all(
            isinstance(cid, int) and not isinstance(cid, bool) for cid in company_ids
        ):
            raise UserError(self.env._("Companies must be given by their ids."))
        if set(company_ids) - set(allowed.ids):
            raise AccessError(
                self.env._(
                    "The dashboard shows only the companies selected in the "
                    "company switcher."
                )
            )
        companies = allowed.browse(company_ids)

        today = fields.Date.context_today(self)
        period = filters.get("period") or today.strftime("%Y-%m")
        match = isinstance(period, str) and _PERIOD_RE.match(period)
        if not match or not 1 <= int(match[2]) <= 12:
            raise UserError(
                self.env._(
                    "The period must be a month written YYYY-MM, not %(period)r.",
                    period=period,
                )
            )
        date_from = date(int(match[1]), int(match[2]), 1)

        plan = self.env["product.product"]
        plan_id = filters.get("plan_id") or False
        if plan_id:
            if not isinstance(plan_id, int) or isinstance(plan_id, bool):
                raise UserError(self.env._("The plan must be given by its id."))
            plan = plan.search([("id", "=", plan_id), ("isp_is_plan", "=", True)])
            if not plan:
                raise UserError(self.env._("This plan does not exist."))
        return {
            "companies": companies,
            "plan": plan,
            "period": period,
            "date_from": date_from,
            "date_to": date_from + relativedelta(months=1, days=-1),
            "today": today,
        }

    def _dashboard_options(self, flt):
        """The choices of the filter bar: the switcher's companies and the
        plans of the chosen companies (archived ones too when chosen)."""
        plans = self.env["product.product"].search(
            [
                ("isp_is_plan", "=", True),
                ("company_id", "in", [False, *flt["companies"].ids]),
            ],
            order="name, id",
        )
        plans |= flt["plan"]
        return {
            "companies": [
                {"id": company.id, "name": company.name}
                for company in self.env.companies
            ],
            "plans": [{"id": plan.id, "name": plan.display_name} for plan in plans],
        }

    # ------------------------------------------------------------------
    # Extension points
    # ------------------------------------------------------------------

    def _get_dashboard_tiles(self, flt):
        """The tiles, as dictionaries (see :meth:`_dashboard_count_tile`).

        Override to add tiles: call ``super()`` and extend its list. ``flt``
        is what :meth:`_dashboard_filters` returns; the environment already
        has the chosen companies as its allowed companies."""
        subs = self._dashboard_subscription_domain(flt)
        return [
            self._dashboard_count_tile(
                "active",
                self.env._("Active subscribers"),
                "isp.subscription",
                [*subs, ("state", "=", "active")],
                sequence=10,
                section="subscribers",
                definition=self.env._(
                    "Subscriptions in the state Active today (those slowed down "
                    "for non-payment included)."
                ),
            ),
            self._dashboard_count_tile(
                "suspended",
                self.env._("Suspended"),
                "isp.subscription",
                [*subs, ("state", "=", "suspended")],
                sequence=20,
                section="subscribers",
                definition=self.env._(
                    "Subscriptions in the state Suspended today, by hand or for "
                    "non-payment. They keep their monthly recurring amount."
                ),
            ),
            self._dashboard_count_tile(
                "throttled",
                self.env._("Slowed down"),
                "isp.subscription",
                [*subs, ("state", "=", "active"), ("throttled", "=", True)],
                sequence=30,
                section="subscribers",
                definition=self.env._(
                    "Active subscriptions the dunning ladder slowed down for "
                    "non-payment today."
                ),
            ),
            self._dashboard_overdue_tile(flt),
            self._dashboard_count_tile(
                "billing_exceptions",
                self.env._("Billing exceptions"),
                "isp.subscription",
                [*subs, ("billing_exception", "=", True)],
                sequence=60,
                section="work",
                alert=True,
                definition=self.env._(
                    "Subscriptions whose billing failed: the billing job skips "
                    "them until the problem is fixed and billing is retried."
                ),
            ),
        ]

    def _get_dashboard_chart(self, flt):
        """The chart's data, ``{"title", "labels", "datasets", "click"}``
        (Chart.js datasets: ``label``, ``data``, ``type``; ``click``: what
        :meth:`get_dashboard_chart_action` is called with when a bar is
        clicked, ``{"series": [one per dataset], "points": [one per label],
        "currency_id"}``), or ``None`` for no chart."""
        return None

    def _get_dashboard_chart_action(self, flt, series, point, currency_id):
        """The window action of the chart's bar ``series`` at ``point`` (see
        :meth:`get_dashboard_chart_action`), or ``None`` when this chart is
        not the dashboard's. Override with :meth:`_get_dashboard_chart`."""
        return None

    def _dashboard_chart_month(self, point):
        """The month of a chart's point written ``YYYY-MM-01``."""
        try:
            month = fields.Date.to_date(point)
        except ValueError:
            month = None
        if not month or month.day != 1:
            raise UserError(
                self.env._(
                    "The chart's point must be a month written YYYY-MM-01, not "
                    "%(point)r.",
                    point=point,
                )
            )
        return month

    # ------------------------------------------------------------------
    # Tile helpers
    # ------------------------------------------------------------------

    def _dashboard_subscription_domain(self, flt, prefix=""):
        """Subscriptions of the chosen companies (and plan); ``prefix`` is the
        path to the subscription from another model (``"subscription_id."``)."""
        domain = [(f"{prefix}company_id", "in", flt["companies"].ids)]
        if flt["plan"]:
            domain.append((f"{prefix}plan_id", "=", flt["plan"].id))
        return domain

    def _dashboard_action(self, name, model, domain, view=None, context=None):
        """The window action of a tile: the list of exactly ``domain``
        (``context``: what the model needs to read them, e.g. a date)."""
        view_id = self.env.ref(view).id if view else False
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "domain": domain,
            "views": [[view_id, "list"], [False, "form"]],
            "context": {**(context or {}), "create": False},
            "target": "current",
        }

    def _dashboard_count_tile(
        self,
        key,
        title,
        model,
        domain,
        sequence,
        section,
        definition,
        alert=False,
        by_plan=True,
        view=None,
        context=None,
        count=None,
    ):
        """A tile counting the records of ``domain``.

        ``alert``: a count above zero is work to do (shown in red); ``by_plan``:
        the plan filter applies; ``section``: the group of tiles it is shown in
        (revenue, subscribers, money, collections, work, network);
        ``context``: what the model needs to read the records (also given to
        the action); ``count``: the number of records of ``domain`` when the
        caller counted them already (one grouped read for several tiles).
        ``value`` is the count; ``figure`` the tile's own figure when it is
        not a count or an amount (a rate, days), else None."""
        if count is None:
            Model = self.env[model].with_context(**(context or {}))
            count = Model.search_count(domain)
        return {
            "key": key,
            "title": title,
            "sequence": sequence,
            "section": section,
            "value": count,
            "display": formatLang(self.env, count, digits=0),
            "figure": None,
            "amount": None,
            "amount_display": "",
            "detail": "",
            "help": definition,
            "alert": bool(alert and count),
            "by_plan": by_plan,
            "action": self._dashboard_action(
                title, model, domain, view=view, context=context
            ),
        }

    def _dashboard_amounts(
        self, model, domain, field, currency_of="company_id", context=None
    ):
        """``{currency: sum of field}`` over the records of ``domain``, grouped
        by the currency of ``currency_of`` (a company: its currency; else a
        currency field)."""
        return self._dashboard_count_amounts(
            model, domain, field, currency_of=currency_of, context=context
        )[1]

    def _dashboard_count_amounts(
        self, model, domain, field, currency_of="company_id", context=None
    ):
        """``(count, amounts)``: the number of records of ``domain`` and
        :meth:`_dashboard_amounts`, in one grouped read."""
        totals, count = defaultdict(float), 0
        Model = self.env[model].with_context(**(context or {}))
        for group, records, amount in Model._read_group(
            domain, [currency_of], ["__count", f"{field}:sum"]
        ):
            currency = group.currency_id if group._name == "res.company" else group
            currency = currency or self.env.company.currency_id
            totals[currency] += amount
            count += records
        amounts = {currency: currency.round(t) for currency, t in totals.items()}
        return count, amounts

    def _dashboard_set_amounts(self, tile, amounts):
        """Put ``amounts`` (``{currency: amount}``) on ``tile``: ``amount`` is
        the one amount (``None`` when there are several currencies),
        ``amount_display`` every amount with its currency."""
        if not amounts:
            amounts = {self.env.company.currency_id: 0.0}
        tile["amount"] = next(iter(amounts.values())) if len(amounts) == 1 else None
        tile["amount_display"] = " · ".join(
            formatLang(self.env, amount, currency_obj=currency)
            for currency, amount in sorted(amounts.items(), key=lambda i: i[0].name)
        )
        tile["detail"] = tile["amount_display"]
        return tile

    def _dashboard_amount_first(self, tile, detail):
        """Show the tile's amount as its figure, ``detail`` under it (e.g.
        the number of records counted)."""
        tile["display"], tile["detail"] = tile["amount_display"], detail
        return tile

    def _dashboard_overdue_tile(self, flt):
        """Overdue invoices: count, and the amount still to pay in company
        currency (per currency when the companies' currencies differ)."""
        domain = [
            *UNPAID_INVOICE_DOMAIN,
            ("company_id", "in", flt["companies"].ids),
            ("invoice_date_due", "<", fields.Date.to_string(flt["today"])),
            ("line_ids.isp_subscription_id", "!=", False),
        ]
        if flt["plan"]:
            domain.append(("line_ids.isp_subscription_id.plan_id", "=", flt["plan"].id))
        count, amounts = self._dashboard_count_amounts(
            "account.move", domain, "amount_residual_signed"
        )
        tile = self._dashboard_count_tile(
            "overdue",
            self.env._("Overdue invoices"),
            "account.move",
            domain,
            sequence=40,
            section="money",
            alert=True,
            view="account.view_out_invoice_tree",
            definition=self.env._(
                "Posted subscription invoices not fully paid whose due date is "
                "before today; the amount is what is left to pay on them, in "
                "the company's currency."
            ),
            count=count,
        )
        return self._dashboard_set_amounts(tile, amounts)
