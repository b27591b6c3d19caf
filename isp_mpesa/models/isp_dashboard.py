# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The M-PESA tiles of the ISP dashboard: the work M-PESA leaves to people."""

from odoo import models


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    def _get_dashboard_tiles(self, flt):
        tiles = super()._get_dashboard_tiles(flt)
        companies = [("company_id", "in", flt["companies"].ids)]
        unmatched = [*companies, ("state", "=", "unmatched")]
        tile = self._dashboard_count_tile(
            "mpesa_unmatched",
            self.env._("Unmatched M-PESA payments"),
            "isp.mpesa.payment",
            unmatched,
            sequence=70,
            section="work",
            alert=True,
            by_plan=False,
            view="isp_mpesa.isp_mpesa_payment_view_list",
            definition=self.env._(
                "M-PESA receipts that matched no customer and wait for an "
                "accountant to assign them (state To assign); the amount is "
                "their total."
            ),
        )
        amounts = self._dashboard_amounts(
            "isp.mpesa.payment", unmatched, "amount", currency_of="currency_id"
        )
        tiles.append(self._dashboard_set_amounts(tile, amounts))
        tiles.append(
            self._dashboard_count_tile(
                "mpesa_failed_callbacks",
                self.env._("Failed M-PESA callbacks"),
                "isp.mpesa.callback",
                [*companies, ("state", "=", "failed")],
                sequence=80,
                section="work",
                alert=True,
                by_plan=False,
                view="isp_mpesa.isp_mpesa_callback_view_list",
                definition=self.env._(
                    "Daraja callbacks the payments job could not process "
                    "(state Failed): each waits to be processed again."
                ),
            )
        )
        return tiles
