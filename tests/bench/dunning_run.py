#!/usr/bin/env python3
"""Benchmark of the dunning ladder's reminder run against Odoo's own floor.

A fresh database (isp_billing, no demo data), the main company on the generic
chart of accounts, N customers (valid Kenyan mobile in E.164, e-mail), N
active subscriptions and one posted invoice each (the billing engine), all
due on the same day D. The ladder is run untimed at D (``--pre-runs``: steps
-3 and 0 logged by its catch-up rule, the SMS of step 0 queued; ``-3,0`` runs
it on each day), then, each arm in its own child process, in the order
``--order`` (``f`` floor, ``r`` real):

* real: ``isp.dunning.step._cron_dunning(today=D + 3, batch_size=B)`` called
  as Odoo's cron runner calls it (an ``ir.cron.progress`` in the context: a
  commit after each batch). Only the +3 step is due: one e-mail (its mail
  template, ``send_mail_batch``) and one SMS (its SMS template) per invoice.
* floor: the same numbers of ``mail.mail`` and ``sms.sms`` records created
  directly, ``create(vals_list)`` in batches of B with a commit after each,
  no rendering: the values of one e-mail rendered by the same template (same
  subject, body, sender) and of one SMS (same body), with each invoice's
  customer as recipient and its mobile as number.

After each arm the rows it created (e-mails, their messages, SMS, history
rows) are deleted and the tables vacuumed: every arm starts from the same
data. Figures: messages queued per second, real/floor ratio, CPU time, SQL
queries per invoice, peak RSS of the timed part. docs/benchmarks.md has the
figures and how to read them.

Run by hand, never part of the test suite::

    tests/bench/dunning_run.py                       # N = 10,000, order frfrf
    tests/bench/dunning_run.py --n 1000 --order fr --profile /tmp/dunning-prof

The database (default ``isp_bench_dunning``) is dropped and created anew, and
dropped at the end unless ``--keep``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as bc  # noqa: E402

SCRIPT = Path(__file__).resolve()
PLAN_PRICE = 2999.0
SETUP_CHUNK = 1000  # subscribers created, activated and billed per transaction
MAIL_FIELDS = (
    "attachment_ids",
    "auto_delete",
    "body_html",
    "email_cc",
    "email_from",
    "email_to",
    "mail_server_id",
    "model",
    "partner_to",
    "reply_to",
    "report_template_ids",
    "res_id",
    "scheduled_date",
    "subject",
)
# Tables whose rows an arm creates: deleted after each arm (id above the
# watermark taken before it). mail_mail goes with its mail_message (cascade).
CREATED_TABLES = ("mail_message", "sms_sms", "isp_dunning_log", "ir_cron_trigger")
VACUUMED_TABLES = (
    "mail_message",
    "mail_mail",
    "mail_mail_res_partner_rel",
    "sms_sms",
    "isp_dunning_log",
)

say = bc.say
odoo_env = bc.odoo_env


# --- setup (parent process) -------------------------------------------------------


def setup_company(env):
    company = env.ref("base.main_company")
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    company.write(
        {
            "name": "Bench ISP",
            "email": "billing@bench-isp.example.com",
            "isp_send_invoices": False,
            "isp_journal_id": journal.id,
        }
    )
    steps = env["isp.dunning.step"].search([("company_id", "=", company.id)])
    if [(s.days, s.channel) for s in steps] != [
        (-3, "both"),
        (0, "sms"),
        (3, "both"),
        (7, "sms"),
        (30, "none"),
    ]:
        raise AssertionError("the company's ladder is not the default one")
    plan = env["product.product"].create(
        {
            "name": "10 Mbps Home (bench)",
            "type": "service",
            "list_price": PLAN_PRICE,
            "taxes_id": [(6, 0, [])],
            "company_id": company.id,
            "isp_is_plan": True,
            "isp_download_mbps": 10,
            "isp_upload_mbps": 10,
            "isp_period_interval": 1,
            "isp_period_unit": "month",
            "isp_data_unlimited": True,
        }
    )
    return company, plan


def setup_subscribers(registry, n, day, plan_id):
    """N customers, N active subscriptions starting on ``day``, billed on
    ``day`` by the engine (one posted invoice each), SETUP_CHUNK at a time."""
    started = time.monotonic()
    for chunk_start in range(0, n, SETUP_CHUNK):
        chunk_stop = min(n, chunk_start + SETUP_CHUNK)
        with registry.cursor() as cr:
            env = odoo_env(cr, {"tracking_disable": True})
            company = env.ref("base.main_company")
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Bench customer {i:05d}",
                        "ref": f"bench-dunning-{i:05d}",
                        "mobile": f"+25471{i:07d}",
                        "email": f"customer{i}@example.com",
                    }
                    for i in range(chunk_start, chunk_stop)
                ]
            )
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
            if chunk_start == 0:  # the real path once, then the same state
                subs[0].action_activate()
                subs = subs[1:]
            subs._check_ready_to_bill()
            subs.write(
                {
                    "state": "active",
                    "state_reason": "Subscription started",
                    "state_date": day,
                    "next_invoice_date": day,
                    "billed_until": day,
                }
            )
            env["isp.subscription"]._cron_bill_subscriptions(batch_size=500, today=day)
        say(f"  {chunk_stop:,} subscribers set up and billed")
    return time.monotonic() - started


def check_setup(cr, n):
    """N posted, unpaid invoices of N distinct customers, all due the same day
    and linked to an active subscription. Return the due date."""
    cr.execute(
        """
        SELECT COUNT(*), COUNT(DISTINCT m.partner_id),
               MIN(m.invoice_date_due), MAX(m.invoice_date_due),
               COUNT(*) FILTER (WHERE m.state = 'posted'
                                  AND m.payment_state = 'not_paid')
          FROM account_move m
         WHERE m.move_type = 'out_invoice'
           AND EXISTS (SELECT 1 FROM account_move_line l
                         JOIN isp_subscription s ON s.id = l.isp_subscription_id
                        WHERE l.move_id = m.id AND s.state = 'active')
        """
    )
    count, partners, due_min, due_max, open_count = cr.fetchone()
    cr.execute(
        """SELECT COUNT(*) FROM res_partner
            WHERE ref LIKE 'bench-dunning-%%' AND phone_sanitized LIKE '+2547%%'"""
    )
    mobiles = cr.fetchone()[0]
    facts = {
        "invoices": (count, n),
        "customers": (partners, n),
        "open invoices": (open_count, n),
        "valid mobiles": (mobiles, n),
        "one due date": (due_min == due_max, True),
    }
    wrong = {k: v for k, v in facts.items() if v[0] != v[1]}
    if wrong:
        raise AssertionError(f"setup: {wrong}")
    return due_min


def run_ladder(registry, day, batch_size):
    """``_cron_dunning(today=day)`` as Odoo's cron runner calls it: an
    ir.cron.progress in the context, so that it commits after each batch."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        cron = env.ref("isp_billing.ir_cron_isp_dunning")
        progress = (
            env["ir.cron.progress"]
            .sudo()
            .create({"cron_id": cron.id, "remaining": 0, "done": 0})
        )
        cr.commit()
        env = odoo_env(
            cr,
            {
                "lastcall": False,
                "cron_id": cron.id,
                "ir_cron_progress_id": progress.id,
            },
        )
        done = env["isp.dunning.step"]._cron_dunning(today=day, batch_size=batch_size)
        env.flush_all()
        cr.commit()
        return done


# --- watermarks, checks, reset (parent process) ------------------------------------


def watermarks(cr):
    marks = {}
    for table in (*CREATED_TABLES, "mail_mail"):
        cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        marks[table] = cr.fetchone()[0]
    return marks


def created_counts(cr, marks):
    counts = {}
    for table in ("mail_mail", "sms_sms", "isp_dunning_log"):
        cr.execute(
            f"SELECT COUNT(*) FROM {table} WHERE id > %s",  # noqa: S608
            [marks[table]],
        )
        counts[table] = cr.fetchone()[0]
    return counts


def check_arm(cr, arm, n, marks, step3_id):
    """The arm queued N e-mails to N customers and N SMS to N numbers; the
    real arm logged the +3 step once per invoice, e-mail and SMS queued."""
    counts = created_counts(cr, marks)
    cr.execute(
        """SELECT COUNT(DISTINCT r.res_partner_id) FROM mail_mail_res_partner_rel r
            WHERE r.mail_mail_id > %s""",
        [marks["mail_mail"]],
    )
    mail_partners = cr.fetchone()[0]
    cr.execute(
        """SELECT COUNT(DISTINCT number), COUNT(*) FILTER (WHERE state = 'outgoing')
             FROM sms_sms WHERE id > %s""",
        [marks["sms_sms"]],
    )
    sms_numbers, sms_outgoing = cr.fetchone()
    facts = {
        "e-mails": (counts["mail_mail"], n),
        "e-mail recipients": (mail_partners, n),
        "SMS": (counts["sms_sms"], n),
        "SMS numbers": (sms_numbers, n),
        "SMS outgoing": (sms_outgoing, n),
    }
    if arm == "real":
        cr.execute(
            """SELECT COUNT(*), COUNT(DISTINCT invoice_id),
                      COUNT(*) FILTER (WHERE email_state = 'queued'
                                         AND sms_state = 'queued'),
                      COUNT(*) FILTER (WHERE step_id = %s)
                 FROM isp_dunning_log WHERE id > %s""",
            [step3_id, marks["isp_dunning_log"]],
        )
        logs, invoices, queued, step3 = cr.fetchone()
        facts.update(
            {
                "history rows": (logs, n),
                "invoices logged": (invoices, n),
                "e-mail and SMS queued": (queued, n),
                "rows of the +3 step": (step3, n),
            }
        )
    else:
        facts["history rows"] = (counts["isp_dunning_log"], 0)
    wrong = {k: v for k, v in facts.items() if v[0] != v[1]}
    if wrong:
        raise AssertionError(
            f"{arm}: "
            + ", ".join(f"{k} {got} != {want}" for k, (got, want) in wrong.items())
        )
    return counts


def reset(db, marks):
    """Delete what an arm created and vacuum: the next arm starts from the same
    data as this one did."""
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in CREATED_TABLES:
                cur.execute(
                    f"DELETE FROM {table} WHERE id > %s",  # noqa: S608
                    [marks[table]],
                )
            for table in VACUUMED_TABLES:
                cur.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.close()


# --- the arms (child processes) -----------------------------------------------


def child_env(cr):
    return odoo_env(cr, {"lang": "en_US"})


def arm_real(registry, args, day):
    """The reminder run as Odoo's cron runner runs it (see run_ladder)."""
    with registry.cursor() as cr:
        env = child_env(cr)
        cron = env.ref("isp_billing.ir_cron_isp_dunning")
        progress = (
            env["ir.cron.progress"]
            .sudo()
            .create({"cron_id": cron.id, "remaining": 0, "done": 0})
        )
        cr.commit()
        env = odoo_env(
            cr,
            {
                "lastcall": False,
                "cron_id": cron.id,
                "ir_cron_progress_id": progress.id,
            },
        )
        with bc.Meter(cr, args.profile) as meter:
            done = env["isp.dunning.step"]._cron_dunning(
                today=day, batch_size=args.batch_size
            )
            env.flush_all()
            cr.commit()
            meter.sample()
    return meter, done


def floor_values(env, company, invoices):
    """Values of the floor's e-mails and SMS, one of each per invoice: those
    of one e-mail rendered by the +3 step's template (as send_mail_batch
    creates it) and of one rendered SMS, with each invoice's customer."""
    step = env["isp.dunning.step"].search(
        [("company_id", "=", company.id), ("days", "=", 3)]
    )
    sample = invoices[0]
    mail = step.mail_template_id._generate_template(sample.ids, MAIL_FIELDS)[sample.id]
    mail.pop("attachments", None)
    mail.pop("partner_ids", None)
    mail.update(attachment_ids=[], body=mail["body_html"])
    if not mail.get("email_from"):
        mail.pop("email_from", None)
    sms_body = step.sms_template_id._render_field("body", sample.ids)[sample.id]
    with_company = "isp_company_id" in env["sms.sms"]._fields
    mails, sms = [], []
    for invoice in invoices:
        partner = invoice.partner_id
        mails.append({**mail, "res_id": invoice.id, "recipient_ids": [(4, partner.id)]})
        vals = {
            "number": partner.phone_sanitized,
            "partner_id": partner.id,
            "body": sms_body,
            "state": "outgoing",
        }
        if with_company:
            vals["isp_company_id"] = company.id
        sms.append(vals)
    return mails, sms


def arm_floor(registry, args, day):
    """mail.mail and sms.sms created directly, batches of B, one transaction
    per batch; their values are prepared before the timed part."""
    from odoo.tools import split_every

    with registry.cursor() as cr:
        env = child_env(cr)
        company = env.ref("base.main_company")
        invoices = env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "=", day - timedelta(days=3)),
            ],
            order="invoice_date_due, id",
        )
        mails, sms = floor_values(env, company, invoices)
        cr.commit()
        with bc.Meter(cr, args.profile) as meter:
            for indexes in split_every(args.batch_size, range(len(invoices))):
                env = child_env(cr)
                env["mail.mail"].sudo().create([mails[i] for i in indexes])
                env["sms.sms"].sudo().create([sms[i] for i in indexes])
                env.flush_all()
                cr.commit()
                meter.sample()
    return meter, len(invoices)


def child_main(args):
    registry = bc.odoo_registry(args.db)
    day = date.fromisoformat(args.date)
    arm = {"real": arm_real, "floor": arm_floor}[args.arm]
    meter, invoices = arm(registry, args, day)
    result = {
        "arm": args.arm,
        "invoices": invoices,
        "seconds": round(meter.seconds, 3),
        "cpu_client_s": round(meter.cpu_client, 2),
        "cpu_db_s": round(meter.cpu_server, 2),
        "queries": meter.queries,
        "rss_start_mb": round(meter.rss_before, 1),
        "peak_rss_mb": round(bc.peak_rss_mb(), 1),
        "rss_end_mb": round(bc.rss_mb(), 1),
        "loadavg_start": round(meter.loadavg, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
        "profiled": bool(args.profile),
    }
    print("RESULT " + json.dumps(result), flush=True)


def run_child(args, arm, day, profile=None):
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--arm",
        arm,
        "--date",
        day.isoformat(),
        "--db",
        args.db,
        "--batch-size",
        str(args.batch_size),
    ]
    if profile:
        cmd += ["--profile", str(profile)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise RuntimeError(f"the {arm} arm failed")
    return json.loads(lines[-1][len("RESULT ") :])


# --- report (parent process) ------------------------------------------------------


def complete(result, counts):
    messages = counts["mail_mail"] + counts["sms_sms"]
    seconds = result["seconds"]
    invoices = result["invoices"]
    cpu = result["cpu_client_s"] + result["cpu_db_s"]
    result.update(
        mails=counts["mail_mail"],
        sms=counts["sms_sms"],
        messages=messages,
        messages_per_s=round(messages / seconds, 1),
        cpu_ms_per_message=round(1000 * cpu / messages, 2),
        queries_per_invoice=round(result["queries"] / invoices, 2),
        queries_per_message=round(result["queries"] / messages, 2),
    )
    return result


def print_run(index, result):
    say(
        f"  run {index} {result['arm']:5}: {result['mails']:,} e-mails + "
        f"{result['sms']:,} SMS in {result['seconds']:.1f} s = "
        f"{result['messages_per_s']:.1f} messages/s; CPU "
        f"{result['cpu_ms_per_message']} ms/message ({result['cpu_client_s']} s "
        f"Odoo + {result['cpu_db_s']} s db); {result['queries_per_invoice']} "
        f"queries/invoice; RSS start {result['rss_start_mb']:.0f} MB, peak "
        f"{result['peak_rss_mb']:.0f} MB; load {result['loadavg_start']}"
        f"→{result['loadavg_end']}"
    )


def neighbour_ratios(runs):
    """Each real run against the mean of the floor runs next to it (before and
    after): the two arms under about the same machine load."""
    ratios = []
    for i, run in enumerate(runs):
        if run["arm"] != "real":
            continue
        near = [
            runs[j]["messages_per_s"]
            for j in (i - 1, i + 1)
            if 0 <= j < len(runs) and runs[j]["arm"] == "floor"
        ]
        if near:
            ratios.append(run["messages_per_s"] / (sum(near) / len(near)))
    return ratios


def summarize(runs):
    summary = {}
    for arm in ("floor", "real"):
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        rates = [r["messages_per_s"] for r in mine]
        summary[arm] = {
            "runs": len(mine),
            "messages": mine[0]["messages"],
            "seconds": median(r["seconds"] for r in mine),
            "messages_per_s": median(rates),
            "rate_min": min(rates),
            "rate_max": max(rates),
            "cpu_ms_per_message": median(r["cpu_ms_per_message"] for r in mine),
            "cpu_client_s": median(r["cpu_client_s"] for r in mine),
            "cpu_db_s": median(r["cpu_db_s"] for r in mine),
            "queries_per_invoice": median(r["queries_per_invoice"] for r in mine),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in mine),
            "rss_start_mb": max(r["rss_start_mb"] for r in mine),
        }
    if len(summary) == 2:
        real, floor = summary["real"], summary["floor"]
        summary["ratio"] = round(real["messages_per_s"] / floor["messages_per_s"], 3)
        summary["cpu_ratio"] = round(
            floor["cpu_ms_per_message"] / real["cpu_ms_per_message"], 3
        )
        summary["neighbour_ratios"] = [round(r, 3) for r in neighbour_ratios(runs)]
    return summary


def markdown_table(summary):
    lines = [
        "| arm | runs | messages | seconds | messages/s | real/floor "
        "| CPU ms/message (Odoo + db) | SQL queries/invoice | peak RSS MB |",
        "|" + " --- |" * 9,
    ]
    for arm in ("floor", "real"):
        row = summary.get(arm)
        if not row:
            continue
        rate = f"{row['messages_per_s']:.1f}"
        if row["runs"] > 1:
            rate += f" ({row['rate_min']:.1f}–{row['rate_max']:.1f})"
        ratio = (
            f"{summary['ratio']:.2f}" if arm == "real" and "ratio" in summary else ""
        )
        lines.append(
            f"| {arm} | {row['runs']} | {row['messages']:,} | {row['seconds']:.1f} "
            f"| {rate} | {ratio} | {row['cpu_ms_per_message']:.2f} "
            f"({row['cpu_client_s']:.0f} s + {row['cpu_db_s']:.0f} s) "
            f"| {row['queries_per_invoice']} | {row['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def print_profile(path, limit=30):
    import io
    import pstats

    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).sort_stats(sort).print_stats(limit)
        say(f"\n-- profile of the real arm, by {sort} ({path}) --")
        say(out.getvalue().split("\n\n", 1)[-1].rstrip())


def parent_main(args):
    start = date.fromisoformat(args.date) if args.date else date.today().replace(day=1)
    if not args.reuse:
        bc.create_database(args.db)
    registry = bc.odoo_registry(args.db)
    with registry.cursor() as cr:
        env = odoo_env(cr)
        machine = bc.machine_info(cr)
        machine.pop("wkhtmltopdf", None)
        if args.reuse:
            company = env.ref("base.main_company")
        else:
            company, plan = setup_company(env)
            plan_id = plan.id
        step3_id = (
            env["isp.dunning.step"]
            .search([("company_id", "=", company.id), ("days", "=", 3)])
            .id
        )
    say("Machine: " + json.dumps(machine))
    runs, extra = [], {}
    with bc.AutoAnalyze(args.db, args.analyze_every) as analyzer:
        if args.reuse:
            say(f"\n== Reusing {args.db} (setup done) ==")
        else:
            say(f"\n== Setup: {args.n:,} subscribers billed on {start} ==")
            seconds = setup_subscribers(registry, args.n, start, plan_id)
            extra["setup_s"] = round(seconds)
            analyzer.run()
        with registry.cursor() as cr:
            due = check_setup(cr, args.n)
        say(f"  all {args.n:,} invoices due on {due}")
        for days in args.pre_runs:
            day = due + timedelta(days=days)
            started = time.monotonic()
            done = run_ladder(registry, day, args.batch_size)
            seconds = time.monotonic() - started
            extra[f"ladder_{days}_s"] = round(seconds, 1)
            say(
                f"  untimed ladder run at due {days:+d} ({day}): {done:,} invoices "
                f"in {seconds:.0f} s"
            )
            analyzer.run()
        day = due + timedelta(days=3)
        say(f"\n== Timed: the +3 step on {day}, order {args.order} ==")
        plan_runs = [("floor" if c == "f" else "real", None) for c in args.order]
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            plan_runs.append(("real", Path(args.profile, "real.prof")))
        for index, (arm, profile) in enumerate(plan_runs, 1):
            with registry.cursor() as cr:
                marks = watermarks(cr)
            analyzer.run()
            result = run_child(args, arm, day, profile)
            with registry.cursor() as cr:
                counts = check_arm(cr, arm, args.n, marks, step3_id)
            complete(result, counts)
            print_run(index, result)
            if profile:
                extra["profiled_real"] = result
            else:
                runs.append(result)
            reset(args.db, marks)
        machine["tables_analyzed"] = analyzer.analyzed
    summary = summarize(runs)
    say("\n== Results ==")
    say("Machine: " + json.dumps(machine))
    say(markdown_table(summary))
    if "ratio" in summary:
        verdict = "met" if summary["ratio"] >= args.target else "NOT met"
        say(
            f"real/floor {summary['ratio']:.2f} (each real run against its "
            f"neighbouring floor runs: {summary['neighbour_ratios']}; by CPU time "
            f"{summary['cpu_ratio']:.2f}); target {args.target}: {verdict}"
        )
    if args.profile:
        print_profile(Path(args.profile, "real.prof"))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": machine, "runs": runs, "summary": summary, **extra},
                indent=2,
                default=str,
            )
        )
        say(f"Results written to {args.json}")
    if bc.sources_fingerprint() != machine["isp_billing_sources"]:
        say("WARNING: isp_billing's sources changed during the run")
    if args.keep_db:
        say(f"Database {args.db} kept")
    else:
        bc.drop_database(args.db)
        say(f"Database {args.db} dropped")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/dunning_run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="isp_bench_dunning", help="(recreated)")
    parser.add_argument("--n", type=int, default=10_000, help="overdue invoices")
    parser.add_argument(
        "--batch-size", type=int, default=500, help="as the cron's (500)"
    )
    parser.add_argument(
        "--order",
        default="frfrf",
        help="the timed arms in order: f floor, r real (default frfrf)",
    )
    parser.add_argument("--target", type=float, default=0.5, help="real/floor")
    parser.add_argument(
        "--keep", "--keep-db", dest="keep_db", action="store_true", help="keep the db"
    )
    parser.add_argument(
        "--date", help="start of the subscriptions (default: 1st of this month)"
    )
    parser.add_argument(
        "--pre-runs",
        type=lambda text: [int(d) for d in text.split(",")],
        metavar="DAYS",
        help="untimed ladder runs before the timed ones, days from the due date "
        "(default 0: steps -3 and 0 logged by catch-up, the SMS of 0 queued; "
        "-3,0: each on its day; with --reuse, default none)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the database a --keep run left (no setup, no untimed runs)",
    )
    parser.add_argument("--analyze-every", type=float, default=15.0)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="add one cProfiled real run (not in the figures): DIR/real.prof",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--arm", choices=("real", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pre_runs is None:
        args.pre_runs = [] if args.reuse else [0]
    if not args.arm and not set(args.order) <= {"f", "r"}:
        parser.error("--order: letters f and r only")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.arm:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
