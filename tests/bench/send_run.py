#!/usr/bin/env python3
"""Benchmark of the invoice sending of isp_billing: Odoo's own sending against
the *portal link* mode, with one worker and with several side by side.

It sets up ``--odoo-n`` subscribers for the odoo arm and ``--link-n`` for each
link arm (one 2999/month plan, 16 % VAT, an e-mail each), bills them with the
billing job (sending off), then for each arm sets the company's mode, queues
the arm's posted invoices for sending (``account.move._isp_queue_sending``)
and times the sending job in child processes, as Odoo's cron runner calls it
(one transaction per call, its progress record in the context, commit, call
again until none of the arm's invoices is queued):

* odoo: the company in *PDF attached* mode and Odoo's own job as shipped,
  ``account``'s ``_cron_account_move_send(job_count=20)`` (as its cron
  record calls it; isp_billing's override, which sends one invoice per call on
  an unpatched wkhtmltopdf, is bypassed), one process: each PDF rendered by
  wkhtmltopdf (one document per call on Debian's build, isp_billing's
  ``_render_qweb_pdf_prepare_streams``), kept and attached to the e-mail; an
  Odoo HTTP server runs for wkhtmltopdf's assets;
* link xK (``--workers 1,2``: K = 1, then K = 2): the company in *portal
  link* mode and isp_billing's job (``_cron_account_move_send``), K child
  processes started together, worker 1 as Odoo's *Send invoices* cron record,
  worker 2 as isp_billing's second worker
  (``isp_billing.ir_cron_account_move_send_2``), sharing the queue (``FOR NO
  KEY UPDATE SKIP LOCKED``): each invoice e-mailed with its portal link, no
  PDF rendered (made on first download). A worker stops when the job reports
  nothing remaining, or sends nothing while every invoice left is held by
  another worker.

All arms send the same kind of invoice (same plan, customers, template),
mails queued, not delivered over SMTP (``mail_notify_force_send=False``).
Results: invoices per second (wall time from the first worker's start to the
last one's end), CPU ms per invoice (the workers' Odoo processes + their
PostgreSQL backends), SQL queries per invoice, peak RSS of the largest child
during the timed part, the load average. After each arm the script checks
that every invoice of the arm got exactly one e-mail to its customer (one
``mail.message`` with its ``mail.mail``), is marked sent and is no longer
queued, and that the odoo arm kept one PDF per invoice and the link arms
none. docs/benchmarks.md ("Invoice sending") has the figures and how to read
them.

Run by hand, never part of the test suite::

    tests/bench/send_run.py                          # 500 odoo, 2 x 2,000 link
    tests/bench/send_run.py --odoo-n 50 --link-n 2000 --workers 1,2
    tests/bench/send_run.py --odoo-n 0 --link-n 500 --workers 1 --profile /tmp/p

The database (default ``send_bench``) is dropped and created anew with
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

from bench_common import (  # noqa: E402
    Meter,
    create_database,
    create_partners,
    drop_database,
    machine_info,
    odoo_env,
    odoo_registry,
    print_result,
    report_server,
    run_children,
    say,
    setup_company,
    sources_fingerprint,
    wait_for_start,
)

SCRIPT = Path(__file__).resolve()
SETUP_CHUNK = 1000
MAX_CALLS = 100_000
# Calls in a row that send nothing while unlocked invoices remain (a worker
# whose snapshot predates the other's commit calls again): more means stuck.
MAX_IDLE_CALLS = 200
TARGET = 20.0  # invoices per second, e-mailed with their PDF available
ODOO_JOB_COUNT = 20  # account's cron record: model._cron_account_move_send(20)
# The cron records of the sending job: worker i runs as the i-th (modulo).
CRON_XMLIDS = (
    "account.ir_cron_account_move_send",
    "isp_billing.ir_cron_account_move_send_2",
)


def arm_ref(label):
    return f"send-{label.replace(' ', '')}"


# --- set-up (parent) ------------------------------------------------------------


def setup(registry, sizes, day):
    """Subscribers of each arm (partner ref ``bench-send-<arm>-...``), billed
    on ``day`` by the billing job, sending off. Return the seconds spent."""
    started = time.monotonic()
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company, plan = setup_company(env)
        plan_id, company_id = plan.id, company.id
    for label, n in sizes.items():
        for chunk_start in range(0, n, SETUP_CHUNK):
            chunk_stop = min(n, chunk_start + SETUP_CHUNK)
            with registry.cursor() as cr:
                env = odoo_env(cr, {"tracking_disable": True})
                partners = create_partners(
                    env, arm_ref(label), n, chunk_start, chunk_stop
                )
                subs = env["isp.subscription"].create(
                    [
                        {
                            "partner_id": partner.id,
                            "company_id": company_id,
                            "date_start": day,
                            "line_ids": [(0, 0, {"product_id": plan_id})],
                        }
                        for partner in partners
                    ]
                )
                subs.action_activate()
            say(f"  {label}: {chunk_stop} subscribers set up")
    calls = 0
    while True:
        with registry.cursor() as cr:
            env = odoo_env(cr)
            env["isp.subscription"]._cron_bill_subscriptions(
                batch_size=200, date_ref=day
            )
            cr.commit()
            env.cr.execute(
                "SELECT count(*) FROM isp_subscription "
                "WHERE state = 'active' AND next_invoice_date <= %s",
                [day],
            )
            due = env.cr.fetchone()[0]
        calls += 1
        if not due or calls > 1000:
            break
    say(f"  billed in {calls} calls")
    return time.monotonic() - started


def arm_moves(env, label, day):
    return env["account.move"].search(
        [
            ("invoice_date", "=", day),
            ("state", "=", "posted"),
            ("move_type", "=", "out_invoice"),
            (
                "line_ids.isp_subscription_id.partner_id.ref",
                "=like",
                f"bench-{arm_ref(label)}-%",
            ),
        ],
        order="id",
    )


def queue_arm(registry, arm, label, day):
    """The company in the arm's mode, the arm's invoices queued for sending
    (untimed, before the workers start)."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        env.ref("base.main_company").write(
            {
                "isp_send_invoices": True,
                "isp_invoice_sending": "pdf" if arm == "odoo" else "link",
            }
        )
        moves = arm_moves(env, label, day)
        moves._isp_queue_sending()
        env.ref("base.main_company").isp_send_invoices = False
        return len(moves)


# --- arms (child) ---------------------------------------------------------------


def warm_up(env, arm, moves, report_url):
    """Untimed: what the first call would otherwise pay once (report assets
    and a rendering, or the mail template and layout compiled)."""
    if arm == "odoo":
        env["ir.config_parameter"].set_param("report.url", report_url)
        # The report's CSS bundles generated and committed (the HTTP server
        # serves them to wkhtmltopdf), the templates compiled.
        for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
            env["ir.qweb"]._get_asset_bundle(bundle, js=False).css()
        env.cr.commit()
        report = env.ref("account.account_invoices")
        env["ir.actions.report"]._render_qweb_pdf(report, moves[:1].ids)
    else:
        env["account.move.send"]._get_default_mail_body(
            moves[0], moves[0]._get_mail_template(), "en_US"
        )
    env.cr.rollback()


def unlocked_queued(cr, ids):
    """Whether invoices of ``ids`` are still queued that no other transaction
    holds (``SKIP LOCKED``, as the job takes them), in a transaction of its
    own, rolled back. A serialization failure counts as "some remain"."""
    import psycopg2

    try:
        cr.execute(
            """SELECT count(*) FROM (
                SELECT id FROM account_move
                 WHERE id = ANY(%s) AND sending_data IS NOT NULL
                   FOR NO KEY UPDATE SKIP LOCKED) queued""",
            [ids],
            log_exceptions=False,
        )
        return cr.fetchone()[0] > 0
    except psycopg2.errors.SerializationFailure:
        return True
    finally:
        cr.rollback()


def run_arm(registry, args, day):
    """One worker of the sending job as Odoo's cron runner runs it
    (ir.cron._run_job): one transaction per call, its own progress record in
    the context, commit, call again while something remains."""
    from odoo.addons.account.models.account_move import (  # noqa: PLC0415
        AccountMove as OdooAccountMove,
    )

    arm = args.arm
    cron_xmlid = CRON_XMLIDS[args.worker_index % len(CRON_XMLIDS)]
    calls = done = idle_calls = idle_streak = 0
    with registry.cursor() as cr:
        env = odoo_env(cr)
        moves = arm_moves(env, args.label, day)
        sample = moves.ids
        warm_up(env, arm, moves, args.report_url)
        env = odoo_env(cr)
        cron = env.ref(cron_xmlid)
        cr.commit()
        wait_for_start(cr, args.barrier)
        with Meter(cr, args.profile) as meter:
            while True:
                env = odoo_env(
                    cr,
                    {
                        "mail_notify_force_send": False,
                        "lastcall": False,
                        "cron_id": cron.id,
                    },
                )
                progress = (
                    env["ir.cron.progress"]
                    .sudo()
                    .create({"cron_id": cron.id, "remaining": 0, "done": 0})
                )
                cr.commit()
                model = env["account.move"].with_context(
                    ir_cron_progress_id=progress.id
                )
                if arm == "odoo":
                    OdooAccountMove._cron_account_move_send(
                        model, job_count=ODOO_JOB_COUNT
                    )
                else:
                    model._cron_account_move_send(job_count=ODOO_JOB_COUNT)
                env.flush_all()
                cr.commit()
                calls += 1
                meter.sample()
                pending = env["account.move"].search_count(
                    [("id", "in", sample), ("sending_data", "!=", False)]
                )
                cr.commit()
                if arm == "odoo":
                    done = len(sample) - pending
                else:
                    done += progress.done
                if not pending or calls >= MAX_CALLS:
                    break
                if arm == "odoo" or progress.done:
                    idle_streak = 0
                    continue
                idle_calls += 1
                if not unlocked_queued(cr, sample):
                    break  # what remains is being sent by another worker
                idle_streak += 1
                if idle_streak >= MAX_IDLE_CALLS:
                    raise RuntimeError(
                        f"sending stuck: {pending} queued, {idle_streak} calls "
                        "in a row sent nothing"
                    )
    return meter.result(
        done,
        calls=calls,
        idle_calls=idle_calls,
        worker_index=args.worker_index,
        cron_xmlid=cron_xmlid,
    )


def child_main(args):
    registry = odoo_registry(args.db)
    result = run_arm(registry, args, date.fromisoformat(args.date))
    result.update(arm=args.arm, label=args.label)
    print_result(result)


# --- checks and report (parent) ------------------------------------------------


def check_arm(registry, arm, label, day):
    """Each invoice of the arm: exactly one e-mail to its customer (message +
    mail.mail), sent, not queued; its PDF kept (odoo) or not yet made (link)."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        moves = arm_moves(env, label, day)
        cr.execute(
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
                   (SELECT count(*) FROM ir_attachment a
                     WHERE a.res_model = 'account.move' AND a.res_id = m.id
                       AND a.res_field = 'invoice_pdf_report_file'),
                   m.is_move_sent, m.sending_data IS NOT NULL
              FROM account_move m WHERE m.id = ANY(%s)
            """,
            [moves.ids],
        )
        rows = cr.fetchall()
    pdfs_expected = 1 if arm == "odoo" else 0
    bad = [
        row
        for row in rows
        if row[1] != 1 or row[2] != 1 or row[3] != pdfs_expected or not row[4] or row[5]
    ]
    return {
        "arm": label,
        "invoices": len(rows),
        "one_email_each": not bad,
        "bad_rows": bad[:5],
    }


def child_command(args, arm, label, worker, report_url, profile):
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--child",
        "--arm",
        arm,
        "--label",
        label,
        "--worker-index",
        str(worker),
        "--db",
        args.db,
        "--date",
        args.date,
        "--report-url",
        report_url,
    ]
    if profile:
        cmd += ["--profile", str(profile)]
    return cmd


def run_workers(args, arm, label, workers, report_url=""):
    """Run one arm in ``workers`` child processes started together; return
    its combined row: wall time from the first start to the last end;
    invoices, CPU and queries summed; memory, the largest child's."""
    cmds = []
    for worker in range(workers):
        profile = None
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            profile = Path(args.profile, f"{arm_ref(label)}-w{worker + 1}.prof")
        cmds.append(child_command(args, arm, label, worker, report_url, profile))
    results, load, waits = run_children(args.db, cmds, f"the {label} arm")
    seconds = max(r["ended_at"] for r in results) - min(
        r["started_at"] for r in results
    )
    invoices = sum(r["invoices"] for r in results)
    cpu_client = sum(r["cpu_client_s"] for r in results)
    cpu_db = sum(r["cpu_db_s"] for r in results)
    queries = sum(r["queries"] for r in results)

    def per_invoice(value, scale=1):
        return round(scale * value / invoices, 1) if invoices else 0

    return {
        "arm": label,
        "workers": workers,
        "invoices": invoices,
        "seconds": round(seconds, 3),
        "invoices_per_s": round(invoices / seconds, 1) if seconds else 0,
        "cpu_client_s": round(cpu_client, 2),
        "cpu_db_s": round(cpu_db, 2),
        "cpu_ms_per_invoice": per_invoice(cpu_client + cpu_db, 1000),
        "cpu_odoo_ms_per_invoice": per_invoice(cpu_client, 1000),
        "cpu_db_ms_per_invoice": per_invoice(cpu_db, 1000),
        "queries": queries,
        "queries_per_invoice": per_invoice(queries),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "calls": sum(r["calls"] for r in results),
        "idle_calls": sum(r["idle_calls"] for r in results),
        "arm_cores": round((cpu_client + cpu_db) / seconds, 2) if seconds else 0,
        "load": load,
        "lock_waits": waits,
        "per_worker": [
            {
                key: r.get(key)
                for key in (
                    "worker_index",
                    "cron_xmlid",
                    "invoices",
                    "seconds",
                    "calls",
                    "idle_calls",
                    "cpu_client_s",
                    "cpu_db_s",
                    "queries",
                    "peak_rss_mb",
                )
            }
            for r in results
        ],
    }


def markdown_table(results):
    lines = [
        "| arm | workers | invoices | seconds | invoices/s "
        "| CPU ms/invoice (Odoo + PostgreSQL) | queries/invoice | peak RSS MB "
        "| job calls (sent nothing) | cores used | load avg (mean, max) |",
        "|" + " --- |" * 11,
    ]
    for r in results:
        load = r.get("load") or {}
        lines.append(
            f"| {r['arm']} | {r['workers']} | {r['invoices']:,} | "
            f"{r['seconds']:.1f} | {r['invoices_per_s']:.1f} | "
            f"{r['cpu_ms_per_invoice']:.1f} ({r['cpu_odoo_ms_per_invoice']:.1f} + "
            f"{r['cpu_db_ms_per_invoice']:.1f}) | {r['queries_per_invoice']} | "
            f"{r['peak_rss_mb']:.0f} | {r['calls']} ({r['idle_calls']}) | "
            f"{r['arm_cores']:.2f} | "
            f"{load.get('loadavg_mean', 0):.1f}, {load.get('loadavg_max', 0):.1f} |"
        )
    return "\n".join(lines)


def arms(args):
    """(arm, label, workers, invoices) of each arm, in running order."""
    workers = [int(k) for k in args.workers.split(",") if k.strip()]
    plan = []
    if args.odoo_n:
        plan.append(("odoo", "odoo", 1, args.odoo_n))
    if args.link_n:
        plan += [("link", f"link x{k}", k, args.link_n) for k in workers]
    return plan


def parent_main(args):
    day = date.fromisoformat(args.date)
    create_database(args.db)
    registry = odoo_registry(args.db)
    with registry.cursor() as cr:
        machine = machine_info(cr)
    say("Machine: " + json.dumps(machine))
    plan = arms(args)
    seconds = setup(registry, {label: n for __, label, __, n in plan}, day)
    say(f"Set-up: {seconds:.0f} s")
    results, checks = [], []
    for arm, label, workers, n in plan:
        say(f"Arm {label}: {n} invoices, {workers} worker(s)")
        queued = queue_arm(registry, arm, label, day)
        if queued != n:
            raise RuntimeError(f"{label}: {queued} invoices queued, not {n}")
        if arm == "odoo":
            with report_server(args.db) as url:
                result = run_workers(args, arm, label, workers, url)
        else:
            result = run_workers(args, arm, label, workers)
        results.append(result)
        checks.append(check_arm(registry, arm, label, day))
        say(f"  {json.dumps(result)}")
        say(f"  check: {json.dumps(checks[-1])}")
    say("")
    say(markdown_table(results))
    for result in results:
        if result["arm"].startswith("link"):
            met = result["invoices_per_s"] >= TARGET
            say(
                f"Target {TARGET:g} invoices/s ({result['arm']}): "
                f"{'met' if met else 'NOT met'} ({result['invoices_per_s']:.1f}/s)"
            )
    passed = all(c["one_email_each"] for c in checks)
    say(f"Checks: {'all passed' if passed else checks}")
    say(f"Load average after: {os.getloadavg()}")
    if sources_fingerprint() != machine["isp_billing_sources"]:
        say("WARNING: isp_billing's sources changed during the run")
    if args.profile:
        say(f"Profiles (cProfile) in {args.profile}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine, "results": results, "checks": checks}),
            encoding="utf-8",
        )
    if args.keep_db:
        say(f"Database {args.db} kept")
    else:
        drop_database(args.db)
        say(f"Database {args.db} dropped")
    if not passed:
        sys.exit(1)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/send_run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="send_bench")
    parser.add_argument(
        "--odoo-n", type=int, default=500, help="invoices of the odoo arm (0: skip)"
    )
    parser.add_argument(
        "--link-n",
        type=int,
        default=2000,
        help="invoices of each link arm (0: skip)",
    )
    parser.add_argument(
        "--workers",
        default="1,2",
        metavar="K,K",
        help="link arms: the numbers of workers (child processes calling the "
        "job at once), each an arm of its own (default 1,2)",
    )
    parser.add_argument("--date", default=date.today().replace(day=1).isoformat())
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="cProfile each worker's timed part into DIR/<arm>-w<worker>.prof",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--arm", choices=("odoo", "link"), help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--barrier", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report-url", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
