"""The quick start's promises: ``tests/serve`` builds and serves a Kenyan ISP.

Runs ``tests/serve --reset`` on a database of its own (ISP_QUICKSTART_DB,
default ``<ISP_TEST_DB>_quickstart``, dropped afterwards) on a free port, as a
newcomer does, then checks over real HTTP: the company bills in KES on
l10n_ke's chart, each portal login printed by tests/serve
works and every page of its subscriptions and invoices answers 200.
"""

import os
import re
import subprocess
import time
from itertools import count
from pathlib import Path

import pytest
import requests

import demo_builder
import harness

SERVE = harness.TESTS_DIR / "serve"
BUILD_TIMEOUT = 1200  # seconds: a new database with every add-on and demo data
_ids = count(1)


def jsonrpc(session, url, params):
    payload = {"jsonrpc": "2.0", "method": "call", "id": next(_ids), "params": params}
    response = session.post(url, json=payload, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "error" not in body, body["error"]
    return body["result"]


def call(session, base_url, model, method, args, kwargs=None):
    return jsonrpc(
        session,
        f"{base_url}/web/dataset/call_kw/{model}/{method}",
        {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
    )


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """(base URL, database, tests/serve's output) of the served demo."""
    db = os.environ.get("ISP_QUICKSTART_DB") or (
        os.environ.get("ISP_TEST_DB", "isp") + "_quickstart"
    )
    log_dir = Path(os.environ.get("ISP_LOG_DIR") or tmp_path_factory.mktemp("qs"))
    out_path = log_dir / "quickstart-serve.out"
    port = harness.free_port()
    cmd = [str(SERVE), "--reset", f"--db={db}", f"--port={port}"]
    cmd += ["--", f"--logfile={log_dir / 'quickstart.log'}"]
    with open(out_path, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"tests/serve exited ({proc.returncode}): {out_path}")
            try:
                if requests.get(f"{base_url}/web/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tests/serve did not serve in time: {out_path}")
            time.sleep(1)
        yield base_url, db, out_path.read_text(encoding="utf-8")
    finally:
        harness.stop_process(proc)
        harness.drop_db(db)


@pytest.fixture(scope="module")
def admin(quickstart):
    base_url, db, __ = quickstart
    session = requests.Session()
    jsonrpc(
        session,
        f"{base_url}/web/session/authenticate",
        {"db": db, "login": "admin", "password": "admin"},
    )
    return session


def test_company_in_kes_on_l10n_ke(quickstart, admin):
    base_url = quickstart[0]
    [company] = call(
        admin,
        base_url,
        "res.company",
        "read",
        [[1], ["currency_id", "chart_template", "country_code"]],
    )
    assert company["currency_id"][1] == "KES"
    assert company["chart_template"] == "ke"
    assert company["country_code"] == "KE"
    langs = call(
        admin,
        base_url,
        "res.lang",
        "search_read",
        [[("code", "in", ["en_KE", "sw"])], ["code", "date_format"]],
    )
    assert {lang["code"]: lang["date_format"] for lang in langs} == {
        "en_KE": "%d/%m/%Y",
        "sw": "%d/%m/%Y",
    }


def _login(base_url, db, login, password):
    session = requests.Session()
    page = session.get(f"{base_url}/web/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(
        f"{base_url}/web/login",
        data={"login": login, "password": password, "csrf_token": csrf, "db": db},
        timeout=60,
    )
    assert response.ok
    assert "/web/login" not in response.url, f"{login} could not log in"
    return session


@pytest.mark.parametrize(
    ("login", "password"),
    [(login, password) for __, login, password, __ in demo_builder.PORTAL_LOGINS],
)
def test_portal_login_and_its_pages(quickstart, login, password):
    base_url, db, output = quickstart
    assert f"{login} / {password}" in output  # printed by tests/serve
    session = _login(base_url, db, login, password)
    pages = ["/my", "/my/subscriptions", "/my/invoices"]
    seen = set()
    while pages:
        path = pages.pop()
        if path in seen:
            continue
        seen.add(path)
        response = session.get(f"{base_url}{path}", timeout=60)
        assert response.status_code == 200, path
        for link in re.findall(
            r'href="(/my/(?:subscriptions|invoices)/\d+)[?"]', response.text
        ):
            pages.append(link)
    assert any(re.match(r"/my/subscriptions/\d+$", path) for path in seen), seen
    assert any(re.match(r"/my/invoices/\d+$", path) for path in seen), seen
