"""Plumbing shared by ``tests/run``, ``tests/serve`` and the top-level pytest tests.

It finds Odoo and the repository's add-ons, installs the Debian and Python
packages that are missing, makes sure PostgreSQL runs and builds Odoo command
lines. Only the standard library is imported at module level, so the scripts can
use it before anything else is installed; Odoo itself is never imported here
(its location is looked up without running it).

Environment variables understood everywhere (all optional):

``ISP_ADDONS``
    Comma-separated add-ons to install instead of every installable add-on at
    the repository root (an empty value installs none of them).
``ISP_ADDONS_PATH``
    The complete Odoo ``--addons-path`` to use instead of the computed one.
``ISP_ODOO_DATA_DIR``
    Odoo's ``--data-dir`` (filestore, sessions); default ``~/.local/share/Odoo``,
    Odoo's own default.
``ISP_LOGS_DIR``
    Where tests/run and tests/serve write their logs; default ``tests/.logs``.
``ODOO_BIN``
    The command that runs Odoo, e.g. ``odoo`` or ``/opt/odoo/odoo-bin``; default
    ``tests/odoo_server.py`` (Odoo's ``odoo-bin``) with the interpreter running
    the script, i.e. the Odoo that ``python3`` imports.
"""

import ast
import contextlib
import getpass
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"
# Logs of tests/run and tests/serve (ISP_LOGS_DIR: elsewhere, e.g. in the
# Docker stack, where the repository is mounted read-only).
LOGS_DIR = Path(os.environ.get("ISP_LOGS_DIR") or TESTS_DIR / ".logs")

ODOO_SERIES = "18.0"
ODOO_MISSING_MSG = (
    "Odoo 18.0 is not importable by python3: install Odoo 18.0 Community "
    "(see README, Prerequisites)"
)

# Debian packages needed to *run* the add-ons: wkhtmltopdf renders Odoo's PDF
# reports (invoices).
RUNTIME_APT_PACKAGES = ["wkhtmltopdf"]
# Debian packages the tests need on top: chromium runs Odoo's JS tours
# (HttpCase.start_tour); without it every tour is *skipped*, which tests/run
# reports as a failure. The tests of isp_radius run a real FreeRADIUS 3.2 on
# PostgreSQL (rlm_sql_postgresql, and its schema.sql); freeradius-utils brings
# radclient / radtest for debugging by hand. poppler-utils' pdftotext reads
# the text of the invoice PDFs (tests/test_sending.py); gettext's msgfmt
# checks the translation catalogues (tests/test_catalogues.py).
TEST_APT_PACKAGES = [
    *RUNTIME_APT_PACKAGES,
    "chromium",
    "freeradius",
    "freeradius-postgresql",
    "freeradius-utils",
    "gettext",
    "poppler-utils",
]

# Python requirements: the add-ons' own, then the test-only ones.
RUNTIME_REQUIREMENTS = [REPO_ROOT / "requirements.txt"]
TEST_REQUIREMENTS = [*RUNTIME_REQUIREMENTS, TESTS_DIR / "requirements.txt"]

# The database names Odoo's database manager accepts (web/controllers/database.py).
DB_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class HarnessError(Exception):
    """A precondition that the scripts cannot fix by themselves."""


# --- Odoo ------------------------------------------------------------------


def odoo_importable() -> bool:
    """Whether ``python3`` (this interpreter) imports Odoo 18.0."""
    check = (
        "import odoo.release as r; "
        f"assert r.major_version == {ODOO_SERIES!r}, r.major_version"
    )
    proc = subprocess.run(
        [sys.executable, "-c", check],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode == 0


def odoo_command() -> list[str]:
    """The command that starts Odoo's server (see ``ODOO_BIN``)."""
    if os.environ.get("ODOO_BIN"):
        return shlex.split(os.environ["ODOO_BIN"])
    return [sys.executable, str(TESTS_DIR / "odoo_server.py")]


def _is_addons_dir(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*/__manifest__.py"))


def odoo_addons_dirs() -> list[str]:
    """Odoo's own add-ons directories, found from the importable ``odoo`` package.

    A source checkout has ``<checkout>/addons`` (web, account, ...) beside the
    package and ``odoo/addons`` (base) inside it; a packaged Odoo has
    everything in ``odoo/addons``.
    """
    spec = importlib.util.find_spec("odoo")
    if spec is None or spec.origin is None:
        raise HarnessError(ODOO_MISSING_MSG)
    package_dir = Path(spec.origin).resolve().parent
    candidates = [package_dir.parent / "addons", package_dir / "addons"]
    return [str(path) for path in candidates if _is_addons_dir(path)]


def addons_path() -> str:
    """The ``--addons-path``: this repository first, then Odoo's directories."""
    if os.environ.get("ISP_ADDONS_PATH"):
        return os.environ["ISP_ADDONS_PATH"]
    return ",".join([str(REPO_ROOT), *odoo_addons_dirs()])


def data_dir() -> str:
    """Odoo's ``--data-dir``: the same default as Odoo's, made explicit so that
    the filestore of a dropped test database can be removed too."""
    default = Path.home() / ".local" / "share" / "Odoo"
    return os.environ.get("ISP_ODOO_DATA_DIR") or str(default)


def discover_addons(root: Path = REPO_ROOT) -> list[str]:
    """Every top-level directory of ``root`` that is an installable add-on."""
    names = []
    for manifest in sorted(root.glob("*/__manifest__.py")):
        try:
            data = ast.literal_eval(manifest.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError) as exc:
            raise HarnessError(f"cannot read {manifest}: {exc}") from exc
        if data.get("installable", True):
            names.append(manifest.parent.name)
    return names


def selected_addons() -> list[str]:
    """The add-ons to install: ``ISP_ADDONS`` if set, else all discovered ones."""
    override = os.environ.get("ISP_ADDONS")
    if override is not None:
        return [name.strip() for name in override.split(",") if name.strip()]
    return discover_addons()


def check_db_name(name: str) -> str:
    if not DB_NAME_RE.match(name):
        raise HarnessError(
            f"invalid database name {name!r} (Odoo allows {DB_NAME_RE.pattern})"
        )
    return name


# --- packages ----------------------------------------------------------------


def _dpkg_installed(package: str) -> bool:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and proc.stdout.strip() == "install ok installed"


def ensure_apt_packages(packages: list[str]) -> list[str]:
    """Install the Debian packages that are missing; return what was installed."""
    if shutil.which("dpkg-query") is None:
        raise HarnessError(
            "not a Debian system: install these yourself: " + " ".join(packages)
        )
    missing = [package for package in packages if not _dpkg_installed(package)]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise HarnessError(
            "missing Debian packages; install them with: "
            f"sudo apt-get install -y {' '.join(missing)}"
        )
    print(f"Installing Debian packages: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", *missing],
    ):
        if subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, check=False
        ).returncode:
            raise HarnessError(f"`{' '.join(cmd)}` failed")
    return missing


def _read_requirements(files: list[Path]) -> list[str]:
    lines = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                lines.append(line)
    return lines


def _requirement_satisfied(line: str) -> bool:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # no `packaging`: only check that the distribution exists
        name, specifier = re.match(r"[A-Za-z0-9._-]+", line).group(), None
    else:
        requirement = Requirement(line)
        name, specifier = requirement.name, requirement.specifier
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return specifier is None or specifier.contains(version, prereleases=True)


def ensure_python_packages(files: list[Path]) -> list[str]:
    """pip-install the requirements of ``files`` that are not satisfied yet."""
    missing = [
        line for line in _read_requirements(files) if not _requirement_satisfied(line)
    ]
    if not missing:
        return []
    print(f"Installing Python packages: {' '.join(missing)}", flush=True)
    cmd = [sys.executable, "-m", "pip", "install", "-q", *missing]
    in_venv = sys.prefix != sys.base_prefix
    marker = Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    if marker.exists() and not in_venv:  # Debian's python3 (PEP 668)
        cmd.append("--break-system-packages")
    if subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode:
        raise HarnessError(f"`{' '.join(cmd)}` failed")
    return missing


# --- PostgreSQL ---------------------------------------------------------------


def _pg_ready() -> bool:
    if shutil.which("pg_isready") is None:
        raise HarnessError("pg_isready not found: install PostgreSQL (postgresql-15)")
    return subprocess.run(["pg_isready", "-q"], check=False).returncode == 0


def _start_pg_cluster() -> None:
    """Start the local Debian cluster listening on PGPORT (5432 by default)."""
    if shutil.which("pg_lsclusters") is None:
        raise HarnessError("PostgreSQL is not running and pg_lsclusters is missing")
    port = os.environ.get("PGPORT", "5432")
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        version, cluster, cluster_port, status = line.split()[:4]
        if cluster_port == port and status != "online":
            print(f"Starting PostgreSQL cluster {version}/{cluster}", flush=True)
            cmd = [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                version,
                cluster,
                "start",
            ]
            if subprocess.run(cmd, check=False).returncode:
                raise HarnessError(f"`{' '.join(cmd)}` failed")
            return
    raise HarnessError(f"no PostgreSQL cluster on port {port} in pg_lsclusters")


def _ensure_db_role() -> None:
    """Odoo connects as the OS user through the socket: make sure that role exists."""
    user = getpass.getuser()
    if user == "postgres":
        raise HarnessError(
            "Odoo refuses to run as the `postgres` user; use another user"
        )
    probe = ["psql", "-XAtq", "-d", "postgres", "-c", "SELECT 1"]
    if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return
    if os.geteuid() == 0 and shutil.which("runuser") and not os.environ.get("PGHOST"):
        print(f"Creating PostgreSQL role {user}", flush=True)
        cmd = ["runuser", "-u", "postgres", "--", "createuser", "--superuser", user]
        if subprocess.run(cmd, check=False).returncode == 0:
            return
    raise HarnessError(
        f"cannot connect to PostgreSQL as {user}; create the role with: "
        f"sudo -u postgres createuser --superuser {user}"
    )


def ensure_postgres(timeout: float = 30) -> None:
    """Start PostgreSQL if it is not running and check that we can log in."""
    if not _pg_ready():
        _start_pg_cluster()
        deadline = time.monotonic() + timeout
        while not _pg_ready():
            if time.monotonic() > deadline:
                raise HarnessError(f"PostgreSQL not ready after {timeout:.0f}s")
            time.sleep(0.5)
    _ensure_db_role()


def _psql(sql: str, **variables: str) -> str:
    """Run ``sql`` on the ``postgres`` database.

    ``:'name'`` in ``sql`` is the variable as a literal, ``:"name"`` as an identifier.
    """
    cmd = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]
    for name, value in variables.items():
        cmd += ["-v", f"{name}={value}"]
    # Variables are only interpolated in SQL read from stdin, not with -c.
    proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise HarnessError(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def installed_addons(db: str, addons: list[str]) -> set[str]:
    """Those of ``addons`` that are installed in ``db``."""
    cmd = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", db]
    sql = (
        "SELECT name FROM ir_module_module WHERE state = 'installed' "
        f"AND name IN ({', '.join(repr(a) for a in addons) or 'NULL'})"
    )
    proc = subprocess.run(
        [*cmd, "-c", sql], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise HarnessError(f"psql failed: {proc.stderr.strip()}")
    return set(proc.stdout.split())


def db_exists(name: str) -> bool:
    return _psql("SELECT 1 FROM pg_database WHERE datname = :'db'", db=name) == "1"


def drop_db(name: str) -> None:
    """Drop the database (closing its connections) and its Odoo filestore."""
    check_db_name(name)
    _psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=name)
    shutil.rmtree(Path(data_dir(), "filestore", name), ignore_errors=True)


# --- processes ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def odoo_http_server(db: str, log: Path, startup_timeout: float = 120):
    """Odoo serving ``db`` over real HTTP on a free 127.0.0.1 port (threaded,
    no cron worker, INFO log to ``log``), for the top-level tests; yields its
    base URL and stops it afterwards.

    :raise HarnessError: when it exits or does not answer in time
    """
    import requests  # noqa: PLC0415 - installed by tests/run

    log.unlink(missing_ok=True)  # Odoo appends: only this run's records
    port = free_port()
    cmd = [
        *odoo_command(),
        f"--database={db}",
        f"--addons-path={addons_path()}",
        f"--data-dir={data_dir()}",
        "--db-filter=^" + re.escape(db) + "$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--workers=0",
        "--max-cron-threads=0",  # no job running behind the tests' back
        "--log-level=info",
        f"--logfile={log}",
    ]
    with open(log.with_suffix(".out"), "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise HarnessError(
                    f"Odoo exited with status {proc.returncode}; see {log}"
                )
            try:
                if requests.get(f"{url}/web/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"Odoo did not answer in {startup_timeout}s; see {log}"
                )
            time.sleep(0.5)
        # One request down a route's path before any parallel one: the first
        # request of a threaded Odoo computes the add-ons' static paths, and two
        # threads doing that at once can fail in CPython 3.11's ast.parse
        # ("SystemError: AST constructor recursion depth mismatch"): Odoo's.
        requests.get(f"{url}/web/static/warm/up", timeout=30)
        yield url
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM (Odoo shuts down gracefully), then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# --- helpers of the end-to-end tests ------------------------------------------

E2E_COA_SECRET = "e2e-coa-secret"


def wait_for(predicate, timeout=5.0):
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def create_bench_database(db, modules, addons=None, say=print):
    """Drop ``db`` if it exists, then create it with ``modules`` (a list)
    installed and no demo data, as the benchmarks start (log in LOGS_DIR)."""
    check_db_name(db)
    ensure_postgres()
    if db_exists(db):
        say(f"Dropping the existing database {db}")
        drop_db(db)
    LOGS_DIR.mkdir(parents=True, exist_ok=True)
    log = LOGS_DIR / f"bench-{db}.log"
    cmd = [
        *odoo_command(),
        f"--database={db}",
        f"--addons-path={addons or addons_path()}",
        f"--data-dir={data_dir()}",
        f"--init={','.join(modules)}",
        "--without-demo=all",
        "--stop-after-init",
        "--max-cron-threads=0",
        "--log-level=warn",
        f"--logfile={log}",
    ]
    say(f"Creating {db} ({', '.join(modules)}, no demo data): {shlex.join(cmd)}")
    started = time.monotonic()
    if subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode:
        raise HarnessError(f"creating {db} failed, see {log}")
    say(f"  done in {time.monotonic() - started:.0f} s (log: {log})")


def open_registry(db, addons=None):
    """Configure Odoo as a library for ``db`` and return its registry."""
    import odoo  # noqa: PLC0415 - only where Odoo is importable

    odoo.tools.config.parse_config(
        [
            f"--database={db}",
            f"--addons-path={addons or addons_path()}",
            f"--data-dir={data_dir()}",
            "--log-level=warn",
            "--max-cron-threads=0",
        ]
    )
    return odoo.modules.registry.Registry(db)
