"""tests/serve really serves the add-ons: real Odoo, real HTTP, real JSON-RPC.

Runs ``tests/serve --no-init`` on the database tests/run has just built, on a
free port, logs in as admin over JSON-RPC and checks that every add-on of the
repository is installed.
"""

import os
import subprocess
import time
from itertools import count
from pathlib import Path

import pytest
import requests

import harness

SERVE = harness.TESTS_DIR / "serve"
STARTUP_TIMEOUT = 60  # seconds until /web/login answers 200
_request_ids = count(1)


def jsonrpc(session, url, params):
    """POST a JSON-RPC 2.0 call as Odoo's web client does; return its result."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": next(_request_ids),
        "params": params,
    }
    response = session.post(url, json=payload, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "error" not in body, body["error"]
    return body["result"]


def wait_for_login_page(proc, base_url, log):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"tests/serve exited with status {proc.returncode}; see {log}")
        try:
            status = requests.get(f"{base_url}/web/login", timeout=5).status_code
        except requests.RequestException:  # not up yet, or busy starting
            status = None
        if status == 200:
            return
        time.sleep(0.5)
    pytest.fail(
        f"/web/login did not answer 200 in {STARTUP_TIMEOUT}s ({status}); {log}"
    )


@pytest.fixture
def served_db(isp_test_db, tmp_path):
    """(base URL, database): tests/serve serving the test database."""
    log_dir = Path(os.environ.get("ISP_LOG_DIR") or tmp_path)
    log = log_dir / "serve.log"
    port = harness.free_port()
    cmd = [
        str(SERVE),
        "--no-init",
        f"--db={isp_test_db}",
        f"--port={port}",
        "--",  # Odoo's own options follow
        "--max-cron-threads=0",  # no cron job writing while we look
        f"--logfile={log}",
    ]
    with open(log_dir / "serve.out", "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_login_page(proc, base_url, log)
        yield base_url, isp_test_db
    finally:
        # tests/serve execs Odoo, so proc is Odoo itself: SIGTERM shuts it down.
        returncode = harness.stop_process(proc)
    assert returncode in (0, -15), f"Odoo stopped with status {returncode}; {log}"


def test_serve_answers_and_has_every_addon_installed(served_db):
    base_url, db = served_db
    addons = harness.selected_addons()
    assert addons, "no add-on to check"
    session = requests.Session()
    user = jsonrpc(
        session,
        f"{base_url}/web/session/authenticate",
        {"db": db, "login": "admin", "password": "admin"},
    )
    assert user["uid"] == 2, user  # base.user_admin
    installed = jsonrpc(
        session,
        f"{base_url}/web/dataset/call_kw/ir.module.module/search_count",
        {
            "model": "ir.module.module",
            "method": "search_count",
            "args": [[("name", "in", addons), ("state", "=", "installed")]],
            "kwargs": {},
        },
    )
    assert installed == len(addons), f"{installed} of {addons} installed"
