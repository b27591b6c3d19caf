# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    isp_subscription_ids = fields.Many2many(
        "isp.subscription",
        string="Subscriptions",
        compute="_compute_isp_subscription_ids",
        search="_search_isp_subscription_ids",
        compute_sudo=True,
    )
    isp_account_numbers = fields.Char(
        string="Account number",
        compute="_compute_isp_subscription_ids",
        compute_sudo=True,
    )

    @api.depends("line_ids.isp_subscription_id")
    def _compute_isp_subscription_ids(self):
        for move in self:
            subs = move.line_ids.isp_subscription_id
            move.isp_subscription_ids = subs
            move.isp_account_numbers = ", ".join(subs.mapped("account_number"))

    def _search_isp_subscription_ids(self, operator, value):
        return [("line_ids.isp_subscription_id", operator, value)]

    def _fetch_duplicate_reference(self, matching_states=("draft", "posted")):
        # Odoo flags customer invoices with the same amount and date as possible
        # duplicates. Two subscription invoices never are: each bills its own
        # period, which the database keeps unique (catch-up and consolidated
        # invoices often share amount and date).
        duplicates = super()._fetch_duplicate_reference(matching_states)
        for move, others in duplicates.items():
            if move.isp_subscription_ids:
                duplicates[move] = others.filtered(lambda m: not m.isp_subscription_ids)
        return duplicates

    def _invoice_paid_hook(self):
        # Paid by any channel (bank, card, M-PESA, a credit note): subscriptions
        # suspended for non-payment come back once nothing overdue is left.
        res = super()._invoice_paid_hook()
        self.sudo().isp_subscription_ids._isp_reconnect_if_settled()
        return res

    def _get_mail_template(self):
        # Subscription invoices go out with the ISP's own template.
        if (
            self
            and all(move.isp_subscription_ids for move in self)
            and all(move.move_type == "out_invoice" for move in self)
        ):
            return self.env.ref("isp_billing.mail_template_isp_invoice")
        return super()._get_mail_template()

    def _isp_queue_sending(self):
        """Queue posted subscription invoices for Odoo's invoice sending (PDF,
        email with the portal link), done in batches by Odoo's own sending job."""
        to_send = self.filtered(
            lambda move: (
                move.state == "posted"
                and move.company_id.isp_send_invoices
                and not move.is_move_sent
                and not move.sending_data
            )
        )
        self.env["isp.autopay.attempt"]._schedule_first(
            self.filtered(lambda m: m.move_type == "out_invoice")
        )
        if not to_send:
            return
        to_send.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _isp_action_view(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["context"] = {"default_move_type": "out_invoice"}
        if len(self) == 1:
            action["views"] = [(self.env.ref("account.view_move_form").id, "form")]
            action["res_id"] = self.id
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action

    # ------------------------------------------------------------------
    # What the subscriber reads (mail and SMS templates, invoice PDF)
    # ------------------------------------------------------------------

    def _isp_balance(self):
        """The customer's one balance (``isp.subscription._isp_balance``) for
        the texts about this invoice: e-mails and SMS show it, not the
        invoice's residual alone. An invoice without subscription: its
        residual.

        :rtype: float
        """
        self.ensure_one()
        subscription = self.isp_subscription_ids[:1]
        if not subscription:
            return self.amount_residual
        return subscription._isp_balance()

    def _isp_payment_instructions(self):
        """How to pay this invoice outside the portal: the payment
        instructions of its subscriptions (hook
        ``isp.subscription._isp_payment_instructions``), without repeats.

        :rtype: list[str]
        """
        self.ensure_one()
        texts = []
        for subscription in self.isp_subscription_ids:
            for text in subscription._isp_payment_instructions():
                if text not in texts:
                    texts.append(text)
        return texts

    def _isp_sms_payment_text(self):
        """The end of a reminder SMS: the payment instructions, or, without
        any, the account number(s) to quote."""
        self.ensure_one()
        texts = self._isp_payment_instructions()
        if texts:
            return "; ".join(texts)
        return self.env._("Account %(account)s", account=self.isp_account_numbers or "")
