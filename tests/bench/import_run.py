#!/usr/bin/env python3
"""Benchmark of the migration import (*Import subscribers*) of isp_billing
and isp_radius against Odoo's own work for the same records (the floor).

For each size N (``--sizes 2000,10000``) it writes a file of N subscribers
in the generic layout (a temporary CSV: account number, customer reference,
name, phone, e-mail, street, city, plan, start date, billing anchor, billed
until, RADIUS username and password; opening balances: a third positive, a
third in credit, a third zero; every tenth subscriber suspended) and times,
each arm in its own child process (so that its peak memory is its own):

* ours: the service as the wizard calls it, the dry run's checks included:
  ``isp.subscriber.import._iter_file`` (the file streamed) ->
  ``_iter_prepared`` -> ``_import_prepared`` (batches of ``--batch-size``
  customers), one transaction, committed at the end; partners,
  subscriptions (activated, suspended), RADIUS usernames and passwords,
  opening invoices and credit notes posted;
* base_import: Odoo's generic import (``base_import.import`` ``execute_import``,
  which calls ``res.partner.load``) of the same customers alone (name, phone,
  e-mail, street, city: a CSV of its own), committed at the end;
* floor: what Odoo itself needs for the same records: base_import of the
  same customers (as the base_import arm), then the same opening documents
  (same amounts, the ``OPBAL`` journal and its account, one untaxed line,
  payment reference, the same date) as plain ``account.move`` ``create`` +
  ``action_post``, ``--batch-size`` customers' documents at a time, the ORM
  flushed and its cache emptied after each batch as the import does;
  committed at the end. *ours / floor* is the import's cost over Odoo's own.

Results: wall time, rows per second, CPU (the child's Odoo process + its
PostgreSQL backend), SQL queries per row, peak RSS of the child and its growth
during the timed part (flat in N when the file is streamed), the load
average, and ours / floor per N. After each "ours" arm it checks that the
database holds N subscriptions, N partners and one posted opening document
per non-zero balance, after each "floor" arm the same number of posted
documents. docs/benchmarks.md ("Subscriber import") has the figures.
Without a FreeRADIUS database configured, the push to FreeRADIUS (after the
commit, as any activation) is not part of the timed run.

Run by hand, never part of the test suite::

    tests/bench/import_run.py                        # N = 2,000 and 10,000
    tests/bench/import_run.py --sizes 1000 --arms ours,floor --profile /tmp/imp

The database (default ``import_bench``) is dropped and created anew with
isp_billing, isp_radius and base_import installed without demo data, and
dropped at the end unless ``--keep-db``.
"""

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (  # noqa: E402
    AutoAnalyze,
    Meter,
    create_database,
    drop_database,
    machine_info,
    odoo_env,
    odoo_registry,
    print_result,
    run_child,
    say,
    setup_company,
)

import harness  # noqa: E402

SCRIPT = Path(__file__).resolve()
TARGET_SECONDS = 60.0  # 10,000 subscribers
TARGET_N = 10_000


# The opening balance of row i: a third owed, a third in credit, a third none.
BALANCES = ("1500.00", "-250.50", "")

# The run's mark in the keys, passed on to the children (the floor makes its
# documents' keys itself).
RUN = os.environ.setdefault("IMPORT_BENCH_RUN", f"{os.getpid() % 1000:03d}")


def prefix(n):
    return f"B{RUN}N{n}X"


def header():
    """The generic layout's columns as the add-ons define them (isp_billing's,
    then isp_radius's), in the order of the rows below; once Odoo is
    configured (the registry open)."""
    from odoo.addons.isp_billing.models.isp_subscriber_import import (
        GENERIC_COLUMNS,
    )
    from odoo.addons.isp_radius.models.isp_subscriber_import import (
        RADIUS_COLUMNS,
    )

    return (*GENERIC_COLUMNS, *RADIUS_COLUMNS)


def write_files(directory, n):
    """The generic-layout file of N subscribers and base_import's file of the
    same customers (name, phone, e-mail, street, city)."""
    ours = Path(directory, f"subscribers-{n}.csv")
    floor = Path(directory, f"partners-{n}.csv")
    with (
        ours.open("w", newline="", encoding="utf-8") as f_ours,
        floor.open("w", newline="", encoding="utf-8") as f_floor,
    ):
        w_ours, w_floor = csv.writer(f_ours), csv.writer(f_floor)
        w_ours.writerow(header())
        w_floor.writerow(("name", "phone", "email", "street", "city"))
        for i in range(n):
            key = f"{prefix(n)}{i:06d}"
            name = f"Bench import {n} customer {i:06d}"
            phone = f"07{(12000000 + i * 7) % 100000000:08d}"
            email = f"imp.{RUN}.{n}.{i}@example.com"
            street = f"Moi Avenue {i % 500}"
            balance = BALANCES[i % 3]
            w_ours.writerow(
                (
                    key,
                    f"C-{key}",
                    name,
                    phone,
                    email,
                    street,
                    "Nairobi",
                    "HOME10",
                    "",
                    "2025-03-14",
                    "2025-04-01",
                    "2026-12-01",
                    "suspended" if i % 10 == 9 else "active",
                    "",
                    "2999.00",
                    balance,
                    f"imp{RUN}.{n}.{i}@isp.example",
                    f"Pass-{i}-x!",
                    "",
                )
            )
            w_floor.writerow((name, phone, email, street, "Nairobi"))
    return ours, floor


def setup(registry):
    with registry.cursor() as cr:
        env = odoo_env(cr)
        if env["product.product"].search_count([("default_code", "=", "HOME10")]):
            return  # --reuse-db: set up by an earlier run
        company, plan = setup_company(env)
        plan.default_code = "HOME10"
        company.country_id = env.ref("base.ke")


# --- arms (child) ------------------------------------------------------------


def run_ours(env, path, n, args):
    service = env["isp.subscriber.import"]
    company = env.ref("base.main_company")
    rows = service._iter_file("generic", path, path.name)
    prepared = service._iter_prepared(rows, company)
    result = service._import_prepared(prepared, company, batch_size=args.batch_size)
    return {"created": len(result["created"]), "failed": len(result["failed"])}


def run_base_import(env, path, n, args):
    return {"created": len(base_import_partners(env, path)), "failed": 0}


def base_import_partners(env, path):
    """base_import of the customers (the base_import arm): their ids, in the
    file's order."""
    importer = env["base_import.import"].create(
        {
            "res_model": "res.partner",
            "file": path.read_bytes(),
            "file_name": path.name,
            "file_type": "text/csv",
        }
    )
    fields = ["name", "phone", "email", "street", "city"]
    result = importer.execute_import(
        fields,
        fields,
        {"quoting": '"', "separator": ",", "has_headers": True, "encoding": "utf-8"},
        dryrun=False,
    )
    errors = [m for m in result.get("messages", []) if m.get("type") == "error"]
    if errors:
        raise RuntimeError(f"base_import failed: {errors[:3]}")
    return result.get("ids") or []


def run_floor(env, path, n, args):
    """base_import of the customers, then their opening documents as plain
    ``account.move`` batches: Odoo's own work for the same records."""
    from odoo import Command, fields

    company = env.ref("base.main_company")
    journal = env["isp.subscriber.import"]._get_opening_journal(company)
    date_ref = fields.Date.context_today(env["account.move"])
    partner_ids = base_import_partners(env, path)
    Move = env["account.move"].with_company(company).with_context(tracking_disable=True)
    moves = 0
    for start in range(0, len(partner_ids), args.batch_size):
        vals_list = []
        for i in range(start, min(start + args.batch_size, len(partner_ids))):
            balance = float(BALANCES[i % 3] or 0)
            if not balance:
                continue
            key = f"F{prefix(n)}{i:06d}"
            vals_list.append(
                {
                    "move_type": "out_invoice" if balance > 0 else "out_refund",
                    "partner_id": partner_ids[i],
                    "partner_shipping_id": partner_ids[i],
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                    "journal_id": journal.id,
                    "invoice_date": date_ref,
                    "invoice_origin": f"{key}: opening balance",
                    "payment_reference": key,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Opening balance from the previous system",
                                "quantity": 1.0,
                                "price_unit": abs(balance),
                                "account_id": journal.default_account_id.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        Move.create(vals_list).action_post()
        moves += len(vals_list)
        env.flush_all()
        env.invalidate_all()
    return {"created": len(partner_ids), "failed": 0, "moves": moves}


ARMS = {"ours": run_ours, "base_import": run_base_import, "floor": run_floor}


def child_main(args):
    registry = odoo_registry(args.db)
    path = Path(args.file)
    arm = ARMS[args.arm]
    with registry.cursor() as cr:
        env = odoo_env(cr)
        # Untimed: the registry's first queries (models, fields, ACLs), and
        # for the floor the opening journal (the import makes it on first use).
        env["isp.subscriber.import"]._import_columns()
        if args.arm == "floor":
            env["isp.subscriber.import"]._get_opening_journal(
                env.ref("base.main_company")
            )
        cr.commit()
        with Meter(cr, args.profile) as meter:
            extra = arm(env, path, args.n, args)
            cr.commit()
    result = meter.result(args.n, **extra)
    print_result(result)


# --- checks and report (parent) ------------------------------------------------


def check_ours(registry, n):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM isp_subscription WHERE account_number LIKE %s",
            [f"{prefix(n)}%"],
        )
        subs = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FROM res_partner WHERE ref LIKE %s",
            [f"C-{prefix(n)}%"],
        )
        partners = cr.fetchone()[0]
        cr.execute(
            """SELECT count(*) FROM account_move m
                 JOIN account_journal j ON j.id = m.journal_id
                WHERE j.code = 'OPBAL' AND m.state = 'posted'
                  AND m.invoice_origin LIKE %s""",
            [f"{prefix(n)}%"],
        )
        moves = cr.fetchone()[0]
    expected_moves = sum(1 for i in range(n) if i % 3 != 2)
    return {
        "subscriptions": subs,
        "partners": partners,
        "opening_documents": moves,
        "ok": subs == n and partners == n and moves == expected_moves,
    }


def check_floor(registry, n):
    with registry.cursor() as cr:
        cr.execute(
            """SELECT count(*) FROM account_move m
                 JOIN account_journal j ON j.id = m.journal_id
                WHERE j.code = 'OPBAL' AND m.state = 'posted'
                  AND m.invoice_origin LIKE %s""",
            [f"F{prefix(n)}%"],
        )
        moves = cr.fetchone()[0]
    expected_moves = sum(1 for i in range(n) if BALANCES[i % 3])
    return {"floor_opening_documents": moves, "ok": moves == expected_moves}


def cpu_ms(result):
    return 1000 * (result["cpu_client_s"] + result["cpu_db_s"]) / result["invoices"]


def ratios(results):
    """``ours / floor`` per N: wall time and CPU."""
    by_arm = {r["arm"]: r for r in results}
    lines = []
    for r in results:
        if not r["arm"].startswith("ours "):
            continue
        floor = by_arm.get(r["arm"].replace("ours ", "floor ", 1))
        if floor:
            lines.append(
                f"{r['arm']}: ours / floor = {r['seconds'] / floor['seconds']:.2f} "
                f"(wall), {cpu_ms(r) / cpu_ms(floor):.2f} (CPU)"
            )
    return lines


def child_command(args, arm, n, path):
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--child",
        "--arm",
        arm,
        "--db",
        args.db,
        "--file",
        str(path),
        "--n",
        str(n),
        "--batch-size",
        str(args.batch_size),
    ]
    if args.profile:
        cmd += ["--profile", f"{args.profile}-{arm}-{n}"]
    return cmd


def markdown_table(results):
    lines = [
        "| arm | rows | seconds | rows/s | CPU ms/row (Odoo + PostgreSQL) "
        "| queries/row | peak RSS MB (growth) | load avg (start, end) |",
        "|" + " --- |" * 8,
    ]
    for r in results:
        n = r["invoices"]
        lines.append(
            f"| {r['arm']} | {n:,} | {r['seconds']:.1f} | "
            f"{n / r['seconds']:.0f} | "
            f"{cpu_ms(r):.2f} "
            f"({1000 * r['cpu_client_s'] / n:.2f} + "
            f"{1000 * r['cpu_db_s'] / n:.2f}) | "
            f"{r['queries_per_invoice']} | {r['peak_rss_mb']:.0f} "
            f"({r['rss_growth_mb']:+.0f}) | "
            f"{r['loadavg_start']:.2f}, {r['loadavg_end']:.2f} |"
        )
    return "\n".join(lines)


def parent_main(args):
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    arms = [a for a in args.arms.split(",") if a]
    if not (args.reuse_db and harness.db_exists(args.db)):
        create_database(args.db, ("isp_billing", "isp_radius", "base_import"))
    registry = odoo_registry(args.db)
    with registry.cursor() as cr:
        machine = machine_info(cr)
    say("Machine: " + json.dumps(machine))
    say(f"Load average before: {os.getloadavg()}")
    setup(registry)
    results, checks = [], []
    with (
        tempfile.TemporaryDirectory(prefix="import-bench-") as directory,
        AutoAnalyze(args.db) as analyze,
    ):
        for n in sizes:
            ours, floor = write_files(directory, n)
            say(f"N = {n}: {ours.stat().st_size / 2**20:.1f} MB file")
            for arm in arms:
                path = ours if arm == "ours" else floor  # floor: partners' file
                analyze.run()
                result = run_child(child_command(args, arm, n, path), f"the {arm} arm")
                result["arm"] = f"{arm} N={n}"
                results.append(result)
                say(f"  {arm}: {json.dumps(result)}")
                if arm == "ours":
                    checks.append(check_ours(registry, n))
                    say(f"  check: {json.dumps(checks[-1])}")
                elif arm == "floor":
                    checks.append(check_floor(registry, n))
                    say(f"  check: {json.dumps(checks[-1])}")
    say("")
    say(markdown_table(results))
    for line in ratios(results):
        say(line)
    for r in results:
        if r["arm"] == f"ours N={TARGET_N}":
            met = r["seconds"] < TARGET_SECONDS
            say(
                f"Target {TARGET_N:,} subscribers in {TARGET_SECONDS:g} s: "
                f"{'met' if met else 'NOT met'} ({r['seconds']:.1f} s)"
            )
    passed = all(c["ok"] for c in checks)
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
        drop_database(args.db)
        say(f"Database {args.db} dropped")
    if not passed:
        sys.exit(1)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/import_run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="import_bench")
    parser.add_argument("--sizes", default="2000,10000", metavar="N,N")
    parser.add_argument(
        "--arms",
        default="ours,base_import,floor",
        help="any of ours, base_import, floor (comma-separated)",
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--profile", metavar="PREFIX", help="cProfile each arm into PREFIX-<arm>-<N>"
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database of an earlier run (--keep-db) if it exists",
    )
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
