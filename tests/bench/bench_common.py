"""What the isp_billing benchmarks share (``billing_run.py``, ``send_run.py``,
``dunning_run.py``): Odoo as a library, the benchmark database, the machine's
description, the set-up of the company and its plan, the meter of a timed part
(wall time, CPU of the process and of its PostgreSQL backend, SQL queries,
memory) and the child processes an arm runs in, started together.

Standard library, psycopg2 and Odoo (imported where needed); no benchmark logic.
"""

import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arm_sampler import LoadSampler, WaitSampler  # noqa: E402

import harness  # noqa: E402

PLAN_PRICE = 2999.0
VAT_RATE = 16.0


def say(message):
    print(message, flush=True)


# --- Odoo as a library --------------------------------------------------------


def odoo_registry(db):
    """Configure Odoo for ``db`` and return its registry."""
    return harness.open_registry(db)


def odoo_env(cr, context=None):
    import odoo

    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, context or {})


def create_database(db, modules=("isp_billing",)):
    """Drop ``db`` if it exists, then create it with ``modules``, no demo."""
    harness.create_bench_database(db, list(modules), say=say)


def drop_database(db):
    """Forget Odoo's registry and connections of ``db``, then drop it."""
    import odoo

    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)
    harness.drop_db(db)


# --- memory and CPU of this process ---------------------------------------------


def rss_mb():
    """Current resident set size of this process, in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    """Peak resident set size of this process (``ru_maxrss``), in MB: since its
    start, or since the last reset_peak_rss()."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss():
    """Reset the peak RSS (VmHWM, which ``ru_maxrss`` reads) to the current RSS,
    so that the peak of the timed part excludes loading Odoo's registry."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def cpu_seconds(pid):
    """User + system CPU time of process ``pid``, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the machine ----------------------------------------------------------------


def wkhtmltopdf_version():
    proc = subprocess.run(
        ["wkhtmltopdf", "--version"], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "missing"


def wkhtmltopdf_patched():
    """Whether wkhtmltopdf is built on a patched Qt: an unpatched build (Debian's
    package) renders one document per call and fails on a batch of invoices."""
    return "patched qt" in wkhtmltopdf_version()


def sources_fingerprint():
    """Short SHA-256 of isp_billing's Python sources: which engine was measured
    (the repository may have no commit for it)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((harness.REPO_ROOT / "isp_billing").rglob("*.py")):
        digest.update(str(path.relative_to(harness.REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine_info(cr):
    import odoo

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    cr.execute("SHOW server_version")
    pg_version = cr.fetchone()[0]
    cr.execute("SHOW autovacuum")
    autovacuum = cr.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "postgresql": pg_version,
        "autovacuum": autovacuum,
        "odoo": odoo.release.version,
        "python": platform.python_version(),
        "wkhtmltopdf": wkhtmltopdf_version(),
        "isp_billing_sources": sources_fingerprint(),
    }


@contextlib.contextmanager
def report_server(db):
    """Serve ``db`` over HTTP while invoices are sent: wkhtmltopdf loads the
    report's assets from ``report.url`` and fails without a server."""
    port = harness.free_port()
    log = harness.LOGS_DIR / f"bench-{db}-http.log"
    cmd = [
        *harness.odoo_command(),
        f"--database={db}",
        f"--addons-path={harness.addons_path()}",
        f"--data-dir={harness.data_dir()}",
        "--db-filter=^" + db.replace(".", r"\.") + "$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
        f"--logfile={log}",
    ]
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/web/login", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise harness.HarnessError(
                        f"the HTTP server did not start, see {log}"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        harness.stop_process(server)


class AutoAnalyze:
    """Autovacuum's ANALYZE, for a server that runs with ``autovacuum = off``.

    Without fresh statistics PostgreSQL keeps the plans of empty tables while
    tens of thousands of invoices are inserted: e.g. Odoo's query for the last
    invoice number then scans every invoice of the year (5 ms per invoice at
    4,000 invoices, and growing) instead of reading one row. Every ``interval``
    seconds, and before each arm, the tables past autovacuum's default
    threshold (50 rows + 10 % changed since the last ANALYZE) are analyzed, as
    autovacuum would. Nothing is done when autovacuum is on."""

    QUERY = """
        SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
         WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup
    """

    def __init__(self, db, interval=15.0):
        import psycopg2

        self.conn = psycopg2.connect(dbname=db)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("SHOW autovacuum")
            self.needed = cur.fetchone()[0] != "on"
        self.interval = interval
        self.analyzed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def __enter__(self):
        if self.needed:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self.conn.close()
        return False

    def loop(self):
        while not self.stop.wait(self.interval):
            self.run()

    def run(self):
        if not self.needed:
            return
        with self.lock, self.conn.cursor() as cur:
            cur.execute(self.QUERY)
            for (table,) in cur.fetchall():
                cur.execute(f"ANALYZE {table}")
                self.analyzed += 1


# --- the company, its plan, customers ---------------------------------------------


def setup_company(env):
    """Configure the main company (generic chart, loaded without demo data) and
    create the 16 % VAT and the plan. Return ``(company, plan)``."""
    company = env.ref("base.main_company")
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    # The engine's sending is timed on its own: not during the billing run.
    company.write({"isp_send_invoices": False, "isp_journal_id": journal.id})
    vat = env["account.tax"].create(
        {
            "name": "VAT 16% (bench)",
            "amount": VAT_RATE,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": company.id,
        }
    )
    plan = env["product.product"].create(
        {
            "name": "10 Mbps Home (bench)",
            "type": "service",
            "list_price": PLAN_PRICE,
            "taxes_id": [(6, 0, vat.ids)],
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


def partner_ref(arm, n, index):
    return f"bench-{arm}-{n}-{index:06d}"


def create_partners(env, arm, n, start, stop):
    return env["res.partner"].create(
        [
            {
                "name": f"Bench {arm} {n} customer {index:06d}",
                "ref": partner_ref(arm, n, index),
                "email": f"{arm}.{n}.{index}@example.com",
                "company_id": False,
            }
            for index in range(start, stop)
        ]
    )


# --- the timed part of an arm (child process) ---------------------------------------


class Meter:
    """Wall time, CPU time, SQL queries and memory of the timed part of an arm.

    CPU time is this process's (with its children: wkhtmltopdf) plus that of
    the PostgreSQL backend serving ``cr``: on a shared machine it varies less
    than wall time, which other processes' load stretches."""

    def __init__(self, cr, profile=None):
        import odoo

        self.sql_db = odoo.sql_db
        cr.execute("SELECT pg_backend_pid()")
        self.backend_pid = cr.fetchone()[0]
        self.profile = profile
        self.profiler = None
        self.rss_samples = []
        # (wall time, units done, CPU seconds of process + backend) after each
        # batch, when the arm passes ``done`` to :meth:`sample`
        self.progress = []

    def cpu(self):
        times = os.times()
        client = times.user + times.system + times.children_user
        client += times.children_system
        return client, cpu_seconds(self.backend_pid)

    def __enter__(self):
        self.cpu_before = self.cpu()
        self.startup_peak = peak_rss_mb()
        self.loadavg = os.getloadavg()[0]
        self.rss_before = rss_mb()
        reset_peak_rss()
        self.queries_before = self.sql_db.sql_counter
        if self.profile:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()
        self.started_at = time.time()
        self.started = time.perf_counter()
        self.progress.append((self.started_at, 0, sum(self.cpu_before)))
        return self

    def sample(self, done=None):
        """After each batch: the memory and, given the units ``done`` so far,
        a progress point (:func:`overlap_rates` uses them)."""
        self.rss_samples.append(rss_mb())
        if done is not None:
            self.progress.append((time.time(), done, sum(self.cpu())))

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.ended_at = time.time()
        if self.profiler:
            self.profiler.disable()
            self.profiler.dump_stats(self.profile)
        self.queries = self.sql_db.sql_counter - self.queries_before
        client, server = self.cpu()
        self.cpu_client = client - self.cpu_before[0]
        self.cpu_server = server - self.cpu_before[1]
        return False

    def result(self, invoices, **extra):
        return {
            "invoices": invoices,
            "seconds": round(self.seconds, 3),
            "invoices_per_s": round(invoices / self.seconds, 1) if self.seconds else 0,
            "cpu_client_s": round(self.cpu_client, 2),
            "cpu_db_s": round(self.cpu_server, 2),
            "cpu_ms_per_invoice": round(
                1000 * (self.cpu_client + self.cpu_server) / invoices, 1
            )
            if invoices
            else 0,
            "queries": self.queries,
            "queries_per_invoice": round(self.queries / invoices, 1) if invoices else 0,
            "rss_start_mb": round(self.rss_before, 1),
            "rss_first_batch_mb": round(self.rss_samples[0], 1)
            if self.rss_samples
            else None,
            "rss_end_mb": round(rss_mb(), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_growth_mb": round(peak_rss_mb() - self.rss_before, 1),
            "startup_peak_rss_mb": round(self.startup_peak, 1),
            "loadavg_start": round(self.loadavg, 2),
            "loadavg_end": round(os.getloadavg()[0], 2),
            "profiled": bool(self.profile),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "backend_pid": self.backend_pid,
            "progress": [
                (round(t, 3), done, round(cpu, 3)) for t, done, cpu in self.progress
            ],
            **extra,
        }


def _at(progress, moment):
    """Units done and CPU seconds at ``moment``, interpolated linearly between
    the progress points around it."""
    previous = progress[0]
    for point in progress[1:]:
        if point[0] >= moment:
            span = point[0] - previous[0]
            share = (moment - previous[0]) / span if span else 1.0
            return tuple(previous[i] + share * (point[i] - previous[i]) for i in (1, 2))
        previous = point
    return previous[1], previous[2]


def overlap_rates(results):
    """For children run at the same time (``results`` with ``progress``):
    the window in which all of them ran, and each one's units per second and
    CPU milliseconds per unit within it. In that window they shared the
    machine under the same load; once the first has finished, the others have
    it to themselves, so whole-run figures would favour the slower one.

    :return: ``(seconds, [(units_per_s, cpu_ms_per_unit, units)])``
    """
    start = max(r["progress"][0][0] for r in results)
    end = min(r["progress"][-1][0] for r in results)
    if end <= start:
        raise RuntimeError("the arms did not run at the same time")
    rates = []
    for result in results:
        done_0, cpu_0 = _at(result["progress"], start)
        done_1, cpu_1 = _at(result["progress"], end)
        done = done_1 - done_0
        rates.append(
            (
                done / (end - start),
                1000 * (cpu_1 - cpu_0) / done if done else 0.0,
                done,
            )
        )
    return end - start, rates


def wait_for_start(cr, barrier):
    """With ``barrier`` (the child's ``--barrier``): tell the parent that this
    child is ready (with its PostgreSQL backend's pid) and wait for its go on
    stdin, so that the K workers of an arm start together."""
    if not barrier:
        return
    cr.execute("SELECT pg_backend_pid()")
    print(f"READY {cr.fetchone()[0]}", flush=True)
    sys.stdin.readline()


def print_result(result):
    """What a child prints for its parent (:func:`child_result`)."""
    print("RESULT " + json.dumps(result), flush=True)


# --- child processes (parent process) ---------------------------------------------


def child_result(what, returncode, stdout, stderr):
    """The result dict a child printed (:func:`print_result`); on a failure,
    its output on stderr and RuntimeError("<what> failed")."""
    result_lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if returncode or not result_lines:
        sys.stderr.write(stdout[-4000:] + stderr[-8000:])
        raise RuntimeError(f"{what} failed")
    return json.loads(result_lines[-1][len("RESULT ") :])


def run_child(cmd, what):
    """Run one child process; return its result dict."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return child_result(what, proc.returncode, proc.stdout, proc.stderr)


def run_children(db, cmds, what):
    """Run the children ``cmds`` (each with ``--barrier`` added) started
    together: each loads Odoo, says READY, and starts its timed part on the
    parent's go. Samples the load average and the children's PostgreSQL
    backends meanwhile.

    :return: ``(results, load, waits)``: the children's result dicts, in the
        order of ``cmds``, the :class:`LoadSampler`'s and :class:`WaitSampler`'s
        results
    """
    import tempfile

    procs, pids = [], []
    try:
        for cmd in cmds:
            err = tempfile.TemporaryFile("w+")
            proc = subprocess.Popen(
                [*cmd, "--barrier"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            procs.append((proc, err))
        for proc, err in procs:
            line = proc.stdout.readline()
            if not line.startswith("READY "):
                proc.wait()
                err.seek(0)
                child_result(what, proc.returncode or 1, line, err.read())
            pids.append(int(line.split()[1]))
        load = LoadSampler().start()
        waits = WaitSampler(db, pids).start()
        for proc, __ in procs:
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        results = []
        for proc, err in procs:
            stdout = proc.stdout.read()
            proc.wait()
            err.seek(0)
            results.append(child_result(what, proc.returncode, stdout, err.read()))
        waits.stop()
        load.stop()
    finally:
        for proc, err in procs:
            if proc.poll() is None:
                harness.stop_process(proc)
            err.close()
    return results, load.result(), waits.result()
