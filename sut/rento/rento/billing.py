"""Pure date arithmetic for monthly rent periods (no database, unit-tested)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import List, Optional, Tuple


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(period_start: dt.date, payment_day: int) -> dt.date:
    """Rent is due on the payment day of the period's first month, never before the period."""
    last = calendar.monthrange(period_start.year, period_start.month)[1]
    due = period_start.replace(day=min(payment_day, last))
    return max(due, period_start)


def next_periods(
    start: dt.date, end: dt.date, last_billed_end: Optional[dt.date], months: int
) -> Optional[List[Tuple[dt.date, dt.date]]]:
    """The next ``months`` monthly periods of a contract after what was billed already.

    Periods are anchored to the contract's start date (so day clamping never drifts) and the last
    one is cut at the contract's end. Returns None when the contract term has fewer than
    ``months`` periods left.
    """
    index = 0
    if last_billed_end is not None:
        # Jump close to the answer, then step: contracts may span decades of monthly periods.
        gap = (last_billed_end.year - start.year) * 12 + last_billed_end.month - start.month
        index = max(0, gap - 1)
        while add_months(start, index) <= last_billed_end:
            index += 1
    periods = []
    for i in range(index, index + months):
        try:
            period_start = add_months(start, i)
        except ValueError:  # beyond year 9999
            return None
        if period_start > end:
            return None
        try:
            period_end = min(add_months(start, i + 1) - dt.timedelta(days=1), end)
        except ValueError:
            period_end = end
        periods.append((period_start, period_end))
    return periods
