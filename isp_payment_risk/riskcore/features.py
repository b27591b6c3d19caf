# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Features of an invoice's payment risk, as pure functions over plain records.

No Odoo here: the same functions run over the database's records (extracted
set-based by ``isp.payment.risk.service``) and over the simulator's
(``tests/payment_risk_simulator.py``).

A subscription's *history* is a dict::

    {"id": 7, "start": date,
     "invoices": [{"id", "date", "due", "amount", "paid"}, ...],  # by date
     "autopay": [(date, failed), ...],     # auto-pay charges and their result
     "promises": [(date, until), ...],     # promises to pay
     "upgrades": [date, ...]}              # plan upgrades

``paid`` is the day the invoice was settled, ``None`` while it is not.

**No leakage**: the features of an invoice issued on day D read only what was
known before D: an earlier invoice's payment counts only if it was made
before D (``paid < D``); an earlier invoice not paid before D and past its due
date plus the grace days is known to be late; auto-pay results, promises and
upgrades count only when dated before D (a promise's outcome only once its
last day is before D). Anything dated D or later cannot change them.
"""

import math
from datetime import timedelta

FEATURE_VERSION = 1

FEATURES = [
    "n_known",  # earlier invoices whose outcome was known
    "late_rate",  # share of them paid late (0 when none)
    "last_late",  # the latest known one was late: 1, 0, -1 (none)
    "late_last6",  # late among the latest 6 known
    "n_last6",  # known among the latest 6 (<= 6)
    "days_late_last6",  # mean days after the due date, latest 6 known
    "open_overdue",  # earlier invoices unpaid past due date + grace
    "due_day",  # day of the month of the due date
    "salary_share",  # share of payments made between the 25th and the 5th
    "due_month",  # month of the due date
    "late_same_month_ly",  # invoice due in that month last year late: 1/0/-1
    "autopay_recent",  # auto-pay charges in the 45 days before
    "autopay_fail_30",  # auto-pay failures in the 30 days before
    "autopay_fail_90",  # auto-pay failures in the 90 days before
    "promises_broken_180",  # promises to pay broken, ended in the 180 days
    "promises_kept_180",  # promises to pay kept, ended in the 180 days
    "days_since_upgrade",  # days since the latest upgrade (999: none)
    "amount_ratio",  # amount / the previous invoice's amount
    "tenure_days",  # days since the subscription started
    "log_amount",  # log(1 + amount)
]
INDEX = {name: i for i, name in enumerate(FEATURES)}

# Features moved together when explaining a prediction, and their reason.
REASON_GROUPS = {
    "late_history": ["late_rate", "last_late", "late_last6", "days_late_last6"],
    "open_overdue": ["open_overdue"],
    "salary_day": ["due_day", "salary_share"],
    "season": ["late_same_month_ly", "due_month"],
    "autopay_failed": ["autopay_fail_30", "autopay_fail_90"],
    "promise_broken": ["promises_broken_180", "promises_kept_180"],
    "upgrade": ["days_since_upgrade", "amount_ratio"],
    "new_customer": ["tenure_days", "n_known"],
}

SALARY_DAYS = frozenset([25, 26, 27, 28, 29, 30, 31, 1, 2, 3, 4, 5])


def is_late(invoice, grace, as_of):
    """Whether ``invoice`` was paid late, as known on day ``as_of`` (before
    it): True when paid after its due date plus ``grace`` days, or not paid
    before ``as_of`` while that day has passed; False when paid in time
    before ``as_of``; None while not known yet."""
    limit = invoice["due"] + timedelta(days=grace)
    paid = invoice["paid"]
    if paid is not None and paid < as_of:
        return paid > limit
    if as_of > limit:
        return True
    return None


def days_late(invoice, as_of):
    """Days after the due date it was paid (negative: early), known on
    ``as_of``; an invoice still unpaid counts up to ``as_of``."""
    paid = invoice["paid"]
    if paid is not None and paid < as_of:
        return (paid - invoice["due"]).days
    return (as_of - invoice["due"]).days


def promise_kept(history, promise, as_of):
    """True/False once a promise ``(date, until)`` ended before ``as_of``,
    None if it covered nothing or has not ended. It covers the invoices issued
    by its day, due by its last day and not paid before its day; it is kept
    when all of them were paid by its last day (as the collections report)."""
    made, until = promise
    if until >= as_of:
        return None
    covered = [
        inv
        for inv in history["invoices"]
        if inv["date"] <= made
        and inv["due"] <= until
        and (inv["paid"] is None or inv["paid"] >= made)
    ]
    if not covered:
        return None
    return all(inv["paid"] is not None and inv["paid"] <= until for inv in covered)


def features(history, invoice, grace):
    """The feature vector (list of floats, :data:`FEATURES` order) of
    ``invoice`` (a dict with ``date``, ``due``, ``amount``) as of its issue
    date, from ``history`` (of which only what is dated before is read)."""
    day = invoice["date"]
    prior = [
        inv
        for inv in history["invoices"]
        if inv["date"] < day and inv.get("id") != invoice.get("id")
    ]
    known = []  # (invoice, late) by issue date
    open_overdue = 0
    salary_paid = paid_count = 0
    for inv in prior:
        late = is_late(inv, grace, day)
        if late is None:
            continue
        known.append((inv, late))
        if inv["paid"] is None or inv["paid"] >= day:
            open_overdue += 1
        else:
            paid_count += 1
            salary_paid += inv["paid"].day in SALARY_DAYS
    last6 = known[-6:]
    n_known = len(known)
    late_total = sum(1 for __, late in known if late)
    due = invoice["due"]
    same_month_ly = -1.0
    for inv, late in known:
        gap = (due - inv["due"]).days
        if inv["due"].month == due.month and 300 <= gap <= 430:
            same_month_ly = float(late)
    autopay = [(d, failed) for d, failed in history.get("autopay", ()) if d < day]
    promises = [
        promise_kept(history, p, day)
        for p in history.get("promises", ())
        if (day - p[1]).days <= 180
    ]
    upgrades = [d for d in history.get("upgrades", ()) if d < day]
    previous_amount = prior[-1]["amount"] if prior else 0.0
    amount = invoice["amount"]
    return [
        float(n_known),
        late_total / n_known if n_known else 0.0,
        float(known[-1][1]) if known else -1.0,
        float(sum(1 for __, late in last6 if late)),
        float(len(last6)),
        (sum(days_late(inv, day) for inv, __ in last6) / len(last6)) if last6 else 0.0,
        float(open_overdue),
        float(due.day),
        salary_paid / paid_count if paid_count else -1.0,
        float(due.month),
        same_month_ly,
        float(sum(1 for d, __ in autopay if (day - d).days <= 45)),
        float(sum(1 for d, failed in autopay if failed and (day - d).days <= 30)),
        float(sum(1 for d, failed in autopay if failed and (day - d).days <= 90)),
        float(sum(1 for kept in promises if kept is False)),
        float(sum(1 for kept in promises if kept is True)),
        float(min((day - max(upgrades)).days, 999)) if upgrades else 999.0,
        amount / previous_amount if previous_amount > 0 else 1.0,
        float(max((day - history["start"]).days, 0)),
        math.log1p(max(amount, 0.0)),
    ]


def labelled_rows(history, grace, as_of, date_from=None):
    """Training rows of ``history``: ``(invoice, features, late, days_to_pay)``
    for each invoice issued from ``date_from`` whose outcome is settled on
    ``as_of`` (its due date plus grace is before ``as_of``: paid or not, it is
    known whether it was late). ``days_to_pay`` counts from the issue date to
    the payment, or to ``as_of`` while unpaid."""
    rows = []
    for inv in history["invoices"]:
        if date_from and inv["date"] < date_from:
            continue
        if inv["due"] + timedelta(days=grace) >= as_of:
            continue
        late = is_late(inv, grace, as_of)
        paid = inv["paid"] if inv["paid"] is not None and inv["paid"] < as_of else None
        days = ((paid or as_of) - inv["date"]).days
        rows.append((inv, features(history, inv, grace), bool(late), days))
    return rows


def next_invoice(history, today):
    """The invoice the subscription would get today (a subscription's current
    risk): issued today, due after as many days as its latest invoice was, of
    the latest invoice's amount."""
    invoices = history["invoices"]
    if not invoices:
        return None
    last = invoices[-1]
    return {
        "id": None,
        "date": today,
        "due": today + (last["due"] - last["date"]),
        "amount": last["amount"],
    }


def reason_facts(vector):
    """The plain facts behind each reason group, from a feature vector: a dict
    ``group: params`` with only the groups whose fact holds (a reason is only
    shown when it is true of the customer, whatever the model weighed)."""
    f = dict(zip(FEATURES, vector, strict=True))
    facts = {}
    if f["late_last6"] > 0:
        facts["late_history"] = {
            "late": int(f["late_last6"]),
            "count": int(f["n_last6"]),
        }
    if f["open_overdue"] > 0:
        facts["open_overdue"] = {"count": int(f["open_overdue"])}
    if f["salary_share"] >= 0.5 and int(f["due_day"]) not in SALARY_DAYS:
        facts["salary_day"] = {"day": int(f["due_day"])}
    if f["late_same_month_ly"] == 1.0:
        facts["season"] = {"month": int(f["due_month"])}
    if f["autopay_fail_90"] > 0:
        facts["autopay_failed"] = {
            "count": int(f["autopay_fail_90"]),
            "recent": int(f["autopay_fail_30"]),
        }
    if f["promises_broken_180"] > 0:
        facts["promise_broken"] = {"count": int(f["promises_broken_180"])}
    if f["days_since_upgrade"] < 999:
        facts["upgrade"] = {"days": int(f["days_since_upgrade"])}
    if f["tenure_days"] < 90:
        facts["new_customer"] = {"days": int(f["tenure_days"])}
    return facts
