#!/usr/bin/env python3
"""Benchmark of isp_mpesa's callbacks against a bare Odoo route (the floor).

A running Odoo server (a subprocess, ``--workers`` prefork workers, or threaded
with ``--workers 0``) receives over loopback, from ``--clients`` concurrent
client threads:

* real: ``--n`` STK success callbacks (each for a real pending STK push the
  simulator accepted) and ``--n`` paybill (C2B) confirmations, each for its
  own customer's invoice by invoice number. The routes check and keep each
  callback (the inbox) and answer; isp_mpesa's payments job, which they
  trigger, does the rest (STK query to the simulator, receipt claim, account
  match, transaction, then the payment created, posted and reconciled with
  the invoice): in the server's cron worker (``--cron-threads 1``) or in this
  script after the callbacks (``0``);
* floor: as many POSTs of the same bodies to ``/isp_bench/floor/<token>``
  (tests/bench/addons/isp_bench_floor), a ``type='http'``, ``auth='public'``,
  ``csrf=False`` route that only parses the JSON and answers, like the
  callbacks' routes.

Order: floor, real STK, real C2B, the payments job until none is left,
floor; the floor's figures are the median of its two runs. Per arm: requests
per second and p50 / p99 latency; CPU seconds of the client threads, of this
process (client + Daraja simulator), of Odoo and of PostgreSQL; the machine's
load. After the real run: exactly 2 × N new
payments, one per receipt, their sum equal to the hand-computed total, every
invoice paid.

Run by hand, never part of the test suite::

    tests/bench/mpesa_bench.py                      # N = 1,000, 8 clients
    tests/bench/mpesa_bench.py --workers 0 --json /tmp/mpesa.json
    tests/bench/mpesa_bench.py --profile /tmp/mpesa-prof   # + the handlers' cProfile

The database (default ``isp_mpesa_bench``) is dropped and created anew with
isp_mpesa and isp_bench_floor installed without demo data, and dropped at the
end unless ``--keep-db``.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import harness  # noqa: E402
from daraja_simulator import (  # noqa: E402
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    DarajaSimulator,
    eat_timestamp,
)

FLOOR_ADDONS = BENCH_DIR / "addons"
CONSUMER_KEY, CONSUMER_SECRET = "bench-key", "bench-secret"
STK_BASE, C2B_BASE = 1000, 2000  # STK payment i is KES 1000 + i, C2B 2000 + i
SETUP_CHUNK = 100  # pushes / invoices committed at a time
TARGET = 0.3  # real throughput ≥ 0.3 × the floor's


def say(message):
    print(message, flush=True)


def addons_path():
    return f"{harness.addons_path()},{FLOOR_ADDONS}"


# --- database and Odoo --------------------------------------------------------


def create_database(args):
    harness.create_bench_database(
        args.db, ["isp_mpesa", "isp_bench_floor"], addons=addons_path(), say=say
    )


def odoo_registry(args):
    return harness.open_registry(args.db, addons=addons_path())


def odoo_env(cr):
    import odoo

    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})


class OdooServer:
    """Odoo serving the bench database on a free port of 127.0.0.1."""

    def __init__(self, args):
        self.db = args.db
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.gevent_port = harness.free_port()
        self.prefork = args.workers > 0
        self.log = harness.LOGS_DIR / f"bench-{args.db}-http.log"
        self.cmd = [
            *harness.odoo_command(),
            f"--database={args.db}",
            f"--addons-path={addons_path()}",
            f"--data-dir={harness.data_dir()}",
            *(["--db-filter=^" + re.escape(args.db) + "$"] if args.db_filter else []),
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={self.gevent_port}",
            f"--workers={args.workers}",
            f"--max-cron-threads={args.cron_threads}",
            f"--log-level={args.log_level}",
            f"--logfile={self.log}",
        ]
        self.proc = None

    def __enter__(self):
        self.log.unlink(missing_ok=True)  # Odoo appends: only this run's records
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise harness.HarnessError(
                        f"the HTTP server did not start, see {self.log}"
                    ) from None
                time.sleep(0.5)
        if self.prefork:
            self.wait_for_websocket_process(deadline)
        return self

    def wait_for_websocket_process(self, deadline):
        """In prefork mode Odoo runs its websocket (gevent) server as a process
        of its own and restarts it whenever it dies: one that cannot start
        (its error is printed above) is restarted again and again, eating the
        CPU being measured. Refuse to measure then."""
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.gevent_port), 2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise harness.HarnessError(
                        "Odoo's websocket process (gevent) does not start (see "
                        "its error above); Odoo would restart it without end "
                        "and disturb every figure"
                    ) from None
                time.sleep(0.5)

    def __exit__(self, *exc):
        harness.stop_process(self.proc)
        return False

    def cpu_seconds(self):
        """CPU (user + system) of the server and its workers so far."""
        import psutil

        total = 0.0
        try:
            main = psutil.Process(self.proc.pid)
            for proc in [main, *main.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
                total += times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
        return total


def postgres_cpu_seconds(db):
    """CPU of the PostgreSQL backends connected to ``db`` (those of Odoo's
    workers live as long as the server: the difference over an arm is valid;
    a sum over all backends is not, others' backends come and go)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["cmdline", "cpu_times"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if cmdline.startswith("postgres:") and f" {db} " in cmdline:
            times = proc.info["cpu_times"]
            if times:
                total += times.user + times.system
    return total


def machine_cpu_seconds():
    """Busy CPU seconds of the whole machine (all processes), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- setup (not timed) ----------------------------------------------------------


def setup_company(env, sim, server_url, name="Bench ISP Kenya"):
    """A KES company (generic chart), an M-PESA provider pointed at the
    simulator and called back by the server. Returns (company, provider)."""
    kes = env.ref("base.KES")
    kes.active = True
    # No country: a company created with one makes Odoo install its
    # localization (l10n_ke) and reload its chart at commit, which deletes the
    # journals loaded here with the provider's payment method line (then
    # created again by the first callbacks, concurrently: two lines, and
    # "Expected singleton" in account_payment's _create_payment).
    company = env["res.company"].create({"name": name, "currency_id": kes.id})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    company.write({"isp_send_invoices": False})
    bank = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    method = env.ref("payment.payment_method_mpesa")
    provider = env["payment.provider"].create(
        {
            "name": f"M-PESA ({name})",
            "code": "mpesa",
            "state": "test",
            "company_id": company.id,
            "mpesa_consumer_key": CONSUMER_KEY,
            "mpesa_consumer_secret": CONSUMER_SECRET,
            "mpesa_shortcode": SANDBOX_SHORTCODE,
            "mpesa_passkey": SANDBOX_PASSKEY,
            "mpesa_base_url": sim.base_url,
            "mpesa_callback_base_url": server_url,
            "payment_method_ids": [(6, 0, method.ids)],
        }
    )
    provider.journal_id = bank
    method.active = True  # once a provider supports it
    env.flush_all()
    lines = bank.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_provider_id == provider
    )
    if len(lines) != 1:
        raise AssertionError(f"{len(lines)} payment method lines for {provider.name}")
    return company, provider


def create_invoices(env, company, kind, start, stop, base):
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench {kind} customer {i:04d}",
                "mobile": phone(kind, i),
                "country_id": env.ref("base.ke").id,
            }
            for i in range(start, stop)
        ]
    )
    invoices = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": env.ref("base.KES").id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Internet, November",
                            "quantity": 1,
                            "price_unit": float(base + i),
                            "tax_ids": [(6, 0, [])],
                        },
                    )
                ],
            }
            for i, partner in zip(range(start, stop), partners, strict=True)
        ]
    )
    invoices.action_post()
    return invoices


def phone(kind, i):
    return f"2547{1 if kind == 'stk' else 2}{i:07d}"


def prepare(args, registry, sim, server_url):
    """Company, provider, N STK pushes accepted by the simulator (one invoice
    each) and N invoices to be paid at the paybill. Returns the request bodies
    and ids: ``{"stk": [body], "c2b": [body], "token", "company", "provider"}``."""
    started = time.monotonic()
    with registry.cursor() as cr:
        env = odoo_env(cr)
        company, provider = setup_company(env, sim, server_url)
        data = {
            "company": company.id,
            "provider": provider.id,
            "token": provider.mpesa_callback_token,
        }
        # The server's cron worker runs isp_mpesa's post-processing job, which
        # the callbacks trigger, and nothing else (the M-PESA status job would
        # settle the pending pushes before their callbacks arrive).
        post_processing = env.ref("isp_mpesa.ir_cron_mpesa_post_process")
        post_processing.active = True
        env["ir.cron"].search([("id", "!=", post_processing.id)]).active = False
    say(f"  company and provider: {time.monotonic() - started:.0f} s")
    data["stk"], data["c2b"] = make_payments(registry, sim, data["company"], 0, args.n)
    analyze(args.db)
    say(f"  preparation: {time.monotonic() - started:.0f} s")
    return data


def analyze(db):
    """ANALYZE the database after the setup: with ``autovacuum = off`` (as on
    the machine of docs/benchmarks.md) PostgreSQL would otherwise plan the
    callbacks' queries with the statistics of empty tables."""
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
    finally:
        conn.close()


def make_payments(registry, sim, company_id, start, stop):
    """Payments ``start``..``stop``: STK pushes accepted by the simulator (one
    invoice each) and invoices to be paid at the paybill. Returns the bodies
    of their STK callbacks and of their paybill confirmations."""
    checkout_ids, c2b = [], []
    for chunk in range(start, stop, SETUP_CHUNK):
        chunk_stop = min(stop, chunk + SETUP_CHUNK)
        with registry.cursor() as cr:
            env = odoo_env(cr)
            company = env["res.company"].browse(company_id)
            invoices = create_invoices(env, company, "stk", chunk, chunk_stop, STK_BASE)
            for invoice in invoices:
                wizard = (
                    env["isp.mpesa.request"]
                    .with_context(
                        default_invoice_ids=invoice.ids,
                        allowed_company_ids=company.ids,
                    )
                    .create({"phone": invoice.partner_id.mobile})
                )
                wizard.action_send()
            txs = env["payment.transaction"].search(
                [("invoice_ids", "in", invoices.ids), ("state", "=", "pending")],
                order="id",
            )
            if len(txs) != len(invoices):
                raise AssertionError(f"{len(txs)} pending STK pushes")
            checkout_ids += txs.mapped("mpesa_checkout_request_id")
            invoices = create_invoices(env, company, "c2b", chunk, chunk_stop, C2B_BASE)
            for i, invoice in zip(range(chunk, chunk_stop), invoices, strict=True):
                c2b.append((i, invoice.name))
        say(f"  {chunk_stop - start} STK pushes and paybill invoices ready")
    stk_bodies = [
        json.dumps(sim.stk_callback_payload(cid)).encode() for cid in checkout_ids
    ]
    c2b_bodies = []
    for i, number in c2b:
        body = {
            "TransactionType": "Pay Bill",
            "TransID": f"Q{i:06d}{secrets.token_hex(2).upper()}",  # unique
            "TransTime": eat_timestamp(),
            "TransAmount": f"{C2B_BASE + i:.2f}",
            "BusinessShortCode": SANDBOX_SHORTCODE,
            "BillRefNumber": number,
            "InvoiceNumber": "",
            "OrgAccountBalance": "125000.00",
            "ThirdPartyTransID": "",
            "MSISDN": phone("c2b", i),
            "FirstName": "JOHN",
            "MiddleName": "",
            "LastName": "",
        }
        c2b_bodies.append(json.dumps(body).encode())
    return stk_bodies, c2b_bodies


def profile_handlers(args, registry, sim, data):
    """cProfile isp_mpesa's handlers in this process (no HTTP): ``--profile-n``
    more STK callbacks and paybill confirmations, one transaction each, as the
    payments job runs them on the callbacks the routes kept. Writes
    DIR/stk.prof and DIR/c2b.prof; prints the top."""
    import cProfile
    import pstats

    import odoo

    n, count = args.n, args.profile_n
    stk, c2b = make_payments(registry, sim, data["company"], n, n + count)
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    for kind, bodies in (("stk", stk), ("c2b", c2b)):
        profiler = cProfile.Profile()
        queries = odoo.sql_db.sql_counter
        started = time.perf_counter()
        for body in bodies:
            payload = json.loads(body)
            with registry.cursor() as cr:
                env = odoo_env(cr)
                provider = env["payment.provider"].browse(data["provider"])
                profiler.enable()
                if kind == "stk":
                    env["payment.transaction"].with_context(
                        mpesa_defer_post_process=True
                    )._mpesa_handle_stk_callback(
                        provider, payload["Body"]["stkCallback"]
                    )
                else:
                    env["isp.mpesa.payment"].with_context(
                        mpesa_defer_post_process=True
                    )._mpesa_handle_c2b_confirmation(provider, payload)
                env.flush_all()
                profiler.disable()
        seconds = time.perf_counter() - started
        queries = odoo.sql_db.sql_counter - queries
        path = Path(args.profile, f"{kind}.prof")
        profiler.dump_stats(path)
        say(
            f"\n== Profile of {count} {kind} handlers in-process: "
            f"{seconds / count * 1000:.1f} ms and {queries / count:.0f} SQL "
            f"queries each ({path}) =="
        )
        stats = pstats.Stats(str(path))
        stats.sort_stats("cumulative").print_stats(40)


# --- firing -----------------------------------------------------------------------


def fire(port, requests_, clients):
    """POST each (path, body) with ``clients`` threads; returns the result of
    the run: seconds, latencies (s), answers by (status, body), client CPU."""
    latencies = [0.0] * len(requests_)
    answers = [None] * len(requests_)
    cpu = []
    cpu_lock = threading.Lock()
    next_index = iter(range(len(requests_)))
    index_lock = threading.Lock()
    headers = {"Content-Type": "application/json"}

    def client():
        started_cpu = time.thread_time()
        while True:
            with index_lock:
                index = next(next_index, None)
            if index is None:
                break
            path, body = requests_[index]
            clock = time.perf_counter()
            # Odoo's HTTP server speaks HTTP/1.0: one connection per request
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
                answers[index] = (response.status, data)
            except OSError as exc:
                answers[index] = ("error", repr(exc).encode())
            finally:
                conn.close()
            latencies[index] = time.perf_counter() - clock
        with cpu_lock:
            cpu.append(time.thread_time() - started_cpu)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for __ in range(clients):
            pool.submit(client)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "latencies": latencies,
        "answers": answers,
        "client_cpu_s": sum(cpu),
    }


def parse_json(data):
    try:
        return json.loads(data)
    except ValueError:
        return data


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measured(name, server, port, requests_, clients, expected):
    """One arm, with its CPU accounting; checks every answer."""
    load = os.getloadavg()[0]
    process_before = time.process_time()
    odoo_before = server.cpu_seconds()
    pg_before = postgres_cpu_seconds(server.db)
    machine_before = machine_cpu_seconds()
    result = fire(port, requests_, clients)
    machine = machine_cpu_seconds() - machine_before
    pg = postgres_cpu_seconds(server.db) - pg_before
    odoo_cpu = server.cpu_seconds() - odoo_before
    process = time.process_time() - process_before
    wrong = [
        (i, answer)
        for i, answer in enumerate(result["answers"])
        if (answer[0], parse_json(answer[1])) != expected
    ]
    if wrong:
        raise AssertionError(f"{name}: {len(wrong)} wrong answers, e.g. {wrong[:3]}")
    n = len(requests_)
    lat = result["latencies"]
    row = {
        "arm": name,
        "requests": n,
        "seconds": round(result["seconds"], 2),
        "per_s": n / result["seconds"],
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "client_cpu_ms_per_req": result["client_cpu_s"] / n * 1000,
        "bench_process_cpu_ms_per_req": process / n * 1000,
        "odoo_cpu_ms_per_req": odoo_cpu / n * 1000,
        "pg_cpu_ms_per_req": pg / n * 1000,
        "machine_cpu_ms_per_req": machine / n * 1000,
        "other_cpu_ms_per_req": max(0.0, machine - odoo_cpu - pg - process) / n * 1000,
        "loadavg_before": round(load, 2),
    }
    say(
        f"  {name:10} {n:,} requests in {row['seconds']:.1f} s = "
        f"{row['per_s']:.1f}/s, p50 {row['p50_ms']:.1f} ms, p99 "
        f"{row['p99_ms']:.1f} ms; CPU ms/request: Odoo "
        f"{row['odoo_cpu_ms_per_req']:.1f}, PostgreSQL {row['pg_cpu_ms_per_req']:.1f}"
        f", client {row['client_cpu_ms_per_req']:.2f} (bench process "
        f"{row['bench_process_cpu_ms_per_req']:.2f}), others "
        f"{row['other_cpu_ms_per_req']:.1f}; load {load:.2f}"
    )
    return row


def unprocessed(registry, company_id):
    """Work left to the payments job: callbacks kept in the inbox, paybill
    receipts with no transaction yet, done transactions not post-processed."""
    with registry.cursor() as cr:
        cr.execute(
            """
            SELECT (SELECT count(*) FROM isp_mpesa_callback
                     WHERE company_id = %s AND state = 'new')
                 + (SELECT count(*) FROM payment_transaction
                     WHERE company_id = %s AND state = 'done'
                       AND is_post_processed IS NOT TRUE)
                 + (SELECT count(*) FROM isp_mpesa_payment
                     WHERE company_id = %s AND state = 'received')
            """,
            [company_id, company_id, company_id],
        )
        return cr.fetchone()[0]


def drain(args, registry, server, company_id, since):
    """The payments the callbacks left to Odoo's post-processing job: wait
    for the server's cron worker to make them all (or, with no cron worker,
    run the job here). Returns the row of that phase."""
    load = os.getloadavg()[0]
    started = time.monotonic()
    odoo_before = server.cpu_seconds()
    left = unprocessed(registry, company_id)
    if args.cron_threads:
        while unprocessed(registry, company_id):
            if time.monotonic() - started > 3600:
                raise AssertionError("the post-processing job did not finish in 1 h")
            time.sleep(0.25)
    else:
        with registry.cursor() as cr:
            odoo_env(cr)["payment.transaction"]._cron_mpesa_post_process()
    seconds = time.monotonic() - started
    row = {
        "arm": "post-processing",
        "left_after_callbacks": left,
        "seconds_after_callbacks": round(seconds, 2),
        "seconds_since_first_callback": round(time.monotonic() - since, 2),
        "odoo_cpu_s": round(server.cpu_seconds() - odoo_before, 2),
        "loadavg_before": round(load, 2),
        "where": "server cron worker" if args.cron_threads else "in this process",
    }
    say(
        f"  payments left to the post-processing job after the callbacks: {left:,}"
        f", all made {seconds:.1f} s later ({row['where']}); "
        f"{2 * args.n / row['seconds_since_first_callback']:.1f} payments/s "
        "from the first callback to the last payment"
    )
    return row


def warm_up(port, clients, token):
    """Each worker loads the registry on its first request: not timed."""
    unknown = {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "0",
                "CheckoutRequestID": "ws_CO_warm_up",
                "ResultCode": 1032,
                "ResultDesc": "Request cancelled by user",
            }
        }
    }
    requests_ = [
        (f"/isp_bench/floor/{token}", b'{"warm": "up"}'),
        (f"/payment/daraja/stk/{token}", json.dumps(unknown).encode()),
        (f"/payment/daraja/c2b/validate/{token}", b'{"TransAmount": "10.00"}'),
    ] * (clients * 4)
    fire(port, requests_, clients)


# --- checks ------------------------------------------------------------------------


def check(registry, company_id, n):
    """Exactly 2N payments, one per receipt, the hand-computed total."""
    expected_total = sum(STK_BASE + i for i in range(n)) + sum(
        C2B_BASE + i for i in range(n)
    )
    with registry.cursor() as cr:
        cr.execute(
            """
            SELECT count(*), count(DISTINCT p.id), coalesce(sum(p.amount), 0),
                   count(*) FILTER (WHERE p.state IN ('paid', 'in_process'))
              FROM account_payment p
             WHERE p.company_id = %s
            """,
            [company_id],
        )
        payments, distinct, total, posted = cr.fetchone()
        cr.execute(
            """
            SELECT count(*), count(DISTINCT name), count(DISTINCT transaction_id),
                   count(*) FILTER (WHERE channel = 'stk'),
                   count(*) FILTER (WHERE channel = 'c2b'),
                   count(*) FILTER (WHERE state = 'matched')
              FROM isp_mpesa_payment WHERE company_id = %s
            """,
            [company_id],
        )
        ledger, receipts, ledger_txs, stk, c2b, matched = cr.fetchone()
        cr.execute(
            """
            SELECT count(*), count(DISTINCT payment_id), count(DISTINCT mpesa_receipt)
              FROM payment_transaction
             WHERE company_id = %s AND state = 'done'
            """,
            [company_id],
        )
        done, tx_payments, tx_receipts = cr.fetchone()
        cr.execute(
            """
            SELECT count(*) FILTER (WHERE payment_state IN ('paid', 'in_payment')),
                   count(*)
              FROM account_move
             WHERE company_id = %s AND move_type = 'out_invoice'
            """,
            [company_id],
        )
        paid, invoices = cr.fetchone()
        cr.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE state = 'done')
              FROM isp_mpesa_callback WHERE company_id = %s
            """,
            [company_id],
        )
        kept, processed = cr.fetchone()
    facts = {
        # (the warm-up's STK failures are kept and processed too)
        "callbacks kept but not processed": (kept - processed, 0),
        "payments": (payments, 2 * n),
        "posted payments": (posted, 2 * n),
        "sum of payments": (round(float(total), 2), float(expected_total)),
        "ledger rows": (ledger, 2 * n),
        "distinct receipts": (receipts, 2 * n),
        "ledger STK / C2B": ((stk, c2b), (n, n)),
        "ledger rows with a transaction": (ledger_txs, 2 * n),
        "ledger rows matched": (matched, 2 * n),
        "done transactions": (done, 2 * n),
        "their distinct payments": (tx_payments, 2 * n),
        "their distinct receipts": (tx_receipts, 2 * n),
        "invoices paid": ((paid, invoices), (2 * n, 2 * n)),
    }
    del distinct
    wrong = {k: v for k, v in facts.items() if v[0] != v[1]}
    if wrong:
        raise AssertionError(
            ", ".join(f"{k} {got} != {want}" for k, (got, want) in wrong.items())
        )
    return (
        f"{kept:,} callbacks kept, all processed; "
        f"{payments:,} payments (posted), {receipts:,} distinct receipts "
        f"({stk:,} STK + {c2b:,} C2B), sum KES {float(total):,.2f} = hand-computed "
        f"{expected_total:,.2f}, {paid:,}/{invoices:,} invoices paid"
    )


def log_problems(log):
    """ERROR / CRITICAL lines and tracebacks of the server's log."""
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    return [
        line
        for line in text.splitlines()
        if re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", line) or "Traceback" in line
    ]


def retries_in_log(log):
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    return len(re.findall(r"tries left, try again", text))


# --- main ---------------------------------------------------------------------------


def summarize(rows, args):
    by_arm = {row["arm"]: row for row in rows if not row["arm"].startswith("floor")}
    floors = [row for row in rows if row["arm"].startswith("floor")]
    floor_rate = statistics.median(row["per_s"] for row in floors)
    real_seconds = by_arm["real STK"]["seconds"] + by_arm["real C2B"]["seconds"]
    real_rate = 2 * args.n / real_seconds
    return {
        "floor_per_s": floor_rate,
        "floor_p50_ms": statistics.median(row["p50_ms"] for row in floors),
        "floor_p99_ms": statistics.median(row["p99_ms"] for row in floors),
        "real_per_s": real_rate,
        "ratio": real_rate / floor_rate,
        "stk_ratio": by_arm["real STK"]["per_s"] / floor_rate,
        "c2b_ratio": by_arm["real C2B"]["per_s"] / floor_rate,
    }


def markdown(rows, summary):
    lines = [
        "| arm | requests | seconds | requests/s | p50 ms | p99 ms "
        "| Odoo CPU ms/req | PostgreSQL CPU ms/req | client CPU ms/req "
        "| load before |",
        "|" + " --- |" * 10,
    ]
    for row in rows:
        lines.append(
            f"| {row['arm']} | {row['requests']:,} | {row['seconds']:.1f} | "
            f"{row['per_s']:.1f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['odoo_cpu_ms_per_req']:.1f} | {row['pg_cpu_ms_per_req']:.1f} | "
            f"{row['client_cpu_ms_per_req']:.2f} | {row['loadavg_before']} |"
        )
    lines.append(
        f"\nfloor (median of {sum(r['arm'].startswith('floor') for r in rows)}): "
        f"{summary['floor_per_s']:.1f}/s; real (STK + C2B): "
        f"{summary['real_per_s']:.1f}/s; real/floor {summary['ratio']:.2f} "
        f"(STK {summary['stk_ratio']:.2f}, C2B {summary['c2b_ratio']:.2f}); "
        f"target {TARGET}: {'met' if summary['ratio'] >= TARGET else 'NOT met'}"
    )
    return "\n".join(lines)


def run(args):
    create_database(args)
    registry = odoo_registry(args)
    rows = []
    with (
        DarajaSimulator(
            consumer_key=CONSUMER_KEY,
            consumer_secret=CONSUMER_SECRET,
            shortcode=SANDBOX_SHORTCODE,
            passkey=SANDBOX_PASSKEY,
            c2b_shortcode=SANDBOX_SHORTCODE,
            auto_deliver=False,
        ) as sim,
        OdooServer(args) as server,
    ):
        say(f"Odoo on {server.url} (--workers={args.workers}), log {server.log}")
        say("Preparation (not timed)")
        data = prepare(args, registry, sim, server.url)
        token = data["token"]
        stk = [(f"/payment/daraja/stk/{token}", b) for b in data["stk"]]
        c2b = [(f"/payment/daraja/c2b/confirm/{token}", b) for b in data["c2b"]]
        floor_path = f"/isp_bench/floor/{token}"
        floor = [
            (floor_path, body)
            for pair in zip(data["stk"], data["c2b"], strict=True)
            for body in pair
        ]
        accepted = (200, {"ResultCode": 0, "ResultDesc": "Accepted"})
        success = (200, {"ResultCode": 0, "ResultDesc": "Success"})
        warm_up(server.port, args.clients, token)
        queries_before = len(sim.queries)
        say(f"Firing with {args.clients} clients")
        rows.append(
            measured("floor 1", server, server.port, floor, args.clients, accepted)
        )
        since = time.monotonic()
        rows.append(
            measured("real STK", server, server.port, stk, args.clients, accepted)
        )
        rows.append(
            measured("real C2B", server, server.port, c2b, args.clients, success)
        )
        post = drain(args, registry, server, data["company"], since)
        rows.append(
            measured("floor 2", server, server.port, floor, args.clients, accepted)
        )
        queries = len(sim.queries) - queries_before
        problems = log_problems(server.log)
        retries = retries_in_log(server.log)
        result = check(registry, data["company"], args.n)
        if args.profile:
            profile_handlers(args, registry, sim, data)
    summary = summarize(rows, args)
    summary["post_processing"] = post
    say("\n== Results ==")
    say(markdown(rows, summary))
    say(
        f"post-processing: {post['left_after_callbacks']:,} payments left after "
        f"the callbacks, all made {post['seconds_after_callbacks']:.1f} s later "
        f"({post['where']}, Odoo CPU {post['odoo_cpu_s']:.1f} s); first callback "
        f"to last payment {post['seconds_since_first_callback']:.1f} s"
    )
    say(f"check: {result}")
    say(f"STK queries made by Odoo during the real run: {queries}")
    say(f"serialization-failure retries in Odoo's log: {retries}")
    if problems:
        say(f"ERROR lines in {server.log}:\n" + "\n".join(problems[:20]))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rows": rows, "summary": summary}, indent=2)
        )
    return registry


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tests/bench/mpesa_bench.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", default="isp_mpesa_bench", help="(recreated)")
    parser.add_argument("--n", type=int, default=1000, help="STK and C2B payments")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=4, help="Odoo prefork workers (0: threaded)"
    )
    parser.add_argument(
        "--cron-threads",
        type=int,
        default=1,
        help="Odoo's --max-cron-threads: the worker that makes the payments the "
        "callbacks leave to the post-processing job (0: the job runs in this "
        "process after the callbacks)",
    )
    parser.add_argument("--log-level", default="info", help="Odoo's --log-level")
    parser.add_argument(
        "--db-filter",
        action="store_true",
        help="serve the database with --db-filter=^DB$ besides --database: Odoo "
        "then lists the databases, on a new PostgreSQL connection, for every "
        "request without a session (the default serves by --database alone, "
        "as the Docker stack does)",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="after the run, cProfile isp_mpesa's handlers in-process",
    )
    parser.add_argument("--profile-n", type=int, default=50, metavar="M")
    args = parser.parse_args(argv)
    try:
        run(args)
    finally:
        if not args.keep_db:
            import odoo

            odoo.modules.registry.Registry.delete(args.db)
            odoo.sql_db.close_db(args.db)
            harness.drop_db(args.db)
            say(f"Database {args.db} dropped")


if __name__ == "__main__":
    main()
