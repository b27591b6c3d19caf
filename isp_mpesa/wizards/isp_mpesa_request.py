# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.account_move import check_staff
from ..utils import mask_msisdn, normalize_msisdn


class IspMpesaRequest(models.TransientModel):
    """Send an M-PESA prompt (STK push) to the customer's phone for open
    invoices, from the backend."""

    _name = "isp.mpesa.request"
    _description = "Request an M-PESA payment"

    invoice_ids = fields.Many2many("account.move", required=True)
    partner_id = fields.Many2one(
        "res.partner", compute="_compute_partner_id", store=True
    )
    company_id = fields.Many2one(
        "res.company", compute="_compute_partner_id", store=True
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_partner_id", store=True
    )
    provider_id = fields.Many2one(
        "payment.provider",
        string="M-PESA account",
        compute="_compute_provider_id",
        store=True,
        readonly=False,
        domain="[('code', '=', 'mpesa'), ('state', '!=', 'disabled'),"
        " ('company_id', '=', company_id)]",
    )
    phone = fields.Char(
        compute="_compute_phone",
        store=True,
        readonly=False,
        help="Kenyan mobile number that receives the prompt.",
    )
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        readonly=False,
        currency_field="currency_id",
    )

    @api.depends("invoice_ids")
    def _compute_partner_id(self):
        for wizard in self:
            partner = wizard.invoice_ids.partner_id.commercial_partner_id
            if len(partner) > 1:
                raise UserError(self.env._("Pick invoices of one customer."))
            wizard.partner_id = partner
            wizard.company_id = wizard.invoice_ids.company_id[:1]
            wizard.currency_id = wizard.invoice_ids.currency_id[:1]

    @api.depends("company_id")
    def _compute_provider_id(self):
        for wizard in self:
            # the M-PESA account is picked for the staff member, who need not
            # read payment providers (their secrets stay hidden)
            wizard.provider_id = (
                self.env["payment.provider"]
                .sudo()
                .search(
                    [
                        ("code", "=", "mpesa"),
                        ("state", "!=", "disabled"),
                        ("company_id", "=", wizard.company_id.id),
                    ],
                    limit=1,
                )
            )

    @api.depends("partner_id")
    def _compute_phone(self):
        for wizard in self:
            partner = wizard.partner_id
            wizard.phone = next(
                (
                    number
                    for number in (partner.mobile, partner.phone)
                    if normalize_msisdn(number)
                ),
                partner.mobile or partner.phone,
            )

    @api.depends("invoice_ids")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = sum(wizard.invoice_ids.mapped("amount_residual"))

    def action_send(self):
        """Send the prompt: invoicing staff (ISP / User included), for
        invoices they can read, through an M-PESA provider of the invoices'
        company that is not disabled."""
        self.ensure_one()
        check_staff(self.env)
        self.check_access("write")
        self.invoice_ids.check_access("read")
        provider = self.provider_id.sudo()
        if (
            not provider
            or provider.code != "mpesa"
            or provider.state == "disabled"
            or provider.company_id != self.company_id
        ):
            raise UserError(
                self.env._(
                    "Set up M-PESA first (Accounting ▸ Configuration ▸ Payment "
                    "Providers)."
                )
            )
        if self.amount <= 0:
            raise UserError(self.env._("Nothing to pay."))
        if not normalize_msisdn(self.phone):
            raise UserError(
                self.env._(
                    "“%s” is not an M-PESA phone number. Use a Kenyan mobile number "
                    "such as 0712 345 678.",
                    self.phone or "",
                )
            )
        Tx = self.env["payment.transaction"].sudo()
        tx = Tx.create(
            {
                "provider_id": self.provider_id.id,
                "payment_method_id": self.env.ref("payment.payment_method_mpesa").id,
                "reference": Tx._compute_reference(
                    "mpesa", invoice_ids=[Command.set(self.invoice_ids.ids)]
                ),
                "amount": self.amount,
                "currency_id": self.currency_id.id,
                "partner_id": self.partner_id.id,
                "operation": "online_direct",
                "invoice_ids": [Command.set(self.invoice_ids.ids)],
            }
        )
        tx._mpesa_send_stk_push(self.phone)
        for invoice in self.invoice_ids:
            invoice.message_post(
                body=self.env._(
                    "M-PESA prompt for KES %(amount)s sent to %(phone)s (%(ref)s).",
                    amount=tx.amount,
                    phone=mask_msisdn(tx.mpesa_phone),
                    ref=tx.reference,
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "M-PESA prompt sent to %s. The payment appears on the invoice "
                    "when the customer enters the PIN.",
                    mask_msisdn(tx.mpesa_phone),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
