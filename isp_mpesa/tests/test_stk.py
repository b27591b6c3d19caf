# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""STK push (M-PESA Express) from the backend, its callback, its status
query, against the local Daraja simulator over real HTTP."""

import json

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import PHONE, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, IspMpesaCommon

TX_LOGGER = "odoo.addons.isp_mpesa.models.payment_transaction"
CTRL_LOGGER = "odoo.addons.isp_mpesa.controllers.main"
PROVIDER_LOGGER = "odoo.addons.isp_mpesa.models.payment_provider"


@tagged("post_install", "-at_install")
class TestStkPush(IspMpesaCommon):
    def test_push_then_callback_pays_the_invoice_once(self):
        invoice = self._invoice(2999.0)
        tx = self._request_payment(invoice, phone="0712 345 678")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.amount, 2999.0)
        self.assertEqual(tx.mpesa_phone, PHONE)

        # What reached "Safaricom"
        self.assertEqual(len(self.sim.pushes), 1)
        push = self.sim.pushes[0]
        self.assertEqual(push["Amount"], 2999)
        self.assertEqual(push["PhoneNumber"], PHONE)
        self.assertEqual(push["PartyA"], PHONE)
        self.assertEqual(push["PartyB"], SANDBOX_SHORTCODE)
        self.assertEqual(push["TransactionType"], "CustomerPayBillOnline")
        self.assertEqual(
            self.decode_password(push["Password"]),
            SANDBOX_SHORTCODE + SANDBOX_PASSKEY + push["Timestamp"],
        )
        self.assertEqual(
            push["CallBackURL"], f"{self.odoo_url}/payment/daraja/stk/{self.token}"
        )
        self.assertLessEqual(len(push["AccountReference"]), 12)
        self.assertEqual(
            tx.mpesa_checkout_request_id, self.sim.pushes[0]["CheckoutRequestID"]
        )

        deliveries = self.deliver()
        self.assertEqual([d.status for d in deliveries], [200])
        self.assertEqual(
            deliveries[0].json(), {"ResultCode": 0, "ResultDesc": "Accepted"}
        )
        receipt = self.sim.receipt_for(tx.mpesa_checkout_request_id)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.mpesa_receipt, receipt)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = self.payments_of()
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.amount, 2999.0)
        ledger = self.env["isp.mpesa.payment"].search([("name", "=", receipt)])
        self.assertEqual(
            (ledger.channel, ledger.state, ledger.amount), ("stk", "matched", 2999.0)
        )
        # the success was confirmed with a status query before anything was paid
        self.assertEqual(
            [q["CheckoutRequestID"] for q in self.sim.queries],
            [tx.mpesa_checkout_request_id],
        )

        # the same callback again: nothing more (not even a second copy of it)
        again = self._post(self.stk_url(), deliveries[0].payload)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(tx.mpesa_log.count('"stk_callback"'), 1)
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_callback_answers_first_the_payment_follows(self):
        """The callback is kept and answered, nothing else in the request;
        the payments job, triggered at once, confirms it with M-PESA (the
        receipt claimed, the transaction done), then makes the payment."""
        invoice = self._invoice(2999.0)
        tx = self._request_payment(invoice)
        cron = self.env.ref("isp_mpesa.ir_cron_mpesa_post_process")
        Trigger = self.env["ir.cron.trigger"].sudo()
        # none pending (a kept database may hold one from an earlier run)
        Trigger.search([("cron_id", "=", cron.id)]).unlink()

        deliveries = self.deliver(post_process=False, process=False)
        self.assertEqual([d.status for d in deliveries], [200])
        self.assertEqual(
            deliveries[0].json(), {"ResultCode": 0, "ResultDesc": "Accepted"}
        )
        kept = self.inbox()
        self.assertEqual(
            [(c.kind, c.key, c.state) for c in kept],
            [("stk", tx.mpesa_checkout_request_id, "new")],
        )
        self.assertEqual(
            json.loads(kept.sudo().body), deliveries[0].payload
        )  # as Daraja sent it
        self.assertEqual((tx.state, tx.mpesa_receipt), ("pending", False))
        self.assertFalse(self.sim.queries)  # not even the status query yet
        receipt = self.sim.receipt_for(tx.mpesa_checkout_request_id)
        self.assertFalse(self.env["isp.mpesa.payment"].search([("name", "=", receipt)]))
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)

        self.process_callbacks()
        self.assertEqual(kept.state, "done")
        self.assertEqual(len(self.sim.queries), 1)
        self.assertEqual((tx.state, tx.mpesa_receipt), ("done", receipt))
        self.assertFalse(tx.is_post_processed)
        self.assertFalse(self.payments_of())
        self.assertEqual(invoice.amount_residual, 2999.0)
        self.assertEqual(
            self.env["isp.mpesa.payment"].search([("name", "=", receipt)]).state,
            "matched",
        )
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)
        # the invoice is told by the job, with the payment
        self.assertFalse(self.confirmed_messages(invoice, tx))

        self.run_post_processing()
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(self.payments_of().amount, 2999.0)
        self.assertEqual(tx.payment_id, self.payments_of())
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(len(self.confirmed_messages(invoice, tx)), 1)
        self.run_post_processing()  # nothing left: nothing more
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(len(self.confirmed_messages(invoice, tx)), 1)

    def test_without_the_payments_job_the_callback_does_it_all(self):
        """With the payments job switched off, the callback is processed in
        the request, payment included."""
        self.env.ref("isp_mpesa.ir_cron_mpesa_post_process").active = False
        invoice = self._invoice(1800.0)
        tx = self._request_payment(invoice)
        deliveries = self.deliver(post_process=False, process=False)
        self.assertEqual([d.status for d in deliveries], [200])
        self.assertEqual(self.inbox().mapped("state"), ["done"])
        self.assertEqual(tx.state, "done")
        self.assertEqual(self.payments_of().amount, 1800.0)
        self.assertEqual(tx.payment_id, self.payments_of())
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_job_leaves_the_other_payments_alone(self):
        """A run of the payments job with no payment to make (here the
        callback of a prompt cancelled on the phone) does not walk the other
        payments: Odoo's post-processing, called with none, takes every
        transaction not post-processed yet."""
        waiting = self._request_payment(self._invoice(100.0))
        self.sim.script(self.Outcome(result_code=1032), amount=200)
        cancelled = self._request_payment(self._invoice(200.0), phone="0722000009")
        self.assertEqual((waiting.state, waiting.is_post_processed), ("pending", False))
        self.deliver(cancelled.mpesa_checkout_request_id)
        self.assertEqual(cancelled.state, "cancel")
        self.assertEqual((waiting.state, waiting.is_post_processed), ("pending", False))
        self.assertFalse(self.payments_of())

    def confirmed_messages(self, invoice, tx):
        return invoice.message_ids.filtered(
            lambda m: tx.reference in m.body and "has been confirmed" in m.body
        )

    def test_duplicate_delivery_makes_one_payment(self):
        invoice = self._invoice(1500.0)
        self.sim.script(self.Outcome(delivery="duplicate"))
        tx = self._request_payment(invoice)
        deliveries = self.deliver()
        self.assertEqual([d.status for d in deliveries], [200, 200])
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(self.payments_of().amount, 1500.0)

    def test_cents_are_rounded_up_to_whole_shillings(self):
        invoice = self._invoice(1234.56)
        tx = self._request_payment(invoice)
        # M-PESA moves whole shillings: 1,234.56 → 1,235; 0.44 stays as credit.
        self.assertEqual(self.sim.pushes[0]["Amount"], 1235)
        self.assertEqual(tx.amount, 1235.0)
        self.deliver()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self.payments_of().amount, 1235.0)
        self.assertAlmostEqual(self.customer.credit, -0.44, places=2)

    def test_failures_in_plain_words(self):
        cases = [
            (1032, "cancel", "You cancelled the payment on your phone."),
            (1037, "cancel", "Your phone could not be reached."),
            (2001, "error", "The M-PESA PIN was wrong. Try again."),
            (1, "error", "Your M-PESA balance is not enough for this payment."),
        ]
        for code, state, words in cases:
            with self.subTest(code=code):
                invoice = self._invoice(100.0)
                self.sim.script(self.Outcome(result_code=code))
                tx = self._request_payment(invoice)
                self.deliver()
                self.assertEqual(tx.state, state)
                self.assertIn(words, tx.state_message)
                self.assertEqual(tx.mpesa_result_code, str(code))
                self.assertEqual(invoice.amount_residual, 100.0)
        self.assertFalse(self.payments_of())

    def test_other_currencies_refused(self):
        usd = self.env.ref("base.USD")
        usd.active = True
        # A new USD invoice (a posted one cannot go back to draft: the
        # invoices' journal is hashed, issue #15).
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "currency_id": usd.id,
                "invoice_date": self.d("2026-11-01"),
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.plan_home.id, "price_unit": 100.0})
                ],
            }
        )
        invoice.action_post()
        with self.assertRaisesRegex(UserError, "Kenyan shillings only"):
            self._request_payment(invoice)
        self.assertFalse(self.sim.pushes)
        self.assertNotIn(
            self.provider,
            self.env["payment.provider"]._get_compatible_providers(
                self.company.id, self.customer.id, 100.0, currency_id=usd.id
            ),
        )

    def test_invalid_phone_refused_and_nothing_sent(self):
        invoice = self._invoice(500.0)
        for phone in ("0812 345 678", "12345", "+44 7700 900123", "07123456789"):
            with self.subTest(phone=phone):
                with self.assertRaisesRegex(UserError, "not an M-PESA phone number"):
                    self._request_payment(invoice, phone=phone)
        self.assertFalse(self.sim.pushes)
        self.assertFalse(
            self.env["payment.transaction"].search(
                [("provider_id", "=", self.provider.id)]
            )
        )

    def test_daraja_refusal_is_a_clear_error(self):
        invoice = self._invoice(500.0)
        self.sim.script(self.Outcome(delay=120))
        self._request_payment(invoice)  # the phone now has a live prompt
        with (
            mute_logger(PROVIDER_LOGGER),
            self.assertRaisesRegex(
                UserError, "Another M-PESA transaction is in progress"
            ),
        ):
            self._request_payment(self._invoice(600.0))
        self.assertEqual(len(self.sim.pushes), 1)

    def test_expired_token_is_refreshed_once(self):
        self._request_payment(self._invoice(100.0))
        self.sim.settle(self.sim.pushes[0]["CheckoutRequestID"])
        self.deliver()
        self.sim.expire_tokens()
        tx = self._request_payment(self._invoice(200.0))
        self.assertEqual(tx.state, "pending")
        self.assertEqual(len(self.sim.pushes), 2)

    def test_amount_mismatch_is_not_believed(self):
        invoice = self._invoice(2999.0)
        self.sim.script(self.Outcome(paid_amount=1))
        tx = self._request_payment(invoice)
        with self.assertLogs(TX_LOGGER, "WARNING") as logs:
            self.deliver()
        self.assertIn("reports KES 1", "\n".join(logs.output))
        self.assertEqual(tx.state, "pending")
        self.assertFalse(self.payments_of())
        self.assertEqual(invoice.amount_residual, 2999.0)

    def test_forged_success_for_a_cancelled_push_is_ignored(self):
        invoice = self._invoice(800.0)
        self.sim.script(self.Outcome(result_code=1032))
        tx = self._request_payment(invoice)
        checkout = tx.mpesa_checkout_request_id
        self.sim.settle(checkout)
        forged = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": tx.mpesa_merchant_request_id,
                    "CheckoutRequestID": checkout,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 800.0},
                            {"Name": "MpesaReceiptNumber", "Value": "FAKE123456"},
                            {"Name": "TransactionDate", "Value": 20261125101500},
                            {"Name": "PhoneNumber", "Value": 254712345678},
                        ]
                    },
                }
            }
        }
        with self.assertLogs(TX_LOGGER, "WARNING") as logs:
            response = self._post(self.stk_url(), forged)
        self.assertEqual(response.status_code, 200)
        self.assertIn("M-PESA says 1032", "\n".join(logs.output))
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(self.payments_of())
        self.assertFalse(
            self.env["isp.mpesa.payment"].search([("name", "=", "FAKE123456")])
        )

    def test_bad_callbacks_answered_and_nothing_written(self):
        invoice = self._invoice(700.0)
        tx = self._request_payment(invoice)
        self.sim.settle(tx.mpesa_checkout_request_id)
        good = self.sim.stk_callback_payload(tx.mpesa_checkout_request_id)
        ledger_before = self.env["isp.mpesa.payment"].search_count([])
        with mute_logger(CTRL_LOGGER):
            cases = [
                (self.stk_url("wrong-token"), good, False, 403),
                (self.stk_url(), "{not json", True, 400),
                (self.stk_url(), "", True, 400),
                (self.stk_url(), "[1, 2]", True, 400),
                (self.stk_url(), {"Body": {}}, False, 400),
            ]
            for url, body, raw, status in cases:
                with self.subTest(url=url, body=str(body)[:20]):
                    self.assertEqual(self._post(url, body, raw=raw).status_code, status)
        self.assertEqual(tx.state, "pending")
        self.assertFalse(self.payments_of())
        self.assertEqual(self.env["isp.mpesa.payment"].search_count([]), ledger_before)
        self.assertFalse(self.inbox())  # nothing kept for the job either

    def test_unknown_checkout_request(self):
        # A success for a request Odoo never sent, which M-PESA does not know:
        # forged; nothing kept.
        forged = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "1-2-3",
                    "CheckoutRequestID": "ws_CO_000000000000000000",
                    "ResultCode": 0,
                    "ResultDesc": "ok",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 5000},
                            {"Name": "MpesaReceiptNumber", "Value": "ZZZ1234567"},
                        ]
                    },
                }
            }
        }
        with (
            mute_logger(PROVIDER_LOGGER),
            self.assertLogs(
                "odoo.addons.isp_mpesa.models.isp_mpesa_payment", "WARNING"
            ) as logs,
        ):
            response = self._post(self.stk_url(), forged)
        self.assertEqual(response.status_code, 200)
        self.assertIn("not confirmed by M-PESA", "\n".join(logs.output))
        self.assertFalse(
            self.env["isp.mpesa.payment"].search([("name", "=", "ZZZ1234567")])
        )

    def test_status_job_settles_lost_callbacks(self):
        invoice = self._invoice(2999.0)
        lost = self._invoice(1000.0)
        cancelled = self._invoice(500.0)
        self.sim.script(self.Outcome(delivery="drop", query_pending="A"), amount=2999)
        self.sim.script(
            self.Outcome(delivery="drop", query_pending="B", delay=3600), amount=1000
        )
        self.sim.script(self.Outcome(delivery="drop", result_code=1032), amount=500)
        processing = self._invoice(700.0)
        self.sim.script(
            self.Outcome(delivery="drop", query_pending="A", delay=3600), amount=700
        )
        tx_paid = self._request_payment(invoice, phone="0712345678")
        tx_pending = self._request_payment(lost, phone="0722000001")
        tx_cancel = self._request_payment(cancelled, phone="0722000002")
        tx_processing = self._request_payment(processing, phone="0722000003")
        txs = tx_paid | tx_pending | tx_cancel | tx_processing
        Tx = self.env["payment.transaction"]
        # not before 30 s
        self.assertEqual(Tx._cron_mpesa_query_pending(), 0)
        self.age(txs, 31)
        with mute_logger(PROVIDER_LOGGER):
            self.assertEqual(Tx._cron_mpesa_query_pending(), 4)
        # "being processed" (HTTP 500, form A) is not a failure either
        self.assertEqual(tx_processing.state, "pending")
        self.assertEqual(tx_processing.mpesa_query_count, 1)
        self.assertEqual(tx_paid.state, "done")
        self.assertFalse(tx_paid.mpesa_receipt, "a query gives no receipt")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(tx_cancel.state, "cancel")
        self.assertIn("You cancelled", tx_cancel.state_message)
        # still processing (form B) is not a failure: asked again later
        self.assertEqual(tx_pending.state, "pending")
        self.assertEqual(tx_pending.mpesa_query_count, 1)
        self.assertEqual(Tx._cron_mpesa_query_pending(), 0, "backing off")
        self.age(tx_pending, 31)
        self.assertEqual(Tx._cron_mpesa_query_pending(), 1)
        self.assertEqual(tx_pending.mpesa_query_count, 2)
        # after a day: unknown, to reconcile by hand
        self.age(tx_pending, 24 * 3600)
        with mute_logger(TX_LOGGER):
            self.assertEqual(Tx._cron_mpesa_query_pending(), 1)
        self.assertEqual(tx_pending.state, "error")
        self.assertTrue(tx_pending.mpesa_unknown)
        self.assertIn("reconcile by hand", tx_pending.state_message)
        self.assertEqual(len(self.payments_of()), 1)
        self.assertEqual(lost.amount_residual, 1000.0)

    def test_status_job_respects_rate_limits(self):
        invoices = [self._invoice(100.0 + i) for i in range(3)]
        self.sim.script(self.Outcome(delivery="drop"))
        txs = self.env["payment.transaction"]
        for i, inv in enumerate(invoices):
            txs |= self._request_payment(inv, phone=f"072200000{i}")
        self.sim.rate_limit_queries(1)
        self.age(txs, 31)
        with mute_logger(PROVIDER_LOGGER):
            self.env["payment.transaction"]._cron_mpesa_query_pending()
        self.assertEqual(sorted(txs.mapped("state")), ["done", "pending", "pending"])
        self.assertEqual(len(self.sim.queries), 2, "stopped at the first refusal")

    def test_stk_and_paybill_confirmation_of_one_payment(self):
        invoice = self._invoice(2000.0)
        self.provider.action_mpesa_register_c2b()
        self.sim.script(self.Outcome(also_c2b=True))
        tx = self._request_payment(invoice)
        deliveries = self.deliver()
        kinds = [d.kind for d in deliveries]
        self.assertEqual(kinds, ["stk", "c2b_confirmation"])
        self.assertEqual([d.status for d in deliveries], [200, 200])
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self.payments_of()), 1)
        ledger = self.env["isp.mpesa.payment"].search([("name", "=", tx.mpesa_receipt)])
        self.assertEqual(ledger.channel, "both")
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_paybill_confirmation_first_under_another_account(self):
        """The paybill confirmation of an STK payment arrives first, typed
        with the invoice number (not the prompt's account), and the STK
        callback comes before the job has recorded it: the STK payment takes
        the receipt, and the job leaves it alone."""
        invoice = self._invoice(2000.0)
        tx = self._request_payment(invoice)
        receipt = self.sim.receipt_for(tx.mpesa_checkout_request_id)
        body = self.c2b_body(receipt, "2000.00", invoice.name)
        self.assertEqual(
            self._post(self.confirm_url(), body, post_process=False).status_code, 200
        )
        ledger = self.env["isp.mpesa.payment"].search([("name", "=", receipt)])
        self.assertEqual(ledger.state, "received")
        self.deliver(post_process=False)
        self.assertEqual((tx.state, tx.mpesa_receipt), ("done", receipt))
        self.assertEqual((ledger.channel, ledger.state), ("both", "matched"))
        self.assertEqual(ledger.transaction_id, tx)
        self.assertFalse(self.payments_of())

        self.run_post_processing()
        payment = self.payments_of()
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.amount, 2000.0)
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(ledger.transaction_id, tx)

    def test_paybill_payment_recorded_then_stk_callback(self):
        """Same, but the job recorded the paybill payment before the STK
        callback came: the STK payment is marked paid with that payment, no
        second one."""
        invoice = self._invoice(2000.0)
        tx = self._request_payment(invoice)
        receipt = self.sim.receipt_for(tx.mpesa_checkout_request_id)
        body = self.c2b_body(receipt, "2000.00", invoice.name)
        self.assertEqual(self._post(self.confirm_url(), body).status_code, 200)
        ledger = self.env["isp.mpesa.payment"].search([("name", "=", receipt)])
        self.assertEqual((ledger.channel, ledger.state), ("c2b", "matched"))
        payment = self.payments_of()
        self.assertEqual(payment.amount, 2000.0)
        self.assertEqual(invoice.amount_residual, 0.0)

        self.deliver()
        self.assertEqual((tx.state, tx.mpesa_receipt), ("done", receipt))
        self.assertEqual(self.payments_of(), payment)
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual((ledger.channel, ledger.state), ("both", "matched"))
        self.assertNotEqual(ledger.transaction_id, tx)

    def test_paying_reconnects_a_subscription_suspended_for_nonpayment(self):
        with freeze_time("2026-11-01 09:00:00"):
            sub = self._active_subscription(
                self.plan_home, self.d("2026-11-01"), anchor=self.d("2026-11-01")
            )
            invoice = self._bill(sub, self.d("2026-11-01"))
        with freeze_time("2026-11-09 09:00:00"):
            sub.action_suspend("Invoice unpaid 8 days", kind="nonpayment")
            tx = self._request_payment(invoice)
            self.assertEqual(self.sim.pushes[0]["AccountReference"], sub.account_number)
            self.deliver()
            self.assertEqual(tx.state, "done")
            self.assertEqual(invoice.amount_residual, 0.0)
            self.assertEqual(sub.state, "active")
            self.assertEqual(sub.state_reason, "Overdue invoices paid")
