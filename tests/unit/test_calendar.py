"""SPEC §2: month arithmetic is anchored, never chained, and clamped to month ends."""

from datetime import date

import pytest

from recur.domain.calendar import add_months, months_between, next_day_of_month


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (0, date(2027, 1, 31)),
        (1, date(2027, 2, 28)),
        (2, date(2027, 3, 31)),
        (3, date(2027, 4, 30)),
        (4, date(2027, 5, 31)),
        (5, date(2027, 6, 30)),
        (11, date(2027, 12, 31)),
        (12, date(2028, 1, 31)),
        (13, date(2028, 2, 29)),  # 2028 is a leap year
        (-1, date(2026, 12, 31)),
        (-2, date(2026, 11, 30)),
    ],
)
def test_an_anniversary_on_the_31st_is_clamped_to_each_month_end(
    months: int, expected: date
) -> None:
    assert add_months(date(2027, 1, 31), months) == expected


def test_boundaries_are_anchored_not_chained() -> None:
    anchor = date(2027, 1, 31)
    chained = add_months(add_months(anchor, 1), 1)  # 28 Feb + 1 month = 28 Mar
    assert chained == date(2027, 3, 28)
    assert add_months(anchor, 2) == date(2027, 3, 31)


def test_the_29th_of_february_of_a_leap_year() -> None:
    assert add_months(date(2028, 1, 29), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 29), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2028, 2, 29), 48) == date(2032, 2, 29)


def test_quarters_and_years_across_year_ends() -> None:
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 12, 15), 12) == date(2028, 12, 15)
    assert add_months(date(2027, 1, 15), -3) == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("after", "day", "expected"),
    [
        (date(2027, 1, 20), 11, date(2027, 2, 11)),  # day already past: next month
        (date(2027, 1, 5), 11, date(2027, 1, 11)),  # day still to come this month
        (date(2027, 1, 11), 11, date(2027, 2, 11)),  # strictly after: never the same day
        (date(2027, 12, 31), 1, date(2028, 1, 1)),  # across a year end
        (date(2027, 1, 31), 28, date(2027, 2, 28)),  # from a month end to a short month
        (date(2028, 2, 29), 28, date(2028, 3, 28)),
    ],
)
def test_next_day_of_month(after: date, day: int, expected: date) -> None:
    assert next_day_of_month(after, day) == expected


def test_months_between_counts_calendar_months() -> None:
    assert months_between(date(2027, 1, 31), date(2027, 2, 1)) == 1
    assert months_between(date(2026, 11, 11), date(2027, 2, 11)) == 3
    assert months_between(date(2027, 3, 1), date(2027, 3, 31)) == 0
