#!/usr/bin/env python3
"""Benchmark of one monthly billing run of isp_billing against Odoo's own floor.

For each size N it sets up N active subscribers (one 2999/month plan, 16 % VAT)
and N look-alike customers, then times, each arm in its own child process(es):

* engine xK (``--workers 1,2``: K = 1, then K = 2): K child processes started
  together, each calling the billing job
  (``isp.subscription._cron_bill_subscriptions(batch_size=B, date_ref=D)``,
  which delegates to ``isp.billing.run``) the way Odoo's cron runner calls it:
  one transaction per call, its own ``ir.cron.progress`` record in the context
  (worker 1 on the cron record ``isp_billing.ir_cron_isp_billing``, worker 2
  on ``isp_billing.ir_cron_isp_billing_2``), commit after each call, until the
  job reports nothing remaining, or bills nothing while every batch left is
  held by another worker; each call bills one batch of B subscribers picked
  from the shared queue (``SKIP LOCKED``), one invoice per subscriber;
* floor: plain ``account.move`` batch ``create`` + ``action_post`` of the same
  invoices (same journal, date, product, label, quantity, price, taxes), in
  batches of B, committing after each batch, one process.

With ``--hash-chain both`` each arm runs twice, side by side: in the ISP
invoices journal, where isp_billing keeps Odoo's inalterability hash chain on
(as by default), and in a copy of it without the chain (label suffix
"(no chain)"); the report gives the chain's cost per invoice.

With ``--concurrent`` the floor and the engine x1 run at the same time
instead, one child process each, the floor in a copy of the ISP invoices
journal (hash chain on) so that neither waits on the other's numbering lock:
both arms under the same machine load, however it changes, so the ratio holds
on a shared machine. Each child notes its progress after every batch; the
engine/floor ratios are taken within the window in which both ran (after the
first ends, the other has the machine alone).

Each engine arm bills the next month of the same N subscribers. Wall time
runs from the first child's start to the last child's end. Sending (PDF +
email queued, through Odoo's ``_cron_account_move_send``) is excluded and
timed separately on a sample, with an Odoo HTTP server running for
wkhtmltopdf. Results: invoices per second, the engine/floor ratio (by wall
time and by CPU time of Odoo + its PostgreSQL backends), the 2-workers /
1-worker ratio, SQL queries per invoice, the peak memory (``ru_maxrss``) of
each child during the timed part, the machine's load average during each arm
and, from ``pg_stat_activity`` sampled every 50 ms, the time the workers' backends
wait on locks (the journal's invoice-numbering lock). After each repeat the
script checks that every subscriber was billed exactly once per month (no
duplicate period, no gap) and that the journal's invoice numbers are
consecutive. docs/benchmarks.md has the figures and how to read them.

Run by hand, never part of the test suite::

    tests/bench/billing_run.py                      # N = 1,000 and 10,000
    tests/bench/billing_run.py --sizes 10000 --workers 1,2 --repeat 2
    tests/bench/billing_run.py --sizes 1000 --repeat 3 --json /tmp/bench.json
    tests/bench/billing_run.py --sizes 1000 --profile /tmp/bench-prof
    tests/bench/billing_run.py --sizes 2000 --workers 1 --hash-chain both
    tests/bench/billing_run.py --sizes 100000 --workers 1 --concurrent

The database (default ``isp_bench``) is dropped and created anew with
isp_billing installed without demo data, and dropped at the end unless
``--keep-db``.
"""

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common  # noqa: E402
from arm_sampler import SequenceLockTimer  # noqa: E402
from bench_common import (  # noqa: E402
    PLAN_PRICE,
    VAT_RATE,
    AutoAnalyze,
    Meter,
    create_database,
    create_partners,
    drop_database,
    machine_info,
    odoo_env,
    odoo_registry,
    report_server,
    run_children,
    say,
    setup_company,
    sources_fingerprint,
    wait_for_start,
    wkhtmltopdf_patched,
)

SCRIPT = Path(__file__).resolve()
# Values of one invoice line that only the engine sets (links to the
# subscription): the floor is plain account.move, without them.
ISP_LINE_KEYS = (
    "isp_subscription_id",
    "isp_subscription_line_id",
    "isp_period_start",
    "isp_period_end",
)
SETUP_CHUNK = 1000  # records created and committed at a time during the setup
MAX_CRON_CALLS = 100_000  # guard against a billing run that never ends
# Calls in a row that bill nothing while unlocked work remains (a worker that
# lost a race for its batch retries): more means the run is stuck.
MAX_IDLE_CALLS = 200
# The cron records of the billing job: worker i runs as the i-th (modulo).
CRON_XMLIDS = ("isp_billing.ir_cron_isp_billing", "isp_billing.ir_cron_isp_billing_2")
TARGET_RATIO = 0.95
# The arms run without Odoo's inalterability hash chain (--hash-chain off or
# both) carry this suffix and post in a copy of the sales journal without it.
NO_CHAIN = " (no chain)"
NO_CHAIN_JOURNAL = "NOCH"
# With --concurrent the floor posts into a copy of the ISP invoices journal
# (hash chain on, as there) so that the two arms running at once do not share
# the invoice-numbering lock or the chain: each arm has its own, as each has
# when run alone.
FLOOR_JOURNAL = "FLR"


def add_months(day, months):
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


# --- database and setup (parent process) ------------------------------------------


def setup_size(registry, n, day, plan_id, activate):
    """Create N subscribers (active subscriptions starting on ``day``) and N
    floor customers, committing every SETUP_CHUNK. Return the seconds spent."""
    started = time.monotonic()
    for chunk_start in range(0, n, SETUP_CHUNK):
        chunk_stop = min(n, chunk_start + SETUP_CHUNK)
        with registry.cursor() as cr:
            env = odoo_env(cr)
            company = env.ref("base.main_company")
            partners = create_partners(env, "engine", n, chunk_start, chunk_stop)
            create_partners(env, "floor", n, chunk_start, chunk_stop)
            subs = env["isp.subscription"].create(
                [
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "date_start": day,
                        "line_ids": [(0, 0, {"product_id": plan_id})],
                    }
                    for partner in partners
                ]
            )
            if activate == "action":
                subs.action_activate()
            else:
                # action_activate() once through the real path, then the same
                # state for the rest in one write (no per-record chatter/event).
                if chunk_start == 0:
                    subs[0].action_activate()
                    subs = subs[1:]
                subs._check_ready_to_bill()
                subs.with_context(tracking_disable=True).write(
                    {
                        "state": "active",
                        "state_reason": "Subscription started",
                        "state_date": day,
                        "next_invoice_date": day,
                        "billed_until": day,
                    }
                )
        say(f"  N={n}: {chunk_stop} subscribers set up")
    return time.monotonic() - started


def invoice_template(env, n, day):
    """The invoice values the engine prepares for the subscribers of size ``n``
    on ``day`` (``isp.billing.run._prepare_group_invoice``), without the links to the
    subscription: the floor's invoices. Checked identical for a sample."""
    subs = env["isp.subscription"].search(
        [("partner_id.ref", "=like", f"bench-engine-{n}-%")], order="id", limit=20
    )
    per_invoice = ("partner_id", "partner_shipping_id")
    per_invoice += ("invoice_origin", "payment_reference")
    templates = []
    for sub in subs:
        vals, __ = env["isp.billing.run"]._prepare_group_invoice(sub, day)
        for key in per_invoice:
            vals.pop(key)
        lines = []
        for command in vals.pop("invoice_line_ids"):
            line = {k: v for k, v in command[2].items() if k not in ISP_LINE_KEYS}
            lines.append(line)
        vals["invoice_date"] = vals["invoice_date"].isoformat()
        vals["lines"] = lines
        templates.append(vals)
    if any(template != templates[0] for template in templates):
        raise AssertionError("the subscribers' invoices differ beyond the partner")
    return templates[0]


def chain_journals(registry):
    """``{chained: journal id}``: the ISP invoices journal (hash chain on, as
    isp_billing sets it) and a copy of it without the chain, made here the
    first time."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        chained = env.ref("base.main_company").isp_journal_id
        plain = env["account.journal"].search([("code", "=", NO_CHAIN_JOURNAL)])
        if not plain:
            plain = chained.copy(
                {
                    "name": "Customer invoices without hash chain (bench)",
                    "code": NO_CHAIN_JOURNAL,
                    "restrict_mode_hash_table": False,
                }
            )
        if not chained.restrict_mode_hash_table or plain.restrict_mode_hash_table:
            raise AssertionError("the hash chain is not on in the ISP journal only")
        return {True: chained.id, False: plain.id}


def floor_journal(registry):
    """The journal of the floor with ``--concurrent``: a copy of the ISP
    invoices journal with the hash chain on, made here the first time."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        journal = env["account.journal"].search([("code", "=", FLOOR_JOURNAL)])
        if not journal:
            journal = env.ref("base.main_company").isp_journal_id.copy(
                {
                    "name": "Customer invoices of the floor (bench)",
                    "code": FLOOR_JOURNAL,
                }
            )
            journal.restrict_mode_hash_table = True
        if not journal.restrict_mode_hash_table:
            raise AssertionError("the hash chain is not on in the floor's journal")
        return journal.id


def use_journal(registry, journal_id):
    """Make ``journal_id`` the company's ISP invoices journal, which the
    engine bills into, for the arms that follow. In SQL: the ORM's write turns
    the hash chain on in it (isp_billing's res_company_inalterability)."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        cr.execute(
            "UPDATE res_company SET isp_journal_id = %s WHERE id = %s",
            [journal_id, env.ref("base.main_company").id],
        )


# --- the arms (child processes) -----------------------------------------------


def child_command(args, arm, n, day, template=None, profile=None, worker=0):
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--arm",
        arm,
        "--n",
        str(n),
        "--date",
        day.isoformat(),
        "--db",
        args.db,
        "--batch-size",
        str(args.batch_size),
        "--worker-index",
        str(worker),
    ]
    if template is not None:
        cmd += ["--template", json.dumps(template)]
    if profile:
        cmd += ["--profile", str(profile)]
    return cmd


def run_child(args, arm, n, day, template=None, profile=None):
    """Run one arm in a child process; return its result dict."""
    cmd = child_command(args, arm, n, day, template, profile)
    return bench_common.run_child(cmd, f"the {arm} arm (N={n})")


def run_workers(args, arm, n, day, workers, template=None, profile=None):
    """Run one arm in ``workers`` child processes started together: each loads
    Odoo, says READY, and starts its timed part on the parent's go. Samples
    the load average and the children's PostgreSQL backends meanwhile.

    :return: the arm's combined result (see :func:`combine_workers`)
    """
    cmds = []
    for worker in range(workers):
        prof = None
        if profile:
            prof = Path(f"{profile}-w{worker + 1}.prof")
        cmds.append(child_command(args, arm, n, day, template, prof, worker))
    results, load, waits = run_children(args.db, cmds, f"the {arm} arm (N={n})")
    return combine_workers(results, load, waits)


def combine_workers(results, load, waits):
    """One row for an arm run by several workers: wall time from the first
    start to the last end; invoices, CPU and queries summed; memory, the
    largest child's."""
    seconds = max(r["ended_at"] for r in results) - min(
        r["started_at"] for r in results
    )
    invoices = sum(r["invoices"] for r in results)
    cpu_client = sum(r["cpu_client_s"] for r in results)
    cpu_db = sum(r["cpu_db_s"] for r in results)
    queries = sum(r["queries"] for r in results)
    row = {
        "workers": len(results),
        "invoices": invoices,
        "seconds": round(seconds, 3),
        "invoices_per_s": round(invoices / seconds, 1) if seconds else 0,
        "cpu_client_s": round(cpu_client, 2),
        "cpu_db_s": round(cpu_db, 2),
        "cpu_ms_per_invoice": round(1000 * (cpu_client + cpu_db) / invoices, 1)
        if invoices
        else 0,
        "queries": queries,
        "queries_per_invoice": round(queries / invoices, 1) if invoices else 0,
        "calls": sum(r.get("calls", 0) for r in results),
        "numbering_lock_wait_s": round(
            sum(r["numbering_lock_wait_s"] for r in results), 2
        ),
        "numbering_lock_hold_s": round(
            sum(r["numbering_lock_hold_s"] for r in results), 2
        ),
        # cores used by the arm (its Odoo processes and their backends) and by
        # the whole machine, on average over the arm's wall time
        "arm_cores": round((cpu_client + cpu_db) / seconds, 2) if seconds else 0,
        "machine_cores_busy": round(load["machine_cpu_busy_s"] / seconds, 2)
        if seconds and load.get("machine_cpu_busy_s") is not None
        else None,
        "idle_calls": sum(r.get("idle_calls", 0) for r in results),
        "profiled": any(r["profiled"] for r in results),
        **load,
        "waits": waits,
        "per_worker": [
            {
                key: r.get(key)
                for key in (
                    "worker_index",
                    "cron_xmlid",
                    "invoices",
                    "seconds",
                    "invoices_per_s",
                    "calls",
                    "idle_calls",
                    "cpu_client_s",
                    "cpu_db_s",
                    "peak_rss_mb",
                    "numbering_lock_wait_s",
                    "numbering_lock_hold_s",
                )
            }
            for r in results
        ],
    }
    for key in (
        "rss_start_mb",
        "rss_first_batch_mb",
        "rss_end_mb",
        "peak_rss_mb",
        "rss_growth_mb",
    ):
        row[key] = max(r[key] or 0 for r in results)
    return row


def run_concurrent(args, n, floor_day, engine_day, template):
    """The floor and the engine with one worker started together, each in its
    own child process (the floor in its own journal): both arms under the same
    machine load. Their rates are compared within the window in which both
    ran (:func:`bench_common.overlap_rates`).

    :return: ``(floor row, engine row)``
    """
    cmds = [
        child_command(args, "floor", n, floor_day, template),
        child_command(args, "engine", n, engine_day),
    ]
    results, load, waits = run_children(args.db, cmds, f"the arms (N={n})")
    overlap, rates = bench_common.overlap_rates(results)
    rows = []
    for result, (rate, cpu_ms, done) in zip(results, rates, strict=True):
        row = combine_workers([result], load, waits)
        row.update(
            concurrent=True,
            overlap_s=round(overlap, 1),
            overlap_invoices=round(done),
            overlap_invoices_per_s=round(rate, 2),
            overlap_cpu_ms_per_invoice=round(cpu_ms, 2),
        )
        rows.append(row)
    return rows


def numbering_lock_share(row):
    """Share of the sampled time the arm's backends waited on the journal's
    invoice-numbering lock."""
    return row["waits"]["shares"].get("waits: invoice numbering lock", 0.0)


def unlocked_due(cr, day):
    """Whether subscriptions due on ``day`` remain that no other transaction
    holds (``SKIP LOCKED``, as the job picks them), in a transaction of its own,
    rolled back. A serialization failure (a row changed since the snapshot)
    counts as "some remain": call the job again."""
    import psycopg2

    from odoo.addons.isp_billing.models.isp_billing_run import _DUE_WHERE

    try:
        cr.execute(
            f"""SELECT count(*) FROM (
                SELECT s.id FROM isp_subscription s WHERE {_DUE_WHERE}
                   FOR NO KEY UPDATE SKIP LOCKED) due""",  # noqa: S608
            {"date_ref": day, "companies": None},
            log_exceptions=False,
        )
        return cr.fetchone()[0] > 0
    except psycopg2.errors.SerializationFailure:
        return True
    finally:
        cr.rollback()


def arm_engine(registry, args, day):
    """One worker of the billing job as Odoo's cron runner runs it
    (ir.cron._run_job): one transaction per call, its own progress record in
    the context, commit, call again while something remains.

    With several workers a call may bill nothing while work remains: the
    batches left are held by the other workers (the job skips locked rows), or
    this call's snapshot lost a race for its batch (serialization failure,
    reported as nothing done). The worker stops in the first case, as Odoo's
    runner does on a call that reports no progress, and calls again in the
    second (counted in ``idle_calls``)."""
    calls = done = idle_calls = idle_streak = 0
    lock = SequenceLockTimer().install()
    with registry.cursor() as cr:
        env = odoo_env(cr)
        cron = env.ref(CRON_XMLIDS[args.worker_index % len(CRON_XMLIDS)])
        cr.commit()
        wait_for_start(cr, args.barrier)
        with Meter(cr, args.profile) as meter:
            while True:
                env = odoo_env(cr, {"lastcall": False, "cron_id": cron.id})
                progress = (
                    env["ir.cron.progress"]
                    .sudo()
                    .create({"cron_id": cron.id, "remaining": 0, "done": 0})
                )
                cr.commit()
                env["isp.subscription"].with_context(
                    ir_cron_progress_id=progress.id
                )._cron_bill_subscriptions(batch_size=args.batch_size, date_ref=day)
                env.flush_all()
                cr.commit()
                lock.committed()
                calls += 1
                done += progress.done
                meter.sample(done)
                if not progress.remaining:
                    break
                if calls >= MAX_CRON_CALLS:
                    raise RuntimeError(f"billing run stuck after {calls} calls")
                if progress.done:
                    idle_streak = 0
                    continue
                idle_calls += 1
                if not unlocked_due(cr, day):
                    break  # what remains is being billed by another worker
                idle_streak += 1
                if idle_streak >= MAX_IDLE_CALLS:
                    raise RuntimeError(
                        f"billing run stuck: {progress.remaining} remaining, "
                        f"{idle_streak} calls in a row billed nothing"
                    )
    return meter.result(
        done,
        calls=calls,
        idle_calls=idle_calls,
        worker_index=args.worker_index,
        cron_xmlid=CRON_XMLIDS[args.worker_index % len(CRON_XMLIDS)],
        **lock.result(),
    )


def template_invoice_vals(template, partner):
    vals = {k: v for k, v in template.items() if k != "lines"}
    vals.update(
        partner_id=partner.id,
        partner_shipping_id=partner.id,
        invoice_origin=partner.ref,
        payment_reference=partner.ref,
        invoice_line_ids=[(0, 0, dict(line)) for line in template["lines"]],
    )
    return vals


def arm_floor(registry, args, day):
    """Plain account.move batch create + action_post of the same invoices, in
    batches of the same size, one transaction per batch."""
    template = json.loads(args.template)
    batches = invoices = 0
    lock = SequenceLockTimer().install()
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company = env.ref("base.main_company")
        partner_ids = (
            env["res.partner"]
            .search([("ref", "=like", f"bench-floor-{args.n}-%")], order="id")
            .ids
        )
        cr.commit()
        wait_for_start(cr, args.barrier)
        with Meter(cr, args.profile) as meter:
            for start in range(0, len(partner_ids), args.batch_size):
                env = odoo_env(cr)
                partners = env["res.partner"].browse(
                    partner_ids[start : start + args.batch_size]
                )
                vals_list = [template_invoice_vals(template, p) for p in partners]
                moves = env["account.move"].with_company(company).create(vals_list)
                moves.action_post()
                env.flush_all()
                cr.commit()
                lock.committed()
                invoices += len(moves)
                batches += 1
                meter.sample(invoices)
    return meter.result(invoices, calls=batches, worker_index=0, **lock.result())


def arm_send(registry, args, day):
    """Send a sample of the engine's invoices of ``day`` through the engine's
    queue (``_isp_queue_sending``) and Odoo's sending job, one job call
    (``job_count=20`` as Odoo's cron; 1 with an unpatched wkhtmltopdf, which
    cannot render several invoices at once) per transaction. Mails are
    queued, not delivered over SMTP (``mail_notify_force_send=False``)."""
    calls = 0
    job_count = args.send_job_count or (20 if wkhtmltopdf_patched() else 1)
    with registry.cursor() as cr:
        env = odoo_env(cr)
        moves = env["account.move"].search(
            [
                ("invoice_date", "=", day),
                ("state", "=", "posted"),
                ("line_ids.isp_subscription_id.partner_id.ref", "=like", "bench-%"),
                ("is_move_sent", "=", False),
            ],
            order="id",
            limit=args.n,
        )
        # Warm-up, untimed: the report's CSS bundles are generated and committed
        # (the HTTP server serves them to wkhtmltopdf), the templates compiled.
        for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
            env["ir.qweb"]._get_asset_bundle(bundle, js=False).css()
        cr.commit()
        warm_up = env["account.move"].search(
            [("state", "=", "posted"), ("id", "not in", moves.ids)], limit=1
        )
        report = env.ref("account.account_invoices")
        env["ir.actions.report"]._render_qweb_pdf(report, warm_up.ids)
        cr.rollback()
        env = odoo_env(cr)
        moves = moves.with_env(env)
        env.ref("base.main_company").isp_send_invoices = True
        moves._isp_queue_sending()
        cr.commit()
        sample = moves.ids
        with Meter(cr, args.profile) as meter:
            while True:
                env = odoo_env(cr, {"mail_notify_force_send": False})
                env["account.move"]._cron_account_move_send(job_count=job_count)
                env.flush_all()
                cr.commit()
                calls += 1
                meter.sample()
                pending = env["account.move"].search_count(
                    [("id", "in", sample), ("sending_data", "!=", False)]
                )
                if not pending or calls >= MAX_CRON_CALLS:
                    break
        env = odoo_env(cr)
        env.ref("base.main_company").isp_send_invoices = False
        sent = env["account.move"].search_count(
            [("id", "in", sample), ("is_move_sent", "=", True)]
        )
        pdfs = env["ir.attachment"].search_count(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", sample),
                ("res_field", "=", "invoice_pdf_report_file"),
            ]
        )
        cr.commit()
    return meter.result(
        len(sample), calls=calls, sent=sent, pdfs=pdfs, job_count=job_count
    )


def child_main(args):
    registry = odoo_registry(args.db)
    day = date.fromisoformat(args.date)
    arm = {"engine": arm_engine, "floor": arm_floor, "send": arm_send}[args.arm]
    result = arm(registry, args, day)
    result.update(arm=args.arm, n=args.n, date=args.date)
    print("RESULT " + json.dumps(result), flush=True)


# --- checks and report (parent process) ------------------------------------------


def check_engine(cr, n, day):
    """The engine billed each of the N subscribers exactly once for ``day``."""
    like = f"bench-engine-{n}-%"
    cr.execute(
        """
        SELECT COUNT(*), COUNT(DISTINCT p.subscription_id), COUNT(DISTINCT p.move_id)
          FROM isp_subscription_period p
          JOIN isp_subscription s ON s.id = p.subscription_id
          JOIN res_partner rp ON rp.id = s.partner_id
         WHERE rp.ref LIKE %s AND p.date_start = %s
        """,
        [like, day],
    )
    periods, subs, moves = cr.fetchone()
    cr.execute(
        """
        SELECT COUNT(*), COALESCE(SUM(m.amount_untaxed), 0),
               COALESCE(SUM(m.amount_total), 0),
               COUNT(*) FILTER (WHERE m.state = 'posted')
          FROM account_move m
         WHERE m.id IN (
            SELECT l.move_id FROM account_move_line l
              JOIN isp_subscription s ON s.id = l.isp_subscription_id
              JOIN res_partner rp ON rp.id = s.partner_id
             WHERE rp.ref LIKE %s AND l.isp_period_start = %s)
        """,
        [like, day],
    )
    invoices, untaxed, total, posted = cr.fetchone()
    return _check(n, "engine", periods, subs, moves, invoices, untaxed, total, posted)


def check_floor(cr, n, day, journal_id):
    cr.execute(
        """
        SELECT COUNT(*), COUNT(DISTINCT m.partner_id),
               COALESCE(SUM(m.amount_untaxed), 0), COALESCE(SUM(m.amount_total), 0),
               COUNT(*) FILTER (WHERE m.state = 'posted')
          FROM account_move m JOIN res_partner rp ON rp.id = m.partner_id
         WHERE rp.ref LIKE %s AND m.invoice_date = %s AND m.journal_id = %s
        """,
        [f"bench-floor-{n}-%", day, journal_id],
    )
    invoices, partners, untaxed, total, posted = cr.fetchone()
    return _check(n, "floor", n, partners, n, invoices, untaxed, total, posted)


def _check(n, arm, periods, subs, moves, invoices, untaxed, total, posted):
    expected_total = round(n * PLAN_PRICE * (1 + VAT_RATE / 100), 2)
    facts = {
        "billed periods": (periods, n),
        "subscribers billed": (subs, n),
        "invoices of the periods": (moves, n),
        "invoices": (invoices, n),
        "posted": (posted, n),
        "untaxed total": (round(float(untaxed), 2), round(n * PLAN_PRICE, 2)),
        "total": (round(float(total), 2), expected_total),
    }
    wrong = {k: v for k, v in facts.items() if v[0] != v[1]}
    if wrong:
        raise AssertionError(
            f"{arm} N={n}: "
            + ", ".join(f"{k} {got} != {want}" for k, (got, want) in wrong.items())
        )
    return f"{invoices} invoices, untaxed {untaxed:,.2f}, total {total:,.2f}"


def check_exactly_once(cr, n, first_day, months):
    """Every one of the N engine subscribers has exactly ``months`` billed
    periods since ``first_day``, none twice, without a gap, and is billed up
    to ``first_day`` + ``months``; every period's invoice is posted."""
    like = f"bench-engine-{n}-%"
    cr.execute(
        """
        WITH p AS (
            SELECT p.subscription_id, p.date_start, p.date_end, p.move_id,
                   lag(p.date_end) OVER (PARTITION BY p.subscription_id
                                         ORDER BY p.date_start) AS previous_end
              FROM isp_subscription_period p
              JOIN isp_subscription s ON s.id = p.subscription_id
              JOIN res_partner rp ON rp.id = s.partner_id
             WHERE rp.ref LIKE %(like)s)
        SELECT COUNT(*), COUNT(DISTINCT (subscription_id, date_start)),
               COUNT(DISTINCT move_id),
               COUNT(*) FILTER (WHERE previous_end IS NOT NULL
                                  AND previous_end != date_start),
               COUNT(*) FILTER (WHERE previous_end IS NULL
                                  AND date_start != %(first)s),
               (SELECT COUNT(*) FROM account_move m
                 WHERE m.id IN (SELECT move_id FROM p) AND m.state != 'posted')
          FROM p
        """,
        {"like": like, "first": first_day},
    )
    periods, distinct, moves, gaps, late_starts, unposted = cr.fetchone()
    cr.execute(
        """
        SELECT COUNT(*), COUNT(*) FILTER (WHERE s.billed_until = %s)
          FROM isp_subscription s JOIN res_partner rp ON rp.id = s.partner_id
         WHERE rp.ref LIKE %s
        """,
        [add_months(first_day, months), like],
    )
    subs, billed_to_end = cr.fetchone()
    facts = {
        "periods": (periods, n * months),
        "distinct (subscription, start)": (distinct, n * months),
        "invoices of the periods": (moves, n * months),
        "gaps between periods": (gaps, 0),
        "first period not on the start date": (late_starts, 0),
        "invoices not posted": (unposted, 0),
        "subscribers": (subs, n),
        f"billed until {add_months(first_day, months)}": (billed_to_end, n),
    }
    wrong = {k: v for k, v in facts.items() if v[0] != v[1]}
    if wrong:
        raise AssertionError(
            f"exactly once, N={n}: "
            + ", ".join(f"{k} {got} != {want}" for k, (got, want) in wrong.items())
        )
    return f"{periods} periods over {months} months, no duplicate, no gap"


def check_numbering(cr, blocks):
    """The numbers of the journal's posted invoices are consecutive (per
    sequence prefix: 1..count, no duplicate, no gap), and each arm's invoices
    got one block of consecutive numbers (``blocks``: label -> move ids)."""
    cr.execute(
        """
        SELECT m.journal_id, m.sequence_prefix, COUNT(*), COUNT(DISTINCT m.name),
               MIN(m.sequence_number), MAX(m.sequence_number)
          FROM account_move m
         WHERE m.state = 'posted' AND m.move_type = 'out_invoice'
         GROUP BY 1, 2 ORDER BY 1, 2
        """
    )
    prefixes = cr.fetchall()
    problems = [
        f"{prefix}: {count} invoices, {names} names, numbers {low}..{high}"
        for __, prefix, count, names, low, high in prefixes
        if not (names == count and low == 1 and high == count)
    ]
    for label, ids in blocks.items():
        cr.execute(
            """
            SELECT sequence_prefix, COUNT(*), MIN(sequence_number),
                   MAX(sequence_number)
              FROM account_move WHERE id = ANY(%s) GROUP BY 1
            """,
            [list(ids)],
        )
        problems += [
            f"{label} in {prefix}: {count} invoices numbered {low}..{high}"
            for prefix, count, low, high in cr.fetchall()
            if high - low + 1 != count
        ]
    if problems:
        raise AssertionError("invoice numbers not consecutive: " + "; ".join(problems))
    return ", ".join(f"{prefix} 1..{count}" for __, prefix, count, *__ in prefixes)


def check_chain(cr, label, ids, chained):
    """The invoices of a chain-on arm are all hashed, none of a chain-off arm."""
    cr.execute(
        "SELECT COUNT(*) FROM account_move WHERE id = ANY(%s) AND inalterable_hash "
        "IS NOT NULL",
        [list(ids)],
    )
    hashed = cr.fetchone()[0]
    if hashed != (len(ids) if chained else 0):
        raise AssertionError(f"{label}: {hashed} of {len(ids)} invoices hashed")
    return f"{hashed} of {len(ids)} invoices hashed"


def arm_move_ids(cr, n, arm, day, journal_id):
    """The invoices an arm posted for ``day``."""
    if arm == "floor":
        cr.execute(
            """SELECT m.id FROM account_move m JOIN res_partner rp
                   ON rp.id = m.partner_id
                WHERE rp.ref LIKE %s AND m.invoice_date = %s
                  AND m.journal_id = %s""",
            [f"bench-floor-{n}-%", day, journal_id],
        )
    else:
        cr.execute(
            """SELECT DISTINCT p.move_id FROM isp_subscription_period p
                 JOIN isp_subscription s ON s.id = p.subscription_id
                 JOIN res_partner rp ON rp.id = s.partner_id
                WHERE rp.ref LIKE %s AND p.date_start = %s""",
            [f"bench-engine-{n}-%", day],
        )
    return [row[0] for row in cr.fetchall()]


def line_counts(cr, n, days):
    """Journal items per invoice of each arm (``days``: arm -> invoice date),
    by display type."""
    counts = {}
    for arm, day in days.items():
        join = ""
        if not arm.startswith("floor"):
            join = "JOIN isp_subscription s ON s.partner_id = rp.id"
        cr.execute(
            f"""
            SELECT l.display_type, COUNT(*)::float / COUNT(DISTINCT m.id)
              FROM account_move m
              JOIN res_partner rp ON rp.id = m.partner_id {join}
              JOIN account_move_line l ON l.move_id = m.id
             WHERE rp.ref LIKE %s AND m.invoice_date = %s
             GROUP BY l.display_type ORDER BY 1
            """,  # noqa: S608 - constants
            [f"bench-{arm.split()[0]}-{n}-%", day],
        )
        counts[arm] = ", ".join(f"{t} {c:g}" for t, c in cr.fetchall())
    return counts


def markdown_table(rows):
    lines = [
        "| N | arm | runs | invoices | seconds | invoices/s | engine/floor "
        "| x2/x1 | CPU ms/invoice (Odoo + PostgreSQL) | engine/floor by CPU "
        "| queries/invoice | peak RSS MB | RSS growth MB "
        "| numbering lock held, waited | cores: arm, machine "
        "| load avg (mean, max) |",
        "|" + " --- |" * 16,
    ]
    for row in rows:
        rate = f"{row['invoices_per_s']:.1f}"
        if row["runs"] > 1:
            rate += f" ({row['rate_min']:.1f}–{row['rate_max']:.1f})"
        lines.append(
            f"| {row['n']:,} | {row['label']} | {row['runs']} | "
            f"{row['invoices']:,} | {row['seconds']:.1f} | {rate} | "
            f"{row.get('ratio', '')} | {row.get('speedup', '')} | "
            f"{row['cpu_ms_per_invoice']:.1f} ({row['cpu_odoo_ms']:.1f} + "
            f"{row['cpu_db_ms']:.1f}) | {row.get('cpu_ratio', '')} | "
            f"{row['queries_per_invoice']} | {row['peak_rss_mb']:.0f} | "
            f"{row['rss_growth_mb']:.0f} | {100 * row['lock_held']:.0f} %, "
            f"{row['lock_wait_s']:.1f} s | {row['arm_cores']:.2f}, "
            f"{row['machine_cores']:.2f} | "
            f"{row['loadavg_mean']:.1f}, {row['loadavg_max']:.1f} |"
        )
    return "\n".join(lines)


def _ratio_text(ratios):
    from statistics import median

    text = f"{median(ratios):.2f}"
    if len(ratios) > 1:
        text += f" ({min(ratios):.2f}–{max(ratios):.2f})"
    return text, median(ratios)


def _rate(row):
    """Invoices per second of an arm; for arms run at the same time
    (``--concurrent``), within the window in which both ran."""
    return row.get("overlap_invoices_per_s") or row["invoices_per_s"]


def _cpu_ms(row):
    return row.get("overlap_cpu_ms_per_invoice") or row["cpu_ms_per_invoice"]


def summarize(rows):
    """Medians per (N, arm) over the repeats (memory: the maximum); the
    engine/floor ratios and the xK/x1 ratio: the medians of the ratios of the
    arms of each repeat (run back to back, under the same machine load)."""
    from statistics import median

    summary = []
    for n in dict.fromkeys(row["n"] for row in rows):
        by_label = {}
        for label in dict.fromkeys(row["label"] for row in rows if row["n"] == n):
            runs = [row for row in rows if row["n"] == n and row["label"] == label]
            rates = [row["invoices_per_s"] for row in runs]
            by_label[label] = {
                "n": n,
                "label": label,
                "arm": runs[0]["arm"],
                "workers": runs[0]["workers"],
                "runs": len(runs),
                "invoices": runs[0]["invoices"],
                "seconds": median(row["seconds"] for row in runs),
                "invoices_per_s": median(rates),
                "rate_min": min(rates),
                "rate_max": max(rates),
                "cpu_ms_per_invoice": median(r["cpu_ms_per_invoice"] for r in runs),
                "cpu_odoo_ms": median(
                    1000 * r["cpu_client_s"] / r["invoices"] for r in runs
                ),
                "cpu_db_ms": median(1000 * r["cpu_db_s"] / r["invoices"] for r in runs),
                "queries_per_invoice": median(r["queries_per_invoice"] for r in runs),
                "rss_start_mb": max(r["rss_start_mb"] for r in runs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "rss_growth_mb": max(r["rss_growth_mb"] for r in runs),
                "lock_wait": median(numbering_lock_share(r) for r in runs),
                "lock_wait_s": median(r["numbering_lock_wait_s"] for r in runs),
                "lock_held": median(
                    r["numbering_lock_hold_s"] / r["seconds"] for r in runs
                ),
                "arm_cores": median(r["arm_cores"] for r in runs),
                "machine_cores": median(r["machine_cores_busy"] or 0 for r in runs),
                "idle_calls": max(r["idle_calls"] for r in runs),
                "loadavg_mean": median(r["loadavg_mean"] for r in runs),
                "loadavg_max": max(r["loadavg_max"] for r in runs),
            }
        by_repeat = {}
        for row in rows:
            if row["n"] == n:
                by_repeat.setdefault(row["repeat"], {})[row["label"]] = row
        for label, row in by_label.items():
            chained = not label.endswith(NO_CHAIN)
            suffix = "" if chained else NO_CHAIN
            twin = label + NO_CHAIN
            pairs = [r for r in by_repeat.values() if label in r and twin in r]
            if chained and pairs:
                row["chain_cpu_ms"] = median(
                    r[label]["cpu_ms_per_invoice"] - r[twin]["cpu_ms_per_invoice"]
                    for r in pairs
                )
                row["chain_queries"] = median(
                    r[label]["queries_per_invoice"] - r[twin]["queries_per_invoice"]
                    for r in pairs
                )
            if row["arm"] != "engine":
                continue
            floor = "floor" + suffix
            pairs = [r for r in by_repeat.values() if label in r and floor in r]
            if pairs:
                for key, ratio_of in (
                    ("ratio", lambda e, f: _rate(e) / _rate(f)),
                    ("cpu_ratio", lambda e, f: _cpu_ms(f) / _cpu_ms(e)),
                ):
                    text, value = _ratio_text(
                        [ratio_of(r[label], r[floor]) for r in pairs]
                    )
                    row[key], row[key + "_value"] = text, value
            one = "engine x1" + suffix
            pairs = [r for r in by_repeat.values() if label in r and one in r]
            if row["workers"] > 1 and pairs:
                text, value = _ratio_text(
                    [
                        r[label]["invoices_per_s"] / r[one]["invoices_per_s"]
                        for r in pairs
                    ]
                )
                row["speedup"], row["speedup_value"] = text, value
                text, value = _ratio_text(
                    [
                        r[label]["cpu_ms_per_invoice"] / r[one]["cpu_ms_per_invoice"]
                        for r in pairs
                    ]
                )
                row["cpu_per_invoice_vs_x1"] = text
        summary += by_label.values()
    return summary


def print_arm(period, label, result):
    say(
        f"  {period} {label:9}: {result['invoices']:,} invoices in "
        f"{result['seconds']:.1f} s = {result['invoices_per_s']:.1f}/s, "
        f"CPU {result['cpu_ms_per_invoice']} ms/invoice "
        f"({result['cpu_client_s']} s Odoo + {result['cpu_db_s']} s db), "
        f"{result['queries_per_invoice']} queries/invoice, "
        f"RSS start {result['rss_start_mb']:.0f} MB, first batch "
        f"{result['rss_first_batch_mb']:.0f}, end "
        f"{result['rss_end_mb']:.0f}, peak {result['peak_rss_mb']:.0f}, "
        f"load {result['loadavg_start']}→{result['loadavg_end']} "
        f"(mean {result['loadavg_mean']}, max {result['loadavg_max']})"
    )
    if result.get("concurrent"):
        say(
            f"      while both arms ran ({result['overlap_s']} s): "
            f"{result['overlap_invoices']:,} invoices = "
            f"{result['overlap_invoices_per_s']}/s, CPU "
            f"{result['overlap_cpu_ms_per_invoice']} ms/invoice"
        )
    if result["workers"] > 1:
        for worker in result["per_worker"]:
            say(
                f"      worker {worker['worker_index'] + 1} "
                f"({worker['cron_xmlid']}): {worker['invoices']:,} invoices, "
                f"{worker['calls']} calls ({worker['idle_calls']} billed nothing), "
                f"{worker['seconds']:.1f} s, CPU {worker['cpu_client_s']} s Odoo + "
                f"{worker['cpu_db_s']} s db, peak RSS {worker['peak_rss_mb']:.0f} MB, "
                f"numbering lock: waited {worker['numbering_lock_wait_s']} s, "
                f"held {worker['numbering_lock_hold_s']} s"
            )
    say(
        f"      numbering lock: waited {result['numbering_lock_wait_s']} s, "
        f"held {result['numbering_lock_hold_s']} s "
        f"({100 * result['numbering_lock_hold_s'] / result['seconds']:.0f} % of "
        f"the wall time); cores used: arm {result['arm_cores']}, machine "
        f"{result['machine_cores_busy']} of {os.cpu_count()}"
    )
    waits = result["waits"]
    shares = ", ".join(
        f"{label} {100 * share:.1f} %" for label, share in waits["shares"].items()
    )
    say(f"      backends ({waits['samples']} samples): {shares}")


def arm_labels(workers, floor=True, hash_chain="on"):
    """``[(arm, label, workers)]``; with ``hash_chain`` ``both``, each arm
    followed by its twin without the hash chain (label suffix NO_CHAIN)."""
    engine = [("engine", f"engine x{k}", k) for k in workers]
    arms = [("floor", "floor", 1), *engine] if floor else engine
    suffixes = {"on": [""], "off": [NO_CHAIN], "both": ["", NO_CHAIN]}[hash_chain]
    return [(arm, label + x, k) for arm, label, k in arms for x in suffixes]


def run_size(args, registry, analyzer, n, day, plan_id):
    """Set up N subscribers, run the floor and the engine with each number of
    workers ``args.repeat`` times, check them.

    Each engine arm bills the next month of the same subscribers; the floor
    posts the invoices of the repeat's first month to its own customers. With
    ``--concurrent`` the floor and the engine x1 run at the same time, the
    floor in a journal of its own.

    :return: ``(results, checks)``
    """
    workers = [int(k) for k in args.workers.split(",") if k.strip()]
    say(f"\n== N = {n:,} (batch size {args.batch_size}, workers {workers}) ==")
    setup_seconds = setup_size(registry, n, day, plan_id, args.activate)
    say(f"  setup: {setup_seconds:.0f} s ({args.activate} activation)")
    results, checks = [], []
    months = 0
    journals = chain_journals(registry)
    # the floor's journal by chain on/off: the engine's, or its own
    floor_journals = dict(journals)
    if args.concurrent:
        floor_journals[True] = floor_journal(registry)
    for repeat in range(args.repeat):
        base = add_months(day, months)
        with registry.cursor() as cr:
            template = invoice_template(odoo_env(cr), n, base)
        arms = arm_labels(workers, not args.no_floor, args.hash_chain)
        days = {}
        if args.concurrent:
            analyzer.run()
            days = {"floor": base, "engine x1": add_months(day, months)}
            months += 1
            floor_template = dict(template, journal_id=floor_journals[True])
            pair = run_concurrent(args, n, base, days["engine x1"], floor_template)
            for (arm, label, __), result in zip(arms, pair, strict=True):
                result.update(
                    arm=arm,
                    label=label,
                    n=n,
                    date=days[label].isoformat(),
                    repeat=repeat,
                )
                results.append(result)
                print_arm(days[label], label, result)
        else:
            order = arms if (repeat + args.reverse_order) % 2 == 0 else arms[::-1]
            for arm, label, k in order:
                if arm == "floor":
                    period = base
                else:
                    period = add_months(day, months)
                    months += 1
                days[label] = period
                journal_id = journals[not label.endswith(NO_CHAIN)]
                if journal_id != journals[True]:
                    use_journal(registry, journal_id)
                analyzer.run()
                profile = None
                if args.profile:
                    Path(args.profile).mkdir(parents=True, exist_ok=True)
                    name = "".join(c for c in label if c.isalnum())
                    profile = Path(args.profile, f"{name}-{n}-{repeat}")
                result = run_workers(
                    args,
                    arm,
                    n,
                    period,
                    k,
                    template=dict(template, journal_id=journal_id)
                    if arm == "floor"
                    else None,
                    profile=profile,
                )
                if journal_id != journals[True]:
                    use_journal(registry, journals[True])
                result.update(
                    arm=arm, label=label, n=n, date=period.isoformat(), repeat=repeat
                )
                results.append(result)
                print_arm(period, label, result)
        with registry.cursor() as cr:
            blocks = {}
            for arm, label, __ in arms:
                chained = not label.endswith(NO_CHAIN)
                if arm == "engine":
                    summary = check_engine(cr, n, days[label])
                else:
                    journal_id = floor_journals[chained]
                    summary = check_floor(cr, n, days[label], journal_id)
                ids = arm_move_ids(cr, n, arm, days[label], floor_journals[chained])
                summary += ", " + check_chain(cr, label, ids, chained)
                checks.append(f"N={n} {days[label]} {label}: {summary}")
                blocks[f"{label} {days[label]}"] = ids
            checks.append(f"N={n} engine: {check_exactly_once(cr, n, day, months)}")
            checks.append(f"N={n} journal numbering: {check_numbering(cr, blocks)}")
            lines = line_counts(cr, n, days)
        say(f"  checks passed; journal items per invoice: {lines}")
    return results, checks


def run_send(args, registry, day):
    say(f"\n== Sending a sample of {args.send_sample} engine invoices ==")
    with report_server(args.db) as url:
        with registry.cursor() as cr:
            odoo_env(cr)["ir.config_parameter"].set_param("report.url", url)
        send = run_child(args, "send", args.send_sample, day)
    say(
        f"  {send['invoices']} invoices sent in {send['seconds']:.1f} s = "
        f"{send['invoices_per_s']:.2f}/s ({send['sent']} marked sent, "
        f"{send['pdfs']} PDFs, {send['job_count']} per job call, "
        f"CPU {send['cpu_ms_per_invoice']} ms/invoice with wkhtmltopdf), "
        f"peak RSS {send['peak_rss_mb']:.0f} MB"
    )
    return send


def report(args, machine, rows, checks, send):
    summary = summarize(rows)
    say("\n== Results ==")
    say("Machine: " + json.dumps(machine))
    say(markdown_table(summary))
    for row in summary:
        if "ratio" in row:
            verdict = "met" if row["ratio_value"] >= TARGET_RATIO else "NOT met"
            say(
                f"N={row['n']:,} {row['label']}: engine/floor {row['ratio']} "
                f"(target {TARGET_RATIO}: {verdict}); by CPU time {row['cpu_ratio']}"
            )
        if "chain_cpu_ms" in row:
            share = 100 * row["chain_cpu_ms"] / row["cpu_ms_per_invoice"]
            say(
                f"N={row['n']:,} {row['label']}: the hash chain costs "
                f"{row['chain_cpu_ms']:.1f} ms CPU per invoice ({share:.0f} % of "
                f"the arm's), {row['chain_queries']:+.1f} SQL queries per invoice "
                f"(against {row['label']}{NO_CHAIN})"
            )
        if "speedup" in row:
            say(
                f"N={row['n']:,} {row['label']}/x1: {row['speedup']} by wall time; "
                f"CPU per invoice {row['cpu_per_invoice_vs_x1']} × x1's; "
                f"numbering lock held {100 * row['lock_held']:.0f} % of the wall "
                f"time, waited for {row['lock_wait_s']:.1f} s "
                f"({100 * row['lock_wait']:.1f} % of the backends' samples); "
                f"cores used {row['arm_cores']:.2f} (machine "
                f"{row['machine_cores']:.2f} of {os.cpu_count()})"
            )
    if send:
        say(
            f"Sending: {send['invoices_per_s']:.2f} invoices/s "
            f"({send['invoices']} invoices, {send['job_count']} per job call)"
        )
    for line in checks:
        say("check: " + line)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": machine, "runs": rows, "summary": summary, "send": send},
                indent=2,
            )
        )
        say(f"Results written to {args.json}")


def parent_main(args):
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    day = date.fromisoformat(args.date) if args.date else date.today().replace(day=1)
    create_database(args.db)
    registry = odoo_registry(args.db)
    with registry.cursor() as cr:
        env = odoo_env(cr)
        machine = machine_info(cr)
        company, plan = setup_company(env)
        plan_id = plan.id
        say(f"Company {company.name} ({company.currency_id.name}), plan {plan.name}")
    say("Machine: " + json.dumps(machine))

    rows, checks, send = [], [], None
    with AutoAnalyze(args.db, args.analyze_every) as analyzer:
        if analyzer.needed:
            say(
                "autovacuum is off: tables are analyzed as autovacuum would, "
                f"every {args.analyze_every:g} s and before each arm"
            )
        for n in sizes:
            results, size_checks = run_size(args, registry, analyzer, n, day, plan_id)
            rows += results
            checks += size_checks
        if args.send_sample:
            analyzer.run()
            send = run_send(args, registry, day)
        machine["tables_analyzed"] = analyzer.analyzed
    report(args, machine, rows, checks, send)
    if sources_fingerprint() != machine["isp_billing_sources"]:
        say(
            "WARNING: isp_billing's sources changed during the run: the figures "
            "may mix two versions of the engine"
        )

    if args.keep_db:
        say(f"Database {args.db} kept")
    else:
        drop_database(args.db)
        say(f"Database {args.db} dropped")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/billing_run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="isp_bench", help="database (recreated)")
    parser.add_argument(
        "--sizes", default="1000,10000", help="comma-separated subscriber counts"
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--workers",
        default="1,2",
        metavar="K,K",
        help="engine arms: the numbers of workers (child processes calling the "
        "job at once), each an arm of its own (default 1,2)",
    )
    parser.add_argument(
        "--hash-chain",
        choices=("on", "off", "both"),
        default="on",
        help="Odoo's inalterability hash chain on the invoices: on (as "
        "isp_billing sets it), off (a copy of the journal without it), both "
        "(each arm twice, side by side, and the chain's cost per invoice)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="engine arms only (e.g. memory at a larger N; no engine/floor ratio)",
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="run the floor and the engine x1 at the same time (the floor in a "
        "journal of its own; needs --workers 1 and --hash-chain on): both under "
        "the same machine load, compared while both run",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the db")
    parser.add_argument(
        "--send-sample",
        type=int,
        default=50,
        metavar="M",
        help="time the sending of M engine invoices (0: skip)",
    )
    parser.add_argument(
        "--send-job-count",
        type=int,
        default=0,
        metavar="J",
        help="invoices per sending job call (default: 20 as Odoo's cron, 1 with "
        "an unpatched wkhtmltopdf that renders one document per call)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of the arms per N (each engine arm bills the next month; the "
        "order of the arms alternates)",
    )
    parser.add_argument(
        "--reverse-order",
        action="store_true",
        help="start with the arms in reverse order (engine xK first, floor last)",
    )
    parser.add_argument(
        "--date",
        help="start date of the subscriptions and billing date "
        "(default: first day of this month)",
    )
    parser.add_argument(
        "--activate",
        choices=("bulk", "action"),
        default="bulk",
        help="bulk: action_activate() on the first subscription, one write for "
        "the others; action: action_activate() on all (slower setup)",
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="with autovacuum off, ANALYZE the changed tables this often",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="cProfile the arms into PATH/<arm>-<N>-<repeat>-w<worker>.prof",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    # internal: one arm in a child process
    parser.add_argument(
        "--arm", choices=("engine", "floor", "send"), help=argparse.SUPPRESS
    )
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--barrier", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.concurrent and (
        args.workers.replace(" ", "") != "1" or args.hash_chain != "on" or args.no_floor
    ):
        parser.error("--concurrent needs --workers 1, --hash-chain on and the floor")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.arm:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
