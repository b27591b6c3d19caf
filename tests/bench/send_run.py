#!/usr/bin/env python3
"""Benchmark of the invoice sending of isp_billing: Odoo's own sending against
the *portal link* mode.

It sets up ``--odoo-n`` + ``--link-n`` active subscribers (one 2999/month plan,
16 % VAT, an e-mail each), bills them with the billing job (sending off) and
then, each arm in its own child process, queues its share of the posted
invoices for sending (``account.move._isp_queue_sending``) and times the
sending job as Odoo's cron runner calls it (one transaction per call, commit,
call again until none of the arm's invoices is queued):

* odoo: the company in *PDF attached* mode and Odoo's own job as shipped,
  ``account``'s ``_cron_account_move_send(job_count=20)`` (as its cron
  record calls it; isp_billing's override, which sends one invoice per call on
  an unpatched wkhtmltopdf, is bypassed): each PDF rendered by wkhtmltopdf
  (one document per call on Debian's build, isp_billing's
  ``_render_qweb_pdf_prepare_streams``), kept and attached to the e-mail;
  an Odoo HTTP server runs for wkhtmltopdf's assets;
* link: the company in *portal link* mode and isp_billing's job
  (``_cron_account_move_send``): each invoice e-mailed with its portal link,
  no PDF rendered (made on first download).

Both arms send the same kind of invoice (same plan, customers, template),
mails queued, not delivered over SMTP (``mail_notify_force_send=False``).
Results: invoices per second, CPU ms per invoice (Odoo + its PostgreSQL
backend), SQL queries per invoice, peak RSS of the child during the timed
part, the load average. After each arm the script checks that every invoice
of the arm got exactly one e-mail to its customer (one ``mail.message`` with
its ``mail.mail``), is marked sent and is no longer queued, and that the odoo
arm kept one PDF per invoice and the link arm none. docs/benchmarks.md
("Invoice sending") has the figures and how to read them.

Run by hand, never part of the test suite::

    tests/bench/send_run.py                          # 500 odoo, 2,000 link
    tests/bench/send_run.py --odoo-n 100 --link-n 2000 --db my_send_bench

The database (default ``send_bench``) is dropped and created anew with
isp_billing installed without demo data, and dropped at the end unless
``--keep-db``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_sampler import LoadSampler  # noqa: E402
from bench_common import (  # noqa: E402
    Meter,
    create_partners,
    odoo_env,
    report_server,
    setup_company,
    wkhtmltopdf_version,
)

import harness  # noqa: E402

SCRIPT = Path(__file__).resolve()
SETUP_CHUNK = 1000
MAX_CALLS = 100_000
TARGET = 20.0  # invoices per second, e-mailed with their PDF available
ODOO_JOB_COUNT = 20  # account's cron record: model._cron_account_move_send(20)
ARMS = ("odoo", "link")


def say(message):
    print(message, flush=True)


def arm_ref(arm):
    return f"send-{arm}"


# --- set-up (parent) ------------------------------------------------------------


def setup(registry, sizes, day):
    """Subscribers of each arm (partner ref ``bench-send-<arm>-...``), billed
    on ``day`` by the billing job, sending off. Return the seconds spent."""
    started = time.monotonic()
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company, plan = setup_company(env)
        plan_id, company_id = plan.id, company.id
    for arm, n in sizes.items():
        for chunk_start in range(0, n, SETUP_CHUNK):
            chunk_stop = min(n, chunk_start + SETUP_CHUNK)
            with registry.cursor() as cr:
                env = odoo_env(cr, {"tracking_disable": True})
                partners = create_partners(
                    env, arm_ref(arm), n, chunk_start, chunk_stop
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
            say(f"  {arm}: {chunk_stop} subscribers set up")
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


def arm_moves(env, arm, day):
    return env["account.move"].search(
        [
            ("invoice_date", "=", day),
            ("state", "=", "posted"),
            ("move_type", "=", "out_invoice"),
            (
                "line_ids.isp_subscription_id.partner_id.ref",
                "=like",
                f"bench-{arm_ref(arm)}-%",
            ),
        ],
        order="id",
    )


# --- arms (child) ---------------------------------------------------------------


def run_arm(registry, args, day):
    from odoo.addons.account.models.account_move import (  # noqa: PLC0415
        AccountMove as OdooAccountMove,
    )

    arm = args.arm
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company = env.ref("base.main_company")
        company.write(
            {
                "isp_send_invoices": True,
                "isp_invoice_sending": "pdf" if arm == "odoo" else "link",
            }
        )
        moves = arm_moves(env, arm, day)
        cr.commit()  # the mode, before the warm-ups roll back
        if arm == "odoo":
            env["ir.config_parameter"].set_param("report.url", args.report_url)
            # Warm-up, untimed: the report's CSS bundles generated and
            # committed (the HTTP server serves them to wkhtmltopdf), the
            # templates compiled.
            for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
                env["ir.qweb"]._get_asset_bundle(bundle, js=False).css()
            cr.commit()
            report = env.ref("account.account_invoices")
            env["ir.actions.report"]._render_qweb_pdf(report, moves[:1].ids)
            cr.rollback()
        else:
            # Warm-up, untimed: the mail template and layout compiled.
            env["account.move.send"]._get_default_mail_body(
                moves[0], moves[0]._get_mail_template(), "en_US"
            )
            cr.rollback()
        env = odoo_env(cr)
        moves = moves.with_env(env)
        moves._isp_queue_sending()
        cr.commit()
        sample = moves.ids
        calls = 0
        with Meter(cr) as meter:
            while True:
                env = odoo_env(cr, {"mail_notify_force_send": False})
                if arm == "odoo":
                    OdooAccountMove._cron_account_move_send(
                        env["account.move"], job_count=ODOO_JOB_COUNT
                    )
                else:
                    env["account.move"]._cron_account_move_send(
                        job_count=ODOO_JOB_COUNT
                    )
                env.flush_all()
                cr.commit()
                calls += 1
                meter.sample()
                pending = env["account.move"].search_count(
                    [("id", "in", sample), ("sending_data", "!=", False)]
                )
                if not pending or calls >= MAX_CALLS:
                    break
        env = odoo_env(cr)
        env.ref("base.main_company").isp_send_invoices = False
        cr.commit()
    return meter.result(len(sample), calls=calls)


def child_main(args):
    registry = harness.open_registry(args.db)
    result = run_arm(registry, args, date.fromisoformat(args.date))
    result.update(arm=args.arm)
    print("RESULT " + json.dumps(result), flush=True)


# --- checks and report (parent) ------------------------------------------------


def check_arm(registry, arm, day):
    """Each invoice of the arm: exactly one e-mail to its customer (message +
    mail.mail), sent, not queued; its PDF kept (odoo) or not yet made (link)."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        moves = arm_moves(env, arm, day)
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
        "arm": arm,
        "invoices": len(rows),
        "one_email_each": not bad,
        "bad_rows": bad[:5],
    }


def machine_info():
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wkhtmltopdf": wkhtmltopdf_version(),
        "loadavg_before": os.getloadavg(),
    }


def run_child(args, arm, report_url=""):
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--child",
        "--arm",
        arm,
        "--db",
        args.db,
        "--date",
        args.date,
        "--report-url",
        report_url,
    ]
    sampler = LoadSampler()
    sampler.start()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sampler.stop()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise harness.HarnessError(
            f"arm {arm} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    result = json.loads(lines[-1][len("RESULT ") :])
    result["load"] = sampler.result()
    return result


def markdown_table(results):
    lines = [
        "| arm | invoices | seconds | invoices/s | CPU ms/invoice (Odoo + PostgreSQL) "
        "| queries/invoice | peak RSS MB | job calls | load avg (mean, max) |",
        "|" + " --- |" * 9,
    ]
    for r in results:
        load = r.get("load") or {}
        cpu_odoo = 1000 * r["cpu_client_s"] / r["invoices"]
        cpu_db = 1000 * r["cpu_db_s"] / r["invoices"]
        lines.append(
            f"| {r['arm']} | {r['invoices']:,} | {r['seconds']:.1f} | "
            f"{r['invoices_per_s']:.1f} | {r['cpu_ms_per_invoice']:.1f} "
            f"({cpu_odoo:.1f} + {cpu_db:.1f}) | {r['queries_per_invoice']} | "
            f"{r['peak_rss_mb']:.0f} | {r['calls']} | "
            f"{load.get('loadavg_mean', 0):.1f}, {load.get('loadavg_max', 0):.1f} |"
        )
    return "\n".join(lines)


def parent_main(args):
    day = date.fromisoformat(args.date)
    harness.create_bench_database(args.db, ["isp_billing"], say=say)
    registry = harness.open_registry(args.db)
    machine = machine_info()
    say("Machine: " + json.dumps(machine))
    sizes = {"odoo": args.odoo_n, "link": args.link_n}
    seconds = setup(registry, sizes, day)
    say(f"Set-up: {seconds:.0f} s")
    results, checks = [], []
    for arm in ARMS:
        if not sizes[arm]:
            continue
        say(f"Arm {arm}: {sizes[arm]} invoices")
        if arm == "odoo":
            with report_server(args.db) as url:
                result = run_child(args, arm, url)
        else:
            result = run_child(args, arm)
        results.append(result)
        checks.append(check_arm(registry, arm, day))
        say(f"  {json.dumps(result)}")
        say(f"  check: {json.dumps(checks[-1])}")
    say("")
    say(markdown_table(results))
    link = next((r for r in results if r["arm"] == "link"), None)
    if link:
        met = link["invoices_per_s"] >= TARGET
        say(
            f"\nTarget {TARGET:g} invoices/s (link): "
            f"{'met' if met else 'NOT met'} ({link['invoices_per_s']:.1f}/s)"
        )
    passed = all(c["one_email_each"] for c in checks)
    say(f"Checks: {'all passed' if passed else checks}")
    say(f"Load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine, "results": results, "checks": checks}),
            encoding="utf-8",
        )
    if args.keep_db:
        say(f"Database {args.db} kept")
    else:
        import odoo  # noqa: PLC0415

        odoo.modules.registry.Registry.delete(args.db)
        odoo.sql_db.close_db(args.db)
        harness.drop_db(args.db)
        say(f"Database {args.db} dropped")
    if not passed:
        sys.exit(1)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/send_run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="send_bench")
    parser.add_argument("--odoo-n", type=int, default=500)
    parser.add_argument("--link-n", type=int, default=2000)
    parser.add_argument("--date", default=date.today().replace(day=1).isoformat())
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--arm", choices=ARMS, help=argparse.SUPPRESS)
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
