# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Shared set-up: a Kenyan ISP with an M-PESA provider pointed at the local
Daraja simulator (tests/daraja_simulator.py), which posts its callbacks to
this Odoo's test HTTP server."""

import base64
import json
import sys
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase

from odoo.addons.isp_billing.tests.common import IspBillingCommon

REPO_TESTS = Path(__file__).resolve().parents[2] / "tests"
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
PHONE = "254712345678"  # the test customer's 0712 345 678


def daraja_simulator_module():
    if str(REPO_TESTS) not in sys.path:
        sys.path.insert(0, str(REPO_TESTS))
    import daraja_simulator  # noqa: PLC0415

    return daraja_simulator


class IspMpesaCommon(IspBillingCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sim_module = daraja_simulator_module()
        cls.Outcome = sim_module.Outcome
        cls.sim = sim_module.DarajaSimulator(
            consumer_key="test-key",
            consumer_secret="test-secret",
            shortcode=SANDBOX_SHORTCODE,
            passkey=SANDBOX_PASSKEY,
            c2b_shortcode=SANDBOX_SHORTCODE,
            auto_deliver=False,
        )
        cls.sim_url = cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        cls.odoo_url = f"http://127.0.0.1:{odoo.tools.config['http_port']}"

        cls.bank_journal = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1
        )
        cls.provider = (
            cls.env["payment.provider"]
            .sudo()
            .create(
                {
                    "name": "M-PESA (test)",
                    "code": "mpesa",
                    "state": "test",
                    "is_published": True,
                    "company_id": cls.company.id,
                    "mpesa_consumer_key": "test-key",
                    "mpesa_consumer_secret": "test-secret",
                    "mpesa_shortcode": SANDBOX_SHORTCODE,
                    "mpesa_passkey": SANDBOX_PASSKEY,
                    "mpesa_base_url": cls.sim_url,
                    "mpesa_callback_base_url": cls.odoo_url,
                    "payment_method_ids": [
                        (6, 0, [cls.env.ref("payment.payment_method_mpesa").id])
                    ],
                    "inline_form_view_id": cls.env.ref("isp_mpesa.inline_form").id,
                }
            )
        )
        cls.provider.journal_id = cls.bank_journal
        cls.env.ref("payment.payment_method_mpesa").active = True
        cls.token = cls.provider.mpesa_callback_token

    def setUp(self):
        super().setUp()
        self.sim.reset()

    # === helpers === #

    def _invoice(self, amount=2999.0, day="2026-11-01", partner=None):
        """A posted KES invoice for the customer (``amount``, no taxes)."""
        product = self._isp_product(f"Service {amount}", amount)
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.customer).id,
                "company_id": self.company.id,
                "currency_id": self.kes.id,
                "invoice_date": self.d(day),
                "invoice_date_due": self.d(day),
                "invoice_line_ids": [
                    (0, 0, {"product_id": product.id, "price_unit": amount})
                ],
            }
        )
        move.action_post()
        return move

    def _request_payment(self, invoices, phone=PHONE):
        """Staff's "Request M-PESA payment": the transaction it created."""
        wizard = (
            self.env["isp.mpesa.request"]
            .with_context(default_invoice_ids=invoices.ids)
            .create({"phone": phone})
        )
        before = self.env["payment.transaction"].search([]).ids
        wizard.action_send()
        return self.env["payment.transaction"].search([("id", "not in", before)])

    def run_post_processing(self):
        """What the payments job does moments after a callback triggered it:
        process the callbacks kept in the inbox, then create, post and
        reconcile the payments (in a cursor of its own, as the job has: it
        commits one transaction at a time)."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})[
                "payment.transaction"
            ]._cron_mpesa_post_process()
        self.env.invalidate_all()

    def process_callbacks(self):
        """The first part of the payments job only: the callbacks kept in the
        inbox are processed (transactions settled, receipts claimed), the
        payments are not made yet."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            Inbox = api.Environment(cr, SUPERUSER_ID, {})["isp.mpesa.callback"]
            tried = []
            while batch := Inbox.with_context(
                mpesa_defer_post_process=True
            )._mpesa_process_new(exclude=tried):
                tried += batch
        self.env.invalidate_all()

    def _then(self, post_process, process):
        if post_process:
            self.run_post_processing()
        elif process:
            self.process_callbacks()

    def _post(self, path, body, raw=False, post_process=True, process=True):
        """POST to this Odoo like Daraja does; the response. Then the payments
        job runs (``post_process``), or only its first part (``process``:
        the inbox), or nothing."""
        data = body if raw else json.dumps(body)
        self.env.flush_all()
        response = self.opener.post(
            f"{self.odoo_url}{path}",
            data=data.encode() if isinstance(data, str) else data,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        self.env.invalidate_all()
        self._then(post_process, process)
        return response

    def deliver(self, checkout_request_id=None, post_process=True, process=True):
        """The simulator POSTs its due callbacks to this Odoo now; then as
        ``_post``."""
        self.env.flush_all()
        deliveries = self.sim.deliver(checkout_request_id)
        self.env.invalidate_all()
        self._then(post_process, process)
        return deliveries

    def c2b_pay(self, *args, post_process=True, process=True, **kwargs):
        self.env.flush_all()
        result = self.sim.c2b_pay(*args, **kwargs)
        self.env.invalidate_all()
        self._then(post_process, process)
        return result

    def inbox(self, **domain):
        """The callbacks kept, oldest first (``kind``, ``key``, ``state``)."""
        return self.env["isp.mpesa.callback"].search(
            [("provider_id", "=", self.provider.id)]
            + [(field, "=", value) for field, value in domain.items()],
            order="id",
        )

    def stk_url(self, token=None):
        return f"/payment/daraja/stk/{token or self.token}"

    def confirm_url(self, token=None):
        return f"/payment/daraja/c2b/confirm/{token or self.token}"

    def validate_url(self, token=None):
        return f"/payment/daraja/c2b/validate/{token or self.token}"

    def c2b_body(self, trans_id, amount, bill_ref, msisdn=PHONE):
        return {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": "20261125101500",
            "TransAmount": amount,
            "BusinessShortCode": SANDBOX_SHORTCODE,
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": "125000.00",
            "ThirdPartyTransID": "",
            "MSISDN": msisdn,
            "FirstName": "WANJIRU",
            "MiddleName": "",
            "LastName": "",
        }

    def age(self, txs, seconds):
        """Move transactions ``seconds`` into the past (the simulator runs on
        real time, so the status job's clock is not frozen but the data aged)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE payment_transaction
               SET create_date = create_date - make_interval(secs => %s),
                   mpesa_next_query = mpesa_next_query - make_interval(secs => %s)
             WHERE id IN %s
            """,
            [seconds, seconds, tuple(txs.ids)],
        )
        self.env.invalidate_all()

    @staticmethod
    def decode_password(password):
        return base64.b64decode(password).decode()

    def payments_of(self, partner=None):
        return self.env["account.payment"].search(
            [("partner_id", "=", (partner or self.customer).id)]
        )
