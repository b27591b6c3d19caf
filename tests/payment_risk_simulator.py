# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Subscriber payment histories with planted behaviours, for the payment-risk
evaluation (docs/payment-risk.md), its tests and its benchmark.

Each subscription is billed monthly in advance on its anchor day, due
``TERM_DAYS`` later, and belongs to one segment:

* ``punctual``: pays 0-10 days after the invoice date (in time);
* ``salary``: pays in the first salary window (the 25th to the 5th) on or
  after the invoice date: late when the due date falls before it;
* ``chronic``: pays 3-25 days after the due date, four invoices in five;
* ``autopay``: charged on the invoice date; a card fails now and then and,
  once failed, tends to fail again for a while; when the retries fail too
  the customer pays by hand, often late;
* ``school``: punctual, except the invoices due in January, May and
  September (school fees), mostly paid late;
* ``upgrader``: punctual until a plan upgrade (a higher amount), often late
  after it;
* ``promise_keeper`` / ``promise_breaker``: often late; two days after the
  due date they promise to pay within 7 days; keepers do, breakers do not
  (and are late again more often).

Noise on top: any invoice may be paid late by chance (``NOISE_LATE``), and
payment days jitter. The histories are the plain records of
``isp_payment_risk.riskcore.features``; ``segment`` and, per invoice,
``planted`` (the behaviour made it late-prone) are for the tests only.
"""

import random
from datetime import date, timedelta

TERM_DAYS = 15
NOISE_LATE = 0.04
SEGMENTS = {
    "punctual": 0.40,
    "salary": 0.15,
    "chronic": 0.10,
    "autopay": 0.13,
    "school": 0.09,
    "upgrader": 0.08,
    "promise_keeper": 0.03,
    "promise_breaker": 0.02,
}
PRICES = [1500.0, 2999.0, 4999.0, 9999.0]
SCHOOL_MONTHS = (1, 5, 9)


def add_months(day, months):
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, 28))


def _salary_window(day):
    """The first day from ``day`` on that is in a salary window (25th-5th)."""
    while not (day.day >= 25 or day.day <= 5):
        day += timedelta(days=1)
    return day


def _late_payment(due, rng, low=3, high=25):
    return due + timedelta(days=rng.randint(low, high))


def _in_time(issued, due, rng):
    return issued + timedelta(days=rng.randint(0, max((due - issued).days - 2, 0)))


def _one(sub_id, segment, start, months, rng):
    """The history of one subscription (see the module's docstring)."""
    price = rng.choice(PRICES) * rng.uniform(0.95, 1.05)
    history = {
        "id": sub_id,
        "segment": segment,
        "start": start,
        "invoices": [],
        "autopay": [],
        "promises": [],
        "upgrades": [],
    }
    upgrade_at = rng.randint(4, max(months - 4, 5)) if segment == "upgrader" else None
    card_trouble = 0  # invoices left with a failing card
    for n in range(months):
        issued = add_months(start, n)
        due = issued + timedelta(days=TERM_DAYS)
        planted = False
        if upgrade_at is not None and n == upgrade_at:
            history["upgrades"].append(issued - timedelta(days=rng.randint(3, 12)))
            price *= rng.uniform(1.6, 2.2)
        if segment == "punctual":
            paid = _in_time(issued, due, rng)
        elif segment == "salary":
            first = _salary_window(issued)
            paid = first + timedelta(days=rng.randint(0, 3))
            planted = first > due
        elif segment == "chronic":
            planted = True
            if rng.random() < 0.8:
                paid = _late_payment(due, rng)
            else:
                paid = _in_time(issued, due, rng)
        elif segment == "autopay":
            paid, planted = _autopay(history, issued, due, rng, card_trouble)
            if planted:
                card_trouble = rng.randint(1, 3)
            else:
                card_trouble = max(card_trouble - 1, 0)
        elif segment == "school":
            planted = due.month in SCHOOL_MONTHS
            if planted and rng.random() < 0.75:
                paid = _late_payment(due, rng, 5, 30)
            else:
                paid = _in_time(issued, due, rng)
        elif segment == "upgrader":
            planted = upgrade_at is not None and n >= upgrade_at
            if planted and rng.random() < 0.6:
                paid = _late_payment(due, rng, 2, 20)
            else:
                paid = _in_time(issued, due, rng)
        else:  # promise keepers and breakers
            planted = True
            breaker = segment == "promise_breaker"
            if rng.random() < (0.7 if breaker else 0.45):
                made = due + timedelta(days=2)
                until = made + timedelta(days=7)
                history["promises"].append((made, until))
                if breaker:
                    paid = until + timedelta(days=rng.randint(3, 20))
                else:
                    paid = made + timedelta(days=rng.randint(0, 7))
            else:
                paid = _in_time(issued, due, rng)
        if paid <= due and rng.random() < NOISE_LATE:
            paid = _late_payment(due, rng, 1, 20)
        history["invoices"].append(
            {
                "id": sub_id * 1000 + n,
                "date": issued,
                "due": due,
                "amount": round(price, 2),
                "paid": paid,
                "planted": planted,
            }
        )
    return history


def _autopay(history, issued, due, rng, card_trouble):
    """Charge on the invoice date, retried on days 1, 3 and 5: ``(paid day,
    failed)``. A card in trouble fails much more often."""
    fail = 0.6 if card_trouble else 0.07
    for offset in (0, 1, 3, 5):
        day = issued + timedelta(days=offset)
        failed = rng.random() < fail
        history["autopay"].append((day, failed))
        if not failed:
            return day, offset > 0
    if rng.random() < 0.6:
        return _late_payment(due, rng, 1, 15), True
    return _in_time(issued + timedelta(days=6), due, rng), True


def simulate(subscribers, months=24, seed=0, first_month=date(2025, 1, 1)):
    """``subscribers`` histories of up to ``months`` monthly invoices from
    ``first_month``: subscriptions start over the first 12 months on any day
    1-28 (so later starters have fewer invoices)."""
    rng = random.Random(seed)
    names, weights = zip(*SEGMENTS.items(), strict=True)
    histories = []
    for sub_id in range(1, subscribers + 1):
        segment = rng.choices(names, weights)[0]
        offset = rng.randint(0, 11) if rng.random() < 0.5 else 0
        start = add_months(first_month, offset).replace(day=rng.randint(1, 28))
        histories.append(_one(sub_id, segment, start, months - offset, rng))
    return histories


def end_of(histories):
    """The day after the last invoice of the simulation (its "today")."""
    return max(inv["date"] for h in histories for inv in h["invoices"]) + timedelta(
        days=1
    )
