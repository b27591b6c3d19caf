#!/usr/bin/env python3
"""Benchmark of isp_billing's analytics: each dashboard figure and report
against a hand-written SQL aggregate of the same figure, and the dashboard's
opening over HTTP.

1. Creates the database (default ``analytics_bench``, dropped first) with
   isp_billing, no demo data, and writes N subscribers with M months of
   history into a company of its own with ``tests/bench/analytics_data.py``
   (set-based SQL, a commit per chunk; its time is reported), then
   ``ANALYZE``; checks the book's invariants (balanced moves, residuals,
   MRR identity per event, subscription and month, movement types, one
   period per month).
2. For each figure of ``tests/bench/analytics_figures.py`` (every dashboard
   tile, the MRR chart, the whole dashboard, the pivots of *ISP → Reporting*
   as their views ask them, the aging as of a past date, the collections
   figures), as an ISP manager (``isp_billing.group_isp_manager``): the
   product's own computation and the hand-written SQL, once to warm up, then
   ``--repeat`` times each, side by side; both must give the same value (the
   bench fails otherwise); the ratio product / SQL of the medians is
   reported (target: at most 2).
3. Starts an Odoo HTTP server on the database, logs in as the ISP manager
   (``/web/session/authenticate``) and times what the dashboard's client
   action calls, ``isp.dashboard.get_dashboard_data`` over JSON-RPC
   (``/web/dataset/call_kw``), ``--repeat`` times (target: under 2 s).

Run by hand, never part of the test suite::

    tests/bench/analytics_run.py --n 1000 --months 24
    tests/bench/analytics_run.py --n 100000 --months 24 --json /tmp/analytics.json
    tests/bench/analytics_run.py --reuse-db --db analytics_bench   # figures only

The database is kept at the end (``--drop-db`` to drop it).
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import analytics_data  # noqa: E402
import analytics_figures  # noqa: E402
import bench_common  # noqa: E402

import harness  # noqa: E402

CFG_PARAM = "isp_billing.analytics_bench_cfg"
MANAGER_LOGIN = "analytics.manager"
MANAGER_PASSWORD = "analytics-bench"  # noqa: S105 - a bench database's user
TARGET_RATIO = 2.0
TARGET_DASHBOARD_S = 2.0


def say(message):
    print(message, flush=True)


def odoo_env(cr, uid=None, context=None):
    import odoo  # noqa: PLC0415

    return odoo.api.Environment(cr, uid or odoo.SUPERUSER_ID, context or {})


def create_manager(env, cfg):
    """The ISP manager the figures are computed as (and who logs in over
    HTTP): the bench company only."""
    user = env["res.users"].create(
        {
            "name": "Analytics bench manager",
            "login": MANAGER_LOGIN,
            "password": MANAGER_PASSWORD,
            "company_id": cfg["company_id"],
            "company_ids": [(6, 0, [cfg["company_id"]])],
            "groups_id": [(4, env.ref("isp_billing.group_isp_manager").id)],
        }
    )
    return user.id


def build(args, registry, today):
    """Set-up, generation, invariants. Returns (cfg, generation result)."""
    with registry.cursor() as cr:
        env = odoo_env(cr)
        started = time.monotonic()
        cfg = analytics_data.setup_book(env, today)
        cfg["manager_uid"] = create_manager(env, cfg)
        cfg["n"], cfg["months"], cfg["today"] = args.n, args.months, str(today)
        env["ir.config_parameter"].set_param(CFG_PARAM, json.dumps(cfg))
        cr.commit()
        setup_s = time.monotonic() - started
        say(f"Set-up (ORM: company, chart, plans, templates): {setup_s:.1f} s")
        say(f"Writing {args.n:,} subscribers x {args.months} months (set-based)")
        result = analytics_data.generate(
            cr, cfg, args.n, args.months, today, chunk=args.chunk, commit=cr.commit
        )
        result["setup_s"] = round(setup_s, 1)
        cr.commit()
    return cfg, result


def check_book(registry, cfg, today):
    with registry.cursor() as cr:
        broken = analytics_data.check_invariants(cr, cfg, cfg["months"], today)
    for name, count in broken.items():
        say(f"  invariant: {name}: {count}")
    if any(broken.values()):
        raise SystemExit("the generated book breaks its invariants")
    return broken


def timed(call, repeat):
    """Run ``call()`` once to warm up, then ``repeat`` times; return (last
    value, seconds of each run)."""
    value = call()
    seconds = []
    for __ in range(repeat):
        started = time.perf_counter()
        value = call()
        seconds.append(time.perf_counter() - started)
    return value, seconds


def run_figures(registry, cfg, today, repeat, only=None):
    """Every figure, product then SQL, each in a fresh transaction (no ORM
    cache kept between runs)."""
    rows = []
    figures = [*analytics_figures.FIGURES, analytics_figures.WHOLE_DASHBOARD]
    for figure in figures:
        if only and only not in figure.name:
            continue

        def product(figure=figure):
            with registry.cursor() as cr:
                ctx = context(cr, cfg, today)
                return figure.product(ctx)

        def sql(figure=figure):
            with registry.cursor() as cr:
                ctx = context(cr, cfg, today)
                return figure.sql(ctx)

        product_value, product_s = timed(product, repeat)
        sql_value, sql_s = timed(sql, repeat)
        equal = analytics_figures.same(product_value, sql_value)
        row = {
            "figure": figure.name,
            "group": figure.group,
            "product_ms": round(1000 * statistics.median(product_s), 1),
            "sql_ms": round(1000 * statistics.median(sql_s), 1),
            "equal": equal,
        }
        row["ratio"] = (
            round(row["product_ms"] / row["sql_ms"], 2) if row["sql_ms"] else None
        )
        if not equal:
            row["differences"] = analytics_figures.differences(product_value, sql_value)
        rows.append(row)
        say(
            f"  {figure.name:48} product {row['product_ms']:9.1f} ms   "
            f"SQL {row['sql_ms']:9.1f} ms   x{row['ratio']}"
            + ("" if equal else f"   DIFFERENT: {row['differences']}")
        )
    return rows


def context(cr, cfg, today):
    env = odoo_env(
        cr,
        uid=cfg["manager_uid"],
        context={"allowed_company_ids": [cfg["company_id"]], "lang": "en_US"},
    )
    return analytics_figures.Context(
        env=env,
        cr=cr,
        company_id=cfg["company_id"],
        today=today,
    )


def http_dashboard(args, cfg, repeat):
    """Open the dashboard over real HTTP: log in as the ISP manager, then call
    what the client action calls, ``repeat`` times after a first call."""
    import requests  # noqa: PLC0415

    log = harness.LOGS_DIR / f"bench-{args.db}-http.log"
    harness.LOGS_DIR.mkdir(parents=True, exist_ok=True)
    with harness.odoo_http_server(args.db, log) as url:
        session = requests.Session()
        started = time.perf_counter()
        answer = session.post(
            f"{url}/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "db": args.db,
                    "login": MANAGER_LOGIN,
                    "password": MANAGER_PASSWORD,
                },
            },
            timeout=60,
        ).json()
        login_s = time.perf_counter() - started
        if "error" in answer:
            raise SystemExit(f"login failed: {answer['error']}")

        def call():
            started = time.perf_counter()
            answer = session.post(
                f"{url}/web/dataset/call_kw/isp.dashboard/get_dashboard_data",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "isp.dashboard",
                        "method": "get_dashboard_data",
                        "args": [{}],
                        "kwargs": {
                            "context": {"allowed_company_ids": [cfg["company_id"]]}
                        },
                    },
                },
                timeout=600,
            ).json()
            if "error" in answer:
                raise SystemExit(f"get_dashboard_data failed: {answer['error']}")
            return time.perf_counter() - started, len(answer["result"]["tiles"])

        first_s, tiles = call()
        runs = [call()[0] for __ in range(repeat)]
    result = {
        "login_s": round(login_s, 3),
        "first_call_s": round(first_s, 3),
        "median_s": round(statistics.median(runs), 3),
        "max_s": round(max(runs), 3),
        "tiles": tiles,
    }
    say(
        f"  dashboard over HTTP: first call {result['first_call_s']} s, "
        f"then median {result['median_s']} s, max {result['max_s']} s "
        f"({tiles} tiles; login {result['login_s']} s)"
    )
    return result


def machine_info(registry):
    """The machine, PostgreSQL, Odoo and the sources measured
    (``bench_common.machine_info``), and the load average when the figures
    are timed."""
    with registry.cursor() as cr:
        info = bench_common.machine_info(cr)
    info["load_avg"] = os.getloadavg()
    return info


def markdown(rows):
    lines = [
        "| figure | product (ms) | SQL (ms) | ratio | equal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['figure']} | {row['product_ms']:,.1f} | {row['sql_ms']:,.1f} "
            f"| {row['ratio']} | {'yes' if row['equal'] else 'NO'} |"
        )
    return "\n".join(lines)


def set_jit(args):
    """``--jit``: the JIT setting of the database's new sessions."""
    import psycopg2  # noqa: PLC0415

    conn = psycopg2.connect(dbname=args.db)
    conn.autocommit = True
    with conn.cursor() as cur:
        if args.jit == "server":
            cur.execute(f'ALTER DATABASE "{args.db}" RESET jit')
        else:
            cur.execute(f'ALTER DATABASE "{args.db}" SET jit = {args.jit}')
    conn.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="subscribers")
    parser.add_argument("--months", type=int, default=24, help="months of history")
    parser.add_argument("--db", default="analytics_bench")
    parser.add_argument(
        "--chunk", type=int, default=5000, help="subscribers per transaction"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="keep the database and its book, time the figures again",
    )
    parser.add_argument("--drop-db", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--jit",
        choices=("server", "on", "off"),
        default="server",
        help="PostgreSQL's JIT for the database's sessions (ALTER DATABASE ... SET"
        " jit): the server's setting, on or off",
    )
    parser.add_argument("--only", help="only the figures whose name contains this")
    parser.add_argument("--json", help="write the results to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    harness.check_db_name(args.db)
    result = {"args": vars(args)}
    if not args.reuse_db:
        started = time.monotonic()
        harness.create_bench_database(args.db, ["isp_billing"], say=say)
        result["create_db_s"] = round(time.monotonic() - started, 1)
    set_jit(args)
    registry = harness.open_registry(args.db)
    with registry.cursor() as cr:
        cr.execute("SHOW jit")
        result["jit"] = cr.fetchone()[0]
    say(f"PostgreSQL JIT for the sessions of {args.db}: {result['jit']}")
    result["machine"] = machine_info(registry)
    if args.reuse_db:
        with registry.cursor() as cr:
            cfg = json.loads(odoo_env(cr)["ir.config_parameter"].get_param(CFG_PARAM))
        today = date.fromisoformat(cfg["today"])
    else:
        today = date.today()
        cfg, result["generation"] = build(args, registry, today)
        say(f"Generated: {result['generation']}")
    result["invariants"] = check_book(registry, cfg, today)
    say(f"Figures (median of {args.repeat}, after a warm-up run), as of {today}:")
    rows = run_figures(registry, cfg, today, args.repeat, args.only)
    result["figures"] = rows
    result["load_avg_after"] = os.getloadavg()
    if not args.no_http:
        result["http_dashboard"] = http_dashboard(args, cfg, args.repeat)
    say("")
    say(markdown(rows))
    slow = [r["figure"] for r in rows if r["ratio"] and r["ratio"] > TARGET_RATIO]
    wrong = [r["figure"] for r in rows if not r["equal"]]
    say(f"\nAbove {TARGET_RATIO}x the SQL: {slow or 'none'}")
    say(f"Product and SQL differ: {wrong or 'none'}")
    if "http_dashboard" in result:
        ok = result["http_dashboard"]["max_s"] < TARGET_DASHBOARD_S
        say(
            f"Dashboard over HTTP under {TARGET_DASHBOARD_S} s: {'yes' if ok else 'NO'}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    if args.drop_db:
        import odoo  # noqa: PLC0415

        odoo.sql_db.close_db(args.db)
        harness.drop_db(args.db)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
