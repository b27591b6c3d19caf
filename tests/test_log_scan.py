"""Tests of the Odoo log scanner that tests/run judges a run with."""

import re

import pytest

from harness import TESTS_DIR
from odoo_log_scan import (
    failing_checks,
    format_records,
    load_allowlist,
    parse_records,
    scan,
    scan_file,
)

DB = "isp_test_20261125_184001"


def line(level, logger, message, pid=4242, db=DB):
    """A log line as Odoo 18.0 writes it (odoo/netsvc.py, DBFormatter)."""
    return f"2026-11-25 18:40:01,123 {pid} {level} {db} {logger}: {message} "


def summary(failed=0, errors=0, tests=12, level="INFO"):
    return line(
        level,
        "odoo.tests.result",
        f"{failed} failed, {errors} error(s) of {tests} tests "
        f"when loading database '{DB}'",
    )


CLEAN_LOG = [
    line("INFO", "?", "Odoo version 18.0", db="?"),
    line("INFO", "odoo.modules.loading", "Loading module isp_billing (46/46)"),
    line(
        "INFO",
        "odoo.addons.isp_billing.tests.test_subscription",
        "Starting TestSubscription.test_activate ...",
    ),
    line("INFO", "odoo.modules.loading", "Module isp_billing loaded in 9.10s"),
    line("INFO", "odoo.tests.stats", "isp_billing: 12 tests 3.21s 4567 queries"),
    summary(),
    line("INFO", "odoo.service.server", "Initiating shutdown"),
]

TRACEBACK = [
    line(
        "ERROR",
        "odoo.addons.isp_billing.tests.test_proration",
        "FAIL: TestProration.test_mid_period_change",
    ),
    "Traceback (most recent call last):",
    '  File "/repo/isp_billing/tests/test_proration.py", line 42, in test_x',
    "    self.assertEqual(amount, 15.48)",
    "AssertionError: 15.49 != 15.48",
]


def test_clean_log_passes():
    result = scan(CLEAN_LOG)
    assert failing_checks(result, returncode=0) == []
    assert result.problems == [] and result.skipped == []
    assert result.module_tests == {"isp_billing": 12}


def test_summary_line_is_parsed():
    result = scan([summary(0, 0, 12)])
    assert (result.summary.failed, result.summary.errors, result.summary.tests) == (
        0,
        0,
        12,
    )
    result = scan([summary(1, 2, 30, level="ERROR")])
    assert (result.summary.failed, result.summary.errors, result.summary.tests) == (
        1,
        2,
        30,
    )
    assert failing_checks(result) == ["Odoo tests: 1 failed, 2 error(s) of 30 tests"]


def test_summary_from_another_logger_is_ignored():
    result = scan([line("INFO", "odoo.addons.x", "0 failed, 0 error(s) of 12 tests")])
    assert result.summary is None


def test_warning_line_fails():
    warning = line("WARNING", "odoo.models", "isp.subscription.name: unknown field")
    result = scan([*CLEAN_LOG, warning])
    assert [record.header for record in result.problems] == [warning]
    reasons = failing_checks(result)
    assert len(reasons) == 1 and "WARNING or above" in reasons[0]


@pytest.mark.parametrize("level", ["ERROR", "CRITICAL"])
def test_error_and_critical_lines_fail(level):
    result = scan([*CLEAN_LOG, line(level, "odoo.sql_db", "bad query")])
    assert len(result.problems) == 1
    assert failing_checks(result)


def test_info_and_debug_lines_pass():
    result = scan([*CLEAN_LOG, line("DEBUG", "odoo.x", "WARNING in text only")])
    assert failing_checks(result) == []


def test_allowlisted_line_passes(tmp_path):
    warning = line("WARNING", "odoo.modules.graph", "module foo: not installable")
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text(
        "# the machine's fault, not ours\n\n"
        r"WARNING \S+ odoo\.modules\.graph: module foo: not installable" + "\n"
    )
    result = scan([*CLEAN_LOG, warning], load_allowlist(allowlist))
    assert result.problems == []
    assert [record.header for record in result.allowed] == [warning]
    assert failing_checks(result) == []


def test_allowlist_does_not_hide_other_lines(tmp_path):
    patterns = [re.compile(r"odoo\.modules\.graph: module foo")]
    other = line("WARNING", "odoo.modules.graph", "module bar: not installable")
    result = scan([*CLEAN_LOG, other], patterns)
    assert len(result.problems) == 1


def test_skipped_test_fails():
    skipped = line(
        "INFO",
        "odoo.addons.isp_billing.tests.test_portal",
        "skipped TestPortal.test_portal_tour : websocket-client module is not "
        "installed",
    )
    result = scan([*CLEAN_LOG, skipped])
    assert [(skip.test, skip.reason) for skip in result.skipped] == [
        ("TestPortal.test_portal_tour", "websocket-client module is not installed")
    ]
    assert result.problems == []  # a skip is logged at INFO...
    reasons = failing_checks(result)
    assert reasons == ["1 test(s) skipped: TestPortal.test_portal_tour"]  # ...yet fails


def test_multiline_traceback_after_error_is_reported():
    result = scan([*CLEAN_LOG[:3], *TRACEBACK, *CLEAN_LOG[3:]])
    assert len(result.problems) == 1
    record = result.problems[0]
    assert record.lines[1:] == TRACEBACK[1:]
    report = format_records(result.problems)
    assert "FAIL: TestProration.test_mid_period_change" in report
    assert "AssertionError: 15.49 != 15.48" in report
    assert report.splitlines()[0].startswith("     4: ")  # line number in the log


def test_records_group_continuation_lines():
    records = list(parse_records(["stray line before any record", *TRACEBACK]))
    assert len(records) == 1
    assert records[0].level == "ERROR"
    assert records[0].logger == "odoo.addons.isp_billing.tests.test_proration"
    assert len(records[0].lines) == len(TRACEBACK)


def test_report_is_cut_at_max_lines():
    many = [line("WARNING", "odoo.x", f"warning {n}") for n in range(200)]
    report = format_records(scan(many).problems, max_lines=80).splitlines()
    assert len(report) == 81
    assert report[-1].startswith("... (cut at 80 lines; 120 more record(s))")


def test_long_traceback_keeps_its_end():
    frames = [f'  File "/opt/odoo/odoo/x.py", line {n}, in f' for n in range(100)]
    record = [
        line("CRITICAL", "odoo.service.server", "Failed to initialize database"),
        "Traceback (most recent call last):",
        *frames,
        'odoo.tools.convert.ParseError: while parsing views.xml:4, Field "__count"',
    ]
    report = format_records(scan(record).problems).splitlines()
    assert len(report) == 1 + 10 + 1 + 25
    assert report[11].strip() == "... (67 lines)"
    assert report[-1].endswith('Field "__count"')


def test_missing_summary_fails():
    result = scan(CLEAN_LOG[:-2])
    assert any("no test summary" in reason for reason in failing_checks(result))


def test_zero_tests_fails_unless_not_required():
    result = scan([summary(0, 0, 0, level="WARNING")])
    assert failing_checks(result) == ["Odoo ran 0 tests"]
    assert failing_checks(result, require_tests=False) == []


def test_nonzero_exit_status_fails():
    assert failing_checks(scan(CLEAN_LOG), returncode=1) == [
        "odoo exited with status 1"
    ]


def test_invalid_allowlist_regex_names_the_line(tmp_path):
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("# comment\nodoo\\.ok\nunbalanced (\n")
    with pytest.raises(ValueError, match=r"allow\.txt:3: invalid regular expression"):
        load_allowlist(allowlist)


def test_repository_allowlist_loads():
    load_allowlist(TESTS_DIR / "log_allowlist.txt")


def test_scan_file(tmp_path):
    log = tmp_path / "odoo.log"
    log.write_text("\n".join([*CLEAN_LOG, *TRACEBACK]) + "\n", encoding="utf-8")
    result = scan_file(log, TESTS_DIR / "log_allowlist.txt")
    assert result.summary.tests == 12
    assert len(result.problems) == 1
