# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's open items behind the one balance (``_isp_balance``), as the
*Balance* smart buttons of the subscription and customer forms open them."""

from odoo import models
from odoo.exceptions import AccessError

from ..const import OPEN_ITEMS_GROUPS


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_open_items_action(self, title):
        """A window action listing the open receivable items that make up
        this subscription's balance: the same domain as ``_isp_balance``, so
        the list's total is the balance shown on the button."""
        self.ensure_one()
        view = self.env.ref("isp_billing.account_move_line_view_list_isp_open_items")
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "views": [(view.id, "list"), (False, "form")],
            "domain": self._isp_balance_domain(),
            "context": {"create": False},
        }

    def _isp_check_open_items_access(self):
        """Only accounting roles read journal items: refuse the others before
        anything is read (every public method is an RPC endpoint)."""
        user = self.env.user
        if not self.env.su and not any(user.has_group(g) for g in OPEN_ITEMS_GROUPS):
            raise AccessError(
                self.env._(
                    "Only accounting users may see a customer's open items (%(user)s).",
                    user=user.name,
                )
            )

    def action_view_isp_open_items(self):
        """*Balance* smart button: the customer's open invoices, credit notes
        and unallocated payments in this subscription's company and currency."""
        self.ensure_one()
        self._isp_check_open_items_access()
        self._isp_check_access("read")
        return self._isp_open_items_action(
            self.env._("Open items of %(customer)s", customer=self.partner_id.name)
        )
