# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command

from odoo.addons.isp_billing.tests.common import IspBillingCommon


class PaymentRiskCommon(IspBillingCommon):
    """Four subscriptions billed on the 5th of every month from 5 November
    2025 to 5 November 2026 (13 invoices each, due 15 days later, on the
    20th): ``punctual_1`` and ``punctual_2`` pay every invoice 3 days after
    its date, ``late_1`` and ``late_2`` 10 days after its due date. The last
    invoice of each (5 November 2026) is open. Scored on 10 November 2026
    (``TODAY``): 48 settled invoices, 24 of them late."""

    TODAY = IspBillingCommon.d("2026-11-10")
    FIRST = IspBillingCommon.d("2025-11-05")
    MONTHS = 13

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"isp_risk_min_invoices": 40, "isp_risk_min_months": 6})
        cls.bank = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1
        )
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": f"Risk customer {n}", "email": f"r{n}@example.com"}
                for n in range(4)
            ]
        )
        cls.subs = cls.env["isp.subscription"]
        for partner in cls.partners:
            cls.subs |= cls._create_subscription(
                cls.plan_home, cls.FIRST, partner=partner
            )
        cls.punctual_1, cls.punctual_2, cls.late_1, cls.late_2 = cls.subs
        cls.invoices = {sub: [] for sub in cls.subs}
        for n in range(cls.MONTHS):
            day = cls.FIRST + relativedelta(months=n)
            due = day + timedelta(days=15)
            for sub in cls.subs:
                invoice = cls._risk_invoice(sub, day, due, 2999.0)
                cls.invoices[sub].append(invoice)
        for n in range(cls.MONTHS - 1):
            for sub in cls.subs:
                invoice = cls.invoices[sub][n]
                if sub in (cls.punctual_1, cls.punctual_2):
                    paid = invoice.invoice_date + timedelta(days=3)
                else:
                    paid = invoice.invoice_date_due + timedelta(days=10)
                cls._pay(invoice, paid)
        cls.open_invoices = cls.env["account.move"].concat(
            *(cls.invoices[sub][-1] for sub in cls.subs)
        )

    @classmethod
    def _risk_invoice(cls, sub, day, due, amount):
        move = (
            cls.env["account.move"]
            .with_company(cls.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": sub.partner_id.id,
                    "invoice_date": day,
                    "date": day,
                    "invoice_date_due": due,
                    "currency_id": cls.kes.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "10 Mbps Home",
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                                "account_id": cls.income_account.id,
                                "isp_subscription_id": sub.id,
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, day):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": day, "journal_id": cls.bank.id})
            ._create_payments()
        )

    @property
    def service(self):
        return self.env["isp.payment.risk.service"]

    def _train_and_score(self, today=None):
        today = today or self.TODAY
        model = self.service._train(self.company, today)
        self.service._score(self.company, today)
        self.env.invalidate_all()
        return model
