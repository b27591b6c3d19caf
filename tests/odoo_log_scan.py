"""Scan an Odoo 18.0 server log for what a test run must not let through.

Odoo writes one record per log call (odoo/netsvc.py)::

    2026-11-25 18:40:01,123 12345 WARNING dbname odoo.xxx: message

followed, for a traceback or a multi-line message, by continuation lines that
do not start with a timestamp. A run fails on:

* any record at WARNING, ERROR or CRITICAL, unless its first line matches a
  regular expression of the allow-list (``tests/log_allowlist.txt``);
* any skipped test: ``OdooTestResult.addSkip`` logs at INFO, under the test's
  module logger, ``skipped <Class.method> : <reason>`` (odoo/tests/result.py),
  e.g. a tour skipped because Chromium or websocket-client is missing;
* a test summary with failures or errors, or none at all, or 0 tests. With
  ``--stop-after-init --test-enable`` Odoo logs once, from the
  ``odoo.tests.result`` logger (odoo/service/server.py, ``ThreadedServer.run``),
  ``N failed, N error(s) of M tests when loading database 'db'`` at INFO, at
  WARNING when no test ran and at ERROR when some failed;
* a non-zero exit status of the Odoo process (the caller passes it).

``odoo.tests.stats`` adds one line per module, ``module: N tests 1.23s 456
queries``, kept for the report.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

FAILING_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL"})

RECORD_RE = re.compile(
    r"^(?P<asctime>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?P<pid>\d+) "
    r"(?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^\s:]+): ?(?P<message>.*)$"
)
SKIP_RE = re.compile(r"^skipped (?P<test>.+?) : (?P<reason>.*?)\s*$")
SUMMARY_RE = re.compile(
    r"^(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<tests>\d+) tests\b"
)
STATS_RE = re.compile(r"^(?P<module>\S+): (?P<tests>\d+) tests \d")
SUMMARY_LOGGER = "odoo.tests.result"
STATS_LOGGER = "odoo.tests.stats"


@dataclass
class Record:
    """One log record: its header line and continuation lines."""

    lineno: int
    level: str
    logger: str
    message: str
    lines: list[str] = field(default_factory=list)

    @property
    def header(self) -> str:
        return self.lines[0]


@dataclass
class Skip:
    test: str
    reason: str
    record: Record


@dataclass
class TestSummary:
    failed: int
    errors: int
    tests: int


@dataclass
class ScanResult:
    problems: list[Record] = field(default_factory=list)
    allowed: list[Record] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    summary: TestSummary | None = None
    module_tests: dict[str, int] = field(default_factory=dict)


def parse_records(lines: Iterable[str]) -> Iterator[Record]:
    """Group raw log lines into records; lines before the first record are dropped."""
    current = None
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        match = RECORD_RE.match(line)
        if match:
            if current is not None:
                yield current
            current = Record(
                lineno=lineno,
                level=match["level"],
                logger=match["logger"],
                message=match["message"].rstrip(),
                lines=[line],
            )
        elif current is not None:
            current.lines.append(line)
    if current is not None:
        yield current


def load_allowlist(path: Path) -> list[re.Pattern]:
    """Regular expressions, one a line; blank lines and ``#`` comment lines skipped."""
    patterns = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            patterns.append(re.compile(line.strip()))
        except re.error as exc:
            raise ValueError(
                f"{path}:{lineno}: invalid regular expression: {exc}"
            ) from exc
    return patterns


def scan(lines: Iterable[str], allowlist: Iterable[re.Pattern] = ()) -> ScanResult:
    allowlist = list(allowlist)
    result = ScanResult()
    for record in parse_records(lines):
        skip = SKIP_RE.match(record.message)
        if skip:
            result.skipped.append(Skip(skip["test"], skip["reason"], record))
        summary = SUMMARY_RE.match(record.message)
        if record.logger == SUMMARY_LOGGER and summary:
            # The last one wins (there is one per database). Its level only
            # repeats its content, which failing_checks() judges.
            result.summary = TestSummary(
                int(summary["failed"]), int(summary["errors"]), int(summary["tests"])
            )
            continue
        if record.logger == STATS_LOGGER:
            stats = STATS_RE.match(record.message)
            if stats:
                result.module_tests[stats["module"]] = int(stats["tests"])
        if record.level in FAILING_LEVELS:
            if any(pattern.search(record.header) for pattern in allowlist):
                result.allowed.append(record)
            else:
                result.problems.append(record)
    return result


def scan_file(log_path: Path, allowlist_path: Path | None = None) -> ScanResult:
    allowlist = load_allowlist(allowlist_path) if allowlist_path else []
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return scan(log, allowlist)


def failing_checks(
    result: ScanResult, returncode: int = 0, require_tests: bool = True
) -> list[str]:
    """Why the run fails, one sentence per failing check (empty: it passed)."""
    reasons = []
    if result.problems:
        reasons.append(
            f"{len(result.problems)} log record(s) at WARNING or above "
            "(not in tests/log_allowlist.txt)"
        )
    if result.skipped:
        names = ", ".join(skip.test for skip in result.skipped[:5])
        reasons.append(f"{len(result.skipped)} test(s) skipped: {names}")
    summary = result.summary
    if summary is None:
        reasons.append(
            "Odoo logged no test summary ('N failed, N error(s) of M tests'): "
            "it stopped before running the tests"
        )
    else:
        if summary.failed or summary.errors:
            reasons.append(
                f"Odoo tests: {summary.failed} failed, {summary.errors} error(s) "
                f"of {summary.tests} tests"
            )
        if summary.tests == 0 and require_tests:
            reasons.append("Odoo ran 0 tests")
    if returncode != 0:
        reasons.append(f"odoo exited with status {returncode}")
    return reasons


def _record_lines(record: Record, head: int = 10, tail: int = 25) -> list[str]:
    """The record's lines, the first numbered; a long traceback loses its middle
    (its end names the error)."""
    lines = [f"{record.lineno:>6}: {record.lines[0]}"]
    rest = record.lines[1:]
    if len(rest) > head + tail + 1:
        cut = len(rest) - head - tail
        rest = [*rest[:head], f"... ({cut} lines)", *rest[-tail:]]
    return lines + ["        " + line for line in rest]


def format_records(records: Iterable[Record], max_lines: int = 80) -> str:
    """The records' text with their line numbers, cut after ``max_lines`` lines."""
    out = []
    records = list(records)
    for index, record in enumerate(records):
        for line in _record_lines(record):
            if len(out) >= max_lines:
                left = len(records) - index
                out.append(f"... (cut at {max_lines} lines; {left} more record(s))")
                return "\n".join(out)
            out.append(line)
    return "\n".join(out)
