"""Samplers that run in the benchmark's parent process while an arm runs.

* :class:`LoadSampler`: the machine's load average (``/proc/loadavg``), to say
  how busy the shared machine was during each arm;
* :class:`WaitSampler`: what the arm's PostgreSQL backends are doing
  (``pg_stat_activity``), to measure how long the workers of one arm wait for
  each other's locks, e.g. the journal's invoice-numbering lock.

Standard library and psycopg2 only (no Odoo).
"""

import threading
import time
from collections import Counter


def machine_cpu():
    """``(busy, total)`` CPU seconds of the whole machine since boot, from
    ``/proc/stat`` (busy: everything but idle and iowait)."""
    import os  # noqa: PLC0415

    with open("/proc/stat") as file:
        fields = [int(x) for x in file.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    idle = fields[3] + fields[4]
    return (total - idle) / tick, total / tick


def loadavg():
    """The 1-minute load average, from ``/proc/loadavg``."""
    with open("/proc/loadavg") as file:
        return float(file.read().split()[0])


class _Sampler:
    """A daemon thread that calls ``self.sample()`` every ``interval`` seconds
    between ``start()`` and ``stop()``."""

    interval = 1.0

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.sample()
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self):
        raise NotImplementedError


class LoadSampler(_Sampler):
    """The 1-minute load average every ``interval`` seconds."""

    def __init__(self, interval=2.0):
        super().__init__()
        self.interval = interval
        self.values = []
        self.cpu_start = self.cpu_end = None

    def start(self):
        self.cpu_start = machine_cpu()
        return super().start()

    def stop(self):
        super().stop()
        self.cpu_end = machine_cpu()

    def sample(self):
        self.values.append(loadavg())

    def result(self):
        values = self.values or [loadavg()]
        return {
            "loadavg_start": values[0],
            "loadavg_end": values[-1],
            "loadavg_min": min(values),
            "loadavg_max": max(values),
            "loadavg_mean": round(sum(values) / len(values), 2),
            # CPU seconds the whole machine used (busy) and had (total, all
            # cores) during the arm
            "machine_cpu_busy_s": round(self.cpu_end[0] - self.cpu_start[0], 2)
            if self.cpu_end
            else None,
            "machine_cpu_total_s": round(self.cpu_end[1] - self.cpu_start[1], 2)
            if self.cpu_end
            else None,
        }


# What a backend is doing, from pg_stat_activity: the numbering lock is the
# UPDATE of account_move.name in sequence.mixin._locked_increment, which waits
# on the transaction that holds the same number (wait_event transactionid).
_ACTIVITY = """
    SELECT pid, state, wait_event_type, wait_event, left(query, 120)
      FROM pg_stat_activity
     WHERE pid = ANY(%s)
"""


def classify(state, wait_type, wait_event, query):
    """A short label of one pg_stat_activity sample of a worker's backend."""
    query = (query or "").lower()
    if wait_type == "Lock":
        if query.startswith('update "account_move" set "name"'):
            return "waits: invoice numbering lock"
        return f"waits: other lock ({wait_event}: {query[:60]})"
    if state == "active":
        if wait_type and wait_type not in ("Client", "Activity"):
            return f"PostgreSQL works ({wait_type}: {wait_event})"
        return "PostgreSQL works"
    if state == "idle in transaction":
        return "Odoo works (in transaction)"
    if state == "idle":
        return "between transactions"
    return str(state)


class WaitSampler(_Sampler):
    """Samples ``pg_stat_activity`` of the given backends every ``interval``
    seconds and counts the samples by what each backend was doing (see
    :func:`classify`). A separate connection, in autocommit."""

    def __init__(self, db, pids, interval=0.05):
        import psycopg2  # noqa: PLC0415 - the parent imports it with Odoo

        super().__init__()
        self.interval = interval
        self.pids = list(pids)
        self.conn = psycopg2.connect(dbname=db)
        self.conn.autocommit = True
        self.counts = {pid: Counter() for pid in self.pids}
        self.samples = 0
        self.finished = set()  # backends seen gone: their worker ended
        self.started = None
        self.ended = None

    def start(self):
        self.started = time.monotonic()
        return super().start()

    def stop(self):
        super().stop()
        self.ended = time.monotonic()
        self.conn.close()

    def sample(self):
        if self.conn.closed:
            return
        with self.conn.cursor() as cur:
            cur.execute(_ACTIVITY, [self.pids])
            rows = cur.fetchall()
        self.samples += 1
        seen = set()
        for pid, state, wait_type, wait_event, query in rows:
            seen.add(pid)
            self.counts[pid][classify(state, wait_type, wait_event, query)] += 1
        self.finished.update(set(self.pids) - seen)

    def result(self):
        """Per worker and in total: the share of samples of each label (of
        the samples while the worker's backend was connected), and the seconds
        it stands for."""
        elapsed = (self.ended or time.monotonic()) - (self.started or 0)
        seconds_per_sample = elapsed / max(self.samples, 1)
        total = Counter()
        for counts in self.counts.values():
            total.update(counts)
        n = sum(total.values()) or 1
        per_worker = []
        for pid in self.pids:
            counts = self.counts[pid]
            m = sum(counts.values()) or 1
            per_worker.append(
                {
                    "backend_pid": pid,
                    "shares": {k: round(v / m, 4) for k, v in counts.most_common()},
                    "seconds": {
                        k: round(seconds_per_sample * v, 1)
                        for k, v in counts.most_common()
                    },
                }
            )
        return {
            "samples": self.samples,
            "interval_s": self.interval,
            "sampled_s": round(elapsed, 1),
            "shares": {k: round(v / n, 4) for k, v in total.most_common()},
            "per_worker": per_worker,
        }


class SequenceLockTimer:
    """Times the journal's invoice-numbering lock in a worker (installed in the
    child process only; the engine's code is not changed).

    ``sequence.mixin._locked_increment`` takes the lock with its first number
    of a transaction (an UPDATE that waits for any other transaction holding
    the same number) and keeps it until the commit; the next numbers come from
    a cache. Per transaction: ``wait`` from the first call (after the flush
    it starts with) to its return: the UPDATE that takes the lock, its wait
    for another transaction, and the retries past the numbers that one took
    meanwhile; ``hold`` from then to the commit (:meth:`committed`)."""

    def __init__(self):
        self.acquired = None
        self.wait = 0.0
        self.hold = 0.0
        self.transactions = 0

    def install(self):
        from odoo.addons.account.models.sequence_mixin import (  # noqa: PLC0415
            SequenceMixin,
        )

        original = SequenceMixin._locked_increment
        timer = self

        def _locked_increment(self, format_string, format_values):
            if timer.acquired is not None:
                return original(self, format_string, format_values)
            # The flush the original does first, timed apart: not a wait.
            self.flush_recordset()
            called = time.perf_counter()
            result = original(self, format_string, format_values)
            timer.acquired = time.perf_counter()
            timer.wait += timer.acquired - called
            timer.transactions += 1
            return result

        SequenceMixin._locked_increment = _locked_increment
        return self

    def committed(self):
        """Call after each commit (or rollback): the lock is released."""
        if self.acquired is not None:
            self.hold += time.perf_counter() - self.acquired
            self.acquired = None

    def result(self):
        return {
            "numbering_lock_wait_s": round(self.wait, 2),
            "numbering_lock_hold_s": round(self.hold, 2),
            "numbering_lock_transactions": self.transactions,
        }
