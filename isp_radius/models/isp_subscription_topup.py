# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Data top-ups: extra data for the current billing period, bought on the
portal near the cap and invoiced at once."""

from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_date

from .isp_radius_usage import BYTES_PER_GB


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _radius_topup_offer(self):
        """The data top-up this subscription may buy now, computed without
        writing: ``None`` unless it is active on a plan with a data allowance
        and a top-up product, in a billed period, and has used at least the
        company's *Near the data cap* share of the period's allowance (plan +
        top-ups already bought).

        :return: ``period_start``, ``period_end`` (first day after it),
            ``product``, ``gb``, ``price`` (untaxed, one top-up), ``price_incl``
            (with its taxes), ``used_gb``, ``allowance_gb``, ``lines`` (the
            invoice line values)
        :rtype: dict | None
        """
        self.ensure_one()
        plan = self.plan_id.product_tmpl_id
        product = plan.isp_topup_product_id
        if (
            self.state != "active"
            or plan.isp_data_unlimited
            or not product
            or plan.isp_topup_gb <= 0
        ):
            return None
        start, end = self._radius_current_period()
        if not start:
            return None
        allowance = self._radius_allowance_bytes(start)
        used = self._radius_used_bytes(start, end)
        if self._radius_usage_level(used, allowance) == 0:
            return None
        today = self._today()
        price = (
            self.pricelist_id._get_product_price(
                product, 1.0, currency=self.currency_id, date=today
            )
            if self.pricelist_id
            else product.currency_id._convert(
                product.lst_price, self.currency_id, self.company_id, today
            )
        )
        price = self.currency_id.round(price)
        name = self.env._(
            "%(product)s: %(gb)g GB more data, %(start)s to %(end)s",
            product=product.display_name,
            gb=plan.isp_topup_gb,
            start=format_date(self.env, start),
            end=format_date(self.env, end - timedelta(days=1)),
        )
        lines = [
            {
                "product_id": product.id,
                "name": name,
                "quantity": 1.0,
                "price_unit": price,
                "isp_subscription_id": self.id,
                "isp_period_start": start,
                "isp_period_end": end,
            }
        ]
        return {
            "period_start": start,
            "period_end": end,
            "product": product,
            "gb": plan.isp_topup_gb,
            "price": price,
            "price_incl": self._get_lines_total(lines)[1],
            "used_gb": used / BYTES_PER_GB,
            "allowance_gb": allowance / BYTES_PER_GB,
            "lines": lines,
        }

    def _radius_buy_topup(self):
        """Buy the offered top-up (:meth:`_radius_topup_offer`): post its
        invoice (due by the payment terms, payable with *Pay now*), add the
        data to the period's allowance, and give full speed back at once to a
        subscriber slowed down by fair use who is now under the allowance.
        The subscription's row is locked first, so two requests at once buy
        one top-up each only if each is still offered.

        Private: the portal calls it (sudo) after checking that the logged-in
        user is the subscription's customer.

        :return: the top-up
        :rtype: isp.radius.topup
        :raise UserError: no top-up is offered now
        """
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM isp_subscription WHERE id = %s FOR NO KEY UPDATE",
            [self.id],
        )
        self.invalidate_recordset()
        offer = self._radius_topup_offer()
        if not offer:
            raise UserError(self.env._("No data top-up is offered now."))
        move = self._create_adjustment_move(
            offer["lines"],
            self.env._("data top-up"),
            self._today(),
        )
        topup = (
            self.env["isp.radius.topup"]
            .sudo()
            .create(
                {
                    "subscription_id": self.id,
                    "period_start": offer["period_start"],
                    "product_id": offer["product"].id,
                    "gb": offer["gb"],
                    "move_id": move.id,
                }
            )
        )
        allowance = self._radius_allowance_bytes(offer["period_start"])
        used = self._radius_used_bytes(offer["period_start"], offer["period_end"])
        level = self._radius_usage_level(used, allowance)
        # Alerts re-armed for the new allowance.
        self.radius_alert_level = min(self.radius_alert_level, level)
        self.message_post(
            body=self.env._(
                "Data top-up of %(gb)g GB bought (%(move)s): %(allowance)g GB "
                "this period.",
                gb=offer["gb"],
                move=move.name or "-",
                allowance=allowance / BYTES_PER_GB,
            ),
            subtype_xmlid="mail.mt_note",
        )
        if self.radius_fup_active and level < 100:
            self.radius_fup_active = False
            self._radius_push(actions={self.id: "rate"})
        return topup
