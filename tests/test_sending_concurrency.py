"""Two workers of the invoice sending job (portal link mode) at once, with
real, committing PostgreSQL transactions, as two Odoo cron workers (the
*Send invoices* cron and isp_billing's second worker) would run it: each
invoice is e-mailed exactly once.

The job takes its invoices with ``FOR NO KEY UPDATE SKIP LOCKED``: a worker
skips the invoices another one holds, and a worker whose snapshot predates
the other's commit (a serialization failure of the lock under repeatable
read) sends nothing in that call, without an error, and calls again.
"""

import json
import logging
import threading
import uuid
from datetime import date

import pytest

PRICE = 1500.0
START = date(2025, 1, 1)  # before the demo data: only these subscriptions are due
N_SUBS = 120  # more than two calls' batches (ISP_LINK_SEND_BATCH = 50)
NO_SMTP = {"mail_notify_force_send": False, "lang": "en_US"}


class ErrorRecords(logging.Handler):
    """The ERROR (and worse) records Odoo logs while installed."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture()
def queued(env_factory):
    """A company of its own in portal link mode, N_SUBS subscriptions billed
    on START: one posted invoice each, queued for sending, committed. The
    other companies' queued invoices are set aside meanwhile (the workers
    would send them too). Yields (company id, invoice ids)."""
    env = env_factory()
    tag = uuid.uuid4().hex[:6]
    company = env["res.company"].create({"name": f"Sending race {tag}"})
    env = env(context={"allowed_company_ids": [company.id], "lang": "en_US"})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    company.write({"isp_send_invoices": True, "isp_invoice_sending": "link"})
    plan = (
        env["product.product"]
        .with_company(company)
        .create(
            {
                "name": f"Sending race plan {tag}",
                "type": "service",
                "list_price": PRICE,
                "taxes_id": [(6, 0, [])],
                "isp_is_plan": True,
                "company_id": company.id,
            }
        )
    )
    partners = env["res.partner"].create(
        [
            {"name": f"Sending race {tag} {i}", "email": f"race{tag}{i}@example.com"}
            for i in range(N_SUBS)
        ]
    )
    subs = env["isp.subscription"].create(
        [
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "date_start": START,
                "tz": "UTC",
                "line_ids": [(0, 0, {"product_id": plan.id})],
            }
            for partner in partners
        ]
    )
    subs.action_activate()
    env["isp.subscription"]._cron_bill_subscriptions(date_ref=START)
    invoices = env["account.move"].search(
        [("isp_subscription_ids", "in", subs.ids), ("move_type", "=", "out_invoice")]
    )
    assert len(invoices) == N_SUBS
    assert all(inv.sending_data.get("isp_link") for inv in invoices)
    env.cr.execute(
        """SELECT id, sending_data FROM account_move
            WHERE sending_data IS NOT NULL AND company_id != %s""",
        [company.id],
    )
    parked = env.cr.fetchall()
    env.cr.execute(
        "UPDATE account_move SET sending_data = NULL WHERE id = ANY(%s)",
        [[move_id for move_id, __ in parked]],
    )
    env.cr.commit()
    yield company.id, sorted(invoices.ids)
    env.cr.rollback()
    for move_id, data in parked:
        env.cr.execute(
            "UPDATE account_move SET sending_data = %s::jsonb WHERE id = %s",
            [json.dumps(data), move_id],
        )
    # Leave nothing due or queued behind for the other tests.
    subs = env["isp.subscription"].browse(subs.ids)
    subs.write({"billing_exception": True, "billing_exception_reason": "test data"})
    env.cr.execute(
        "UPDATE account_move SET sending_data = NULL WHERE id = ANY(%s)",
        [invoices.ids],
    )
    company.isp_send_invoices = False
    env.cr.commit()


def e_mails(env, invoice_ids):
    """Per invoice: (comments to its customer, their mail.mail, sent, queued)."""
    env.cr.execute(
        """
        SELECT m.id,
               (SELECT count(*) FROM mail_message msg
                  JOIN mail_message_res_partner_rel rel
                    ON rel.mail_message_id = msg.id
                   AND rel.res_partner_id = m.partner_id
                 WHERE msg.model = 'account.move' AND msg.res_id = m.id
                   AND msg.message_type = 'comment'),
               (SELECT count(*) FROM mail_mail mm
                  JOIN mail_message msg ON msg.id = mm.mail_message_id
                 WHERE msg.model = 'account.move' AND msg.res_id = m.id
                   AND msg.message_type = 'comment'),
               COALESCE(m.is_move_sent, false), m.sending_data IS NOT NULL
          FROM account_move m WHERE m.id = ANY(%s)
        """,
        [invoice_ids],
    )
    return {row[0]: row[1:] for row in env.cr.fetchall()}


def run_job(env, cron_xmlid):
    """One call of the sending job as Odoo's cron runner makes it (its
    progress record in the context), committed; the invoices it sent."""
    cron = env.ref(cron_xmlid)
    progress = (
        env["ir.cron.progress"]
        .sudo()
        .create({"cron_id": cron.id, "remaining": 0, "done": 0})
    )
    env.cr.commit()
    env["account.move"].with_context(
        cron_id=cron.id, ir_cron_progress_id=progress.id
    )._cron_account_move_send(job_count=20)
    env.cr.commit()
    return progress.done


def test_second_worker_skips_the_invoices_the_first_holds(env_factory, queued):
    """While one worker holds its batch, the other sends the next invoices."""
    __, invoice_ids = queued
    holder = env_factory()(context=NO_SMTP)
    worker = env_factory()(context=NO_SMTP)
    held = holder["account.move"]._isp_lock_link_sending(50)
    assert held.ids == invoice_ids[:50]

    assert run_job(worker, "isp_billing.ir_cron_account_move_send_2") == 50
    holder.cr.rollback()  # releases the batch, sends nothing

    observer = env_factory()
    mails = e_mails(observer, invoice_ids)
    assert {i: mails[i] for i in invoice_ids[:50]} == {
        i: (0, 0, False, True) for i in invoice_ids[:50]
    }, "the held invoices wait"
    assert {i: mails[i] for i in invoice_ids[50:100]} == {
        i: (1, 1, True, False) for i in invoice_ids[50:100]
    }, "the next 50, one e-mail each"


def test_worker_behind_another_s_commit_sends_nothing(env_factory, queued):
    """A worker whose transaction began before the other worker committed
    its batch sends nothing in that call, without an error, and has the job
    called again; its next call sends the next batch."""
    __, invoice_ids = queued
    late = env_factory()(context=NO_SMTP)
    first = env_factory()(context=NO_SMTP)
    late.cr.execute("SELECT 1")  # its snapshot, before the first's commit
    assert run_job(first, "account.ir_cron_account_move_send") == 50

    errors = ErrorRecords()
    odoo_logger = logging.getLogger("odoo")
    odoo_logger.addHandler(errors)
    try:
        cron = late.ref("isp_billing.ir_cron_account_move_send_2")
        cron.active = True
        late.flush_all()
        late["account.move"]._cron_account_move_send(job_count=20)
        late.flush_all()
        late.cr.execute(
            "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id]
        )
        triggered = late.cr.fetchone()[0]
        late.cr.rollback()  # the cron record stays inactive
    finally:
        odoo_logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
    assert triggered, "the job is called again"

    observer = env_factory()
    mails = e_mails(observer, invoice_ids)
    assert [mails[i] for i in invoice_ids[:50]] == [(1, 1, True, False)] * 50
    assert [mails[i] for i in invoice_ids[50:]] == [(0, 0, False, True)] * (N_SUBS - 50)
    assert run_job(late, "isp_billing.ir_cron_account_move_send_2") == 50


def test_two_workers_send_each_invoice_once(env_factory, queued):
    __, invoice_ids = queued
    barrier = threading.Barrier(2)
    results, done = {}, {}

    def work(cron_xmlid):
        env = env_factory()(context=NO_SMTP)
        barrier.wait()
        try:
            total = 0
            for __ in range(4 * N_SUBS):
                total += run_job(env, cron_xmlid)
                env.cr.execute(
                    "SELECT count(*) FROM account_move "
                    "WHERE id = ANY(%s) AND sending_data IS NOT NULL",
                    [invoice_ids],
                )
                left = env.cr.fetchone()[0]
                env.cr.rollback()
                if not left:
                    break
            done[cron_xmlid] = total
            results[cron_xmlid] = "ok"
        except Exception as error:  # noqa: BLE001 - reported by the test
            env.cr.rollback()
            results[cron_xmlid] = repr(error)

    errors = ErrorRecords()
    odoo_logger = logging.getLogger("odoo")
    odoo_logger.addHandler(errors)
    crons = (
        "account.ir_cron_account_move_send",
        "isp_billing.ir_cron_account_move_send_2",
    )
    workers = [threading.Thread(target=work, args=(xmlid,)) for xmlid in crons]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=600)
    finally:
        odoo_logger.removeHandler(errors)
    assert results == dict.fromkeys(crons, "ok")
    assert not errors.records, [r.getMessage() for r in errors.records]
    assert sum(done.values()) == N_SUBS

    observer = env_factory()
    mails = e_mails(observer, invoice_ids)
    assert mails == {i: (1, 1, True, False) for i in invoice_ids}
