"""Anchored month arithmetic: the n-th boundary is anchor + n months, clamped."""

from datetime import date

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month - 1]


def add_months(anchor: date, months: int) -> date:
    """anchor + months, clamped to the last day of the target month.

    Always computed from the anchor, never chained, so an anniversary on the
    31st gives 31 Jan, 28 Feb, 31 Mar, 30 Apr …
    """
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month0 = divmod(index, 12)
    day = anchor.day
    if day > 28:
        day = min(day, days_in_month(year, month0 + 1))
    return date(year, month0 + 1, day)


def next_day_of_month(after: date, day: int) -> date:
    """The first date strictly after `after` whose day of month is `day` (1–28)."""
    if after.day < day:
        return after.replace(day=day)
    return add_months(after.replace(day=day), 1)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from start's month to end's month."""
    return (end.year - start.year) * 12 + end.month - start.month
