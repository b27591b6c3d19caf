"""The M-PESA payments job against invoices the invoice sending holds, with two
real, committing PostgreSQL transactions.

Odoo's *Send invoices* job locks the invoices it sends (``FOR UPDATE``) for
its whole transaction, the rendering of their PDFs included. A payment the
M-PESA payments job reconciles with one of them used to wait for that lock,
then fail with "could not serialize access due to concurrent update" once the
sending committed, logged as ERROR. The job must instead leave that payment
for a later run (a trigger), without waiting and without ERROR, and record it
on that run.
"""

import logging
import secrets
import threading

import pytest

import harness
from mpesa_shop import create_mpesa_shop

AMOUNT = 2999.0
RUN = secrets.token_hex(3).upper()


class ErrorRecords(logging.Handler):
    """The ERROR (and worse) records Odoo logs while installed."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture()
def paid_invoice(env_factory):
    """A posted KES invoice of AMOUNT and a done M-PESA payment of it not yet
    recorded in accounting (what a confirmation leaves to the payments job),
    committed. Yields (invoice id, transaction id)."""
    from odoo import Command  # noqa: PLC0415

    env = env_factory()
    company, provider = create_mpesa_shop(
        env,
        f"M-PESA lock {RUN}",
        {
            "consumer_key": "lock-key",
            "consumer_secret": "lock-secret",
            "shortcode": "174379",
            "passkey": "lock-passkey",
        },
        "http://127.0.0.1:9",  # never called: the payment is already confirmed
        "http://127.0.0.1:9",
    )
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    partner = env["res.partner"].create({"name": f"Lock customer {RUN}"})
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": company.id,
            "currency_id": env.ref("base.KES").id,
            "invoice_date": "2026-11-01",
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Internet, November",
                        "quantity": 1,
                        "price_unit": AMOUNT,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
    )
    invoice.action_post()
    receipt = f"LCK{RUN}1"
    tx = env["payment.transaction"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref("payment.payment_method_mpesa").id,
            "reference": f"LOCK-{RUN}",
            "amount": AMOUNT,
            "currency_id": env.ref("base.KES").id,
            "partner_id": partner.id,
            "operation": "online_direct",
            "provider_reference": receipt,
            "mpesa_receipt": receipt,
            "invoice_ids": [Command.set(invoice.ids)],
        }
    )
    tx._set_done()
    env.cr.commit()
    yield invoice.id, tx.id
    # A failed run leaves no payment behind for the other tests' payments job.
    env.cr.rollback()
    tx.invalidate_recordset()
    tx.is_post_processed = True
    provider.state = "disabled"
    env.cr.commit()


def backend_waits_on_lock(env, pid):
    env.cr.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
    row = env.cr.fetchone()
    return bool(row and row[0] == "Lock")


def test_payments_job_skips_invoices_the_sending_holds(env_factory, paid_invoice):
    invoice_id, tx_id = paid_invoice
    sender = env_factory()
    job = env_factory()
    observer = env_factory()
    cron = job.ref("isp_mpesa.ir_cron_mpesa_post_process")
    job.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
    job.cr.commit()

    # The sending job's transaction: Odoo's lock on the invoices it sends,
    # and its write (the PDF kept, "sent"), not committed while it renders.
    invoice = sender["account.move"].browse(invoice_id)
    assert sender["res.company"]._with_locked_records(invoice, allow_raising=False)
    invoice.is_move_sent = True
    invoice.flush_recordset()

    errors = ErrorRecords()
    odoo_logger = logging.getLogger("odoo")
    odoo_logger.addHandler(errors)
    outcome = {}

    def run_job():
        job.cr.execute("SELECT pg_backend_pid()")
        outcome["pid"] = job.cr.fetchone()[0]
        try:
            job["payment.transaction"]._cron_mpesa_post_process()
            job.cr.commit()
            outcome["result"] = "ok"
        except Exception as error:  # noqa: BLE001 - reported by the test
            job.cr.rollback()
            outcome["result"] = repr(error)

    worker = threading.Thread(target=run_job)
    try:
        worker.start()
        harness.wait_for(
            lambda: (
                not worker.is_alive()
                or (
                    "pid" in outcome and backend_waits_on_lock(observer, outcome["pid"])
                )
            ),
            timeout=60,
        )
        waited = worker.is_alive()
        # The sending commits; a job still waiting then fails to serialize.
        sender.cr.commit()
        worker.join(120)
    finally:
        odoo_logger.removeHandler(errors)
    assert not waited, "the payments job waited for the invoice the sending holds"
    assert outcome.get("result") == "ok", outcome
    assert not errors.records, [r.getMessage() for r in errors.records]

    # Left for a later run, which is scheduled.
    observer.cr.rollback()  # a snapshot after the job's commit
    tx = observer["payment.transaction"].browse(tx_id)
    assert not tx.is_post_processed
    assert not tx.payment_id
    observer.cr.execute(
        "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id]
    )
    assert observer.cr.fetchone()[0] >= 1, "no later run of the payments job"
    observer.cr.commit()

    # That run records the payment: 2,999.00 against the 2,999.00 invoice.
    job["payment.transaction"]._cron_mpesa_post_process()
    job.cr.commit()
    observer.cr.rollback()
    observer.invalidate_all()
    tx = observer["payment.transaction"].browse(tx_id)
    assert tx.is_post_processed
    assert tx.payment_id.amount == AMOUNT
    invoice = observer["account.move"].browse(invoice_id)
    assert invoice.payment_state in ("paid", "in_payment"), invoice.payment_state
    assert invoice.amount_residual == 0.0
    assert invoice.is_move_sent
