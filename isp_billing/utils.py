# Copyright 2026 ISP Billing Suite contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure date and money arithmetic of the billing engine.

Everything here works on ``datetime.date`` and exact fractions so that the rules
written in the README can be checked by hand:

* Periods are half-open date ranges ``[start, end)``: ``end`` is the first day that
  is *not* covered.
* Periods are aligned on the subscription's billing anchor: period ``k`` is
  ``[anchor + k * step, anchor + (k + 1) * step)``. Adding ``k * step`` to the anchor
  (instead of adding ``step`` to the previous boundary) keeps a 31st-of-month anchor
  on the last day of short months without drifting.
* A part ``[a, b)`` of the full period ``[p0, p1)`` costs
  ``price * (b - a) / (p1 - p0)`` in days, rounded once, half up, to the currency's
  rounding.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta

PERIOD_UNITS = ("day", "week", "month", "year")


def period_step(interval, unit):
    """Return the ``relativedelta`` of ``interval`` units.

    :param int interval: number of units in one period (>= 1)
    :param str unit: one of ``PERIOD_UNITS``
    :rtype: relativedelta
    :raise ValueError: on a bad interval or unit
    """
    if unit not in PERIOD_UNITS or not interval or interval < 1:
        raise ValueError(f"invalid billing period {interval!r} {unit!r}")
    return relativedelta(**{unit + "s": interval})


def boundary(anchor, interval, unit, index):
    """Return the ``index``-th period boundary after (or before) ``anchor``."""
    step = period_step(interval, unit)
    return anchor + step * index


def period_containing(day, anchor, interval, unit):
    """Return the full anchor-aligned period ``(start, end)`` that contains ``day``.

    :param date day: any day, before or after the anchor
    :param date anchor: the billing anchor (a period boundary)
    :rtype: tuple(date, date)
    """
    step = period_step(interval, unit)
    # First guess from the average length of a period, then walk to the right one:
    # at most a couple of steps for months and years.
    approx_days = {"day": 1, "week": 7, "month": 30.436875, "year": 365.2425}[unit]
    # Each boundary is computed once (relativedelta arithmetic is the cost).
    index = int((day - anchor).days // (approx_days * interval))
    start = anchor + step * index
    while start > day:
        index -= 1
        start = anchor + step * index
    end = anchor + step * (index + 1)
    while end <= day:
        index += 1
        start, end = end, anchor + step * (index + 1)
    return start, end


def round_amount(value, rounding):
    """Round an exact amount once, half away from zero, to a multiple of ``rounding``.

    :param Fraction|int|str value: the exact amount
    :param float rounding: the currency's rounding (0.01, 1.0, 0.05, ...)
    :rtype: Decimal
    """
    step = Fraction(str(rounding))
    exact = Fraction(value)
    sign = -1 if exact < 0 else 1
    steps = (abs(exact) / step * 2 + 1) // 2
    result = sign * steps * step
    quantum = Decimal(str(rounding))
    return (Decimal(result.numerator) / Decimal(result.denominator)).quantize(quantum)


def prorate(amount, start, end, full_start, full_end, rounding):
    """Return ``amount`` prorated to the part ``[start, end)`` of a full period.

    :param amount: the full-period amount (str, int, float or Decimal; floats are read
        through ``str`` so ``2999.99`` stays exact)
    :param date start: first day charged
    :param date end: first day not charged
    :param date full_start: first day of the full period
    :param date full_end: first day after the full period
    :param float rounding: the currency's rounding
    :rtype: Decimal
    :raise ValueError: when the part is not inside the full period
    """
    if not (full_start <= start <= end <= full_end) or full_start >= full_end:
        raise ValueError(
            f"[{start}, {end}) is not inside the period [{full_start}, {full_end})"
        )
    exact = Fraction(str(amount)) * (end - start).days / (full_end - full_start).days
    return round_amount(exact, rounding)


def last_day(end):
    """Return the last day covered by a half-open range ending at ``end``."""
    return date.fromordinal(end.toordinal() - 1)
