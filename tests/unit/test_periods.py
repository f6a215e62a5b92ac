"""SPEC §2: billing periods, anniversary or aligned, clipped at the end date, prorated."""

from datetime import date
from fractions import Fraction
from itertools import islice

from recur.domain.periods import BillingPeriod, PeriodSchedule

Span = tuple[date, date, Fraction]


def spans(schedule: PeriodSchedule, count: int = 100, resume_at: date | None = None) -> list[Span]:
    """The first `count` periods as ([start, end), proration)."""
    return [(p.start, p.end, p.proration) for p in islice(schedule.periods(resume_at), count)]


def monthly(start: date, billing_day: int | None = None, end: date | None = None) -> PeriodSchedule:
    return PeriodSchedule(start, 1, billing_day, end)


ONE = Fraction(1)


class TestAnniversary:
    def test_every_period_is_full_and_starts_on_the_start_day(self) -> None:
        assert spans(monthly(date(2027, 1, 11)), 3) == [
            (date(2027, 1, 11), date(2027, 2, 11), ONE),
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
            (date(2027, 3, 11), date(2027, 4, 11), ONE),
        ]

    def test_an_anniversary_on_the_31st_follows_month_ends(self) -> None:
        # 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May: anchored on 31 Jan, never chained.
        assert spans(monthly(date(2027, 1, 31)), 4) == [
            (date(2027, 1, 31), date(2027, 2, 28), ONE),
            (date(2027, 2, 28), date(2027, 3, 31), ONE),
            (date(2027, 3, 31), date(2027, 4, 30), ONE),
            (date(2027, 4, 30), date(2027, 5, 31), ONE),
        ]

    def test_a_leap_february(self) -> None:
        assert spans(monthly(date(2028, 1, 30)), 2) == [
            (date(2028, 1, 30), date(2028, 2, 29), ONE),
            (date(2028, 2, 29), date(2028, 3, 30), ONE),
        ]

    def test_an_annual_anniversary_on_the_29th_of_february(self) -> None:
        # Anchored on 29 Feb 2028: 28 Feb in common years, back to 29 Feb in 2032.
        assert [
            p.start for p in islice(PeriodSchedule(date(2028, 2, 29), 12, None, None).periods(), 5)
        ] == [
            date(2028, 2, 29),
            date(2029, 2, 28),
            date(2030, 2, 28),
            date(2031, 2, 28),
            date(2032, 2, 29),
        ]

    def test_quarterly_on_a_month_end(self) -> None:
        assert spans(PeriodSchedule(date(2027, 1, 31), 3, None, None), 4) == [
            (date(2027, 1, 31), date(2027, 4, 30), ONE),
            (date(2027, 4, 30), date(2027, 7, 31), ONE),
            (date(2027, 7, 31), date(2027, 10, 31), ONE),
            (date(2027, 10, 31), date(2028, 1, 31), ONE),
        ]


class TestAlignedBillingDay:
    def test_start_after_the_billing_day_spec_example(self) -> None:
        # D = 11, start 20 Jan 2027: [20 Jan, 11 Feb) is 22 of the 31 days of [11 Jan, 11 Feb).
        assert spans(monthly(date(2027, 1, 20), billing_day=11), 3) == [
            (date(2027, 1, 20), date(2027, 2, 11), Fraction(22, 31)),
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
            (date(2027, 3, 11), date(2027, 4, 11), ONE),
        ]

    def test_start_before_the_billing_day(self) -> None:
        # D = 11, start 5 Jan 2027: [5 Jan, 11 Jan) is 6 of the 31 days of [11 Dec 2026, 11 Jan).
        assert spans(monthly(date(2027, 1, 5), billing_day=11), 2) == [
            (date(2027, 1, 5), date(2027, 1, 11), Fraction(6, 31)),
            (date(2027, 1, 11), date(2027, 2, 11), ONE),
        ]

    def test_the_denominator_is_the_month_before_the_billing_day(self) -> None:
        # D = 11, start 5 Mar 2027: 6 of the 28 days of [11 Feb, 11 Mar).
        first = next(monthly(date(2027, 3, 5), billing_day=11).periods())
        assert (first.full_start, first.full_end) == (date(2027, 2, 11), date(2027, 3, 11))
        assert first.proration == Fraction(6, 28)

    def test_start_on_the_billing_day_has_no_partial_period(self) -> None:
        assert spans(monthly(date(2027, 1, 11), billing_day=11), 2) == [
            (date(2027, 1, 11), date(2027, 2, 11), ONE),
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
        ]

    def test_start_on_a_month_end_aligned_to_the_first(self) -> None:
        # D = 1, start 31 Jan 2027: one day of the 31 of [1 Jan, 1 Feb).
        assert spans(monthly(date(2027, 1, 31), billing_day=1), 2) == [
            (date(2027, 1, 31), date(2027, 2, 1), Fraction(1, 31)),
            (date(2027, 2, 1), date(2027, 3, 1), ONE),
        ]

    def test_quarterly_aligned_to_a_billing_day(self) -> None:
        # D = 1, start 15 Jan 2027: B = 1 Feb; the full quarter before B is
        # [1 Nov 2026, 1 Feb 2027) = 30 + 31 + 31 = 92 days; 15..31 Jan = 17 days.
        assert spans(PeriodSchedule(date(2027, 1, 15), 3, 1, None), 3) == [
            (date(2027, 1, 15), date(2027, 2, 1), Fraction(17, 92)),
            (date(2027, 2, 1), date(2027, 5, 1), ONE),
            (date(2027, 5, 1), date(2027, 8, 1), ONE),
        ]

    def test_annual_aligned_to_a_billing_day(self) -> None:
        # D = 11, start 20 Jan 2027: 22 of the 365 days of [11 Feb 2026, 11 Feb 2027).
        assert spans(PeriodSchedule(date(2027, 1, 20), 12, 11, None), 2) == [
            (date(2027, 1, 20), date(2027, 2, 11), Fraction(22, 365)),
            (date(2027, 2, 11), date(2028, 2, 11), ONE),
        ]

    def test_annual_partial_counts_a_leap_day(self) -> None:
        # D = 1, start 15 Feb 2028: 15..29 Feb = 15 days of [1 Mar 2027, 1 Mar 2028) = 366.
        first = next(PeriodSchedule(date(2028, 2, 15), 12, 1, None).periods())
        assert (first.start, first.end) == (date(2028, 2, 15), date(2028, 3, 1))
        assert first.proration == Fraction(15, 366)


class TestClippedAtTheEndDate:
    def test_the_last_period_is_prorated_over_the_period_it_was_cut_from(self) -> None:
        # [11 Mar, 20 Mar) is 9 of the 31 days of [11 Mar, 11 Apr).
        assert spans(monthly(date(2027, 1, 11), end=date(2027, 3, 20))) == [
            (date(2027, 1, 11), date(2027, 2, 11), ONE),
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
            (date(2027, 3, 11), date(2027, 3, 20), Fraction(9, 31)),
        ]

    def test_a_cut_february(self) -> None:
        # [11 Feb, 20 Feb) is 9 of the 28 days of [11 Feb, 11 Mar).
        last = spans(monthly(date(2027, 1, 11), end=date(2027, 2, 20)))[-1]
        assert last == (date(2027, 2, 11), date(2027, 2, 20), Fraction(9, 28))

    def test_an_end_date_on_a_boundary_leaves_no_empty_period(self) -> None:
        assert spans(monthly(date(2027, 1, 11), end=date(2027, 3, 11))) == [
            (date(2027, 1, 11), date(2027, 2, 11), ONE),
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
        ]

    def test_a_first_partial_also_clipped_keeps_the_first_denominator(self) -> None:
        # D = 11, start 20 Jan, end 1 Feb: [20 Jan, 1 Feb) is 12 of the 31 days of [11 Jan, 11 Feb).
        [only] = monthly(date(2027, 1, 20), billing_day=11, end=date(2027, 2, 1)).periods()
        assert (only.start, only.end) == (date(2027, 1, 20), date(2027, 2, 1))
        assert (only.full_start, only.full_end) == (date(2027, 1, 11), date(2027, 2, 11))
        assert only.proration == Fraction(12, 31)

    def test_a_clipped_quarter(self) -> None:
        # [11 Apr, 11 May) is 30 of the 30 + 31 + 30 = 91 days of [11 Apr, 11 Jul).
        assert spans(PeriodSchedule(date(2027, 1, 11), 3, None, date(2027, 5, 11))) == [
            (date(2027, 1, 11), date(2027, 4, 11), ONE),
            (date(2027, 4, 11), date(2027, 5, 11), Fraction(30, 91)),
        ]

    def test_ending_on_the_start_date_has_no_period(self) -> None:
        assert spans(monthly(date(2027, 1, 11), end=date(2027, 1, 11))) == []
        assert spans(monthly(date(2027, 1, 20), billing_day=11, end=date(2027, 1, 20))) == []


class TestResuming:
    def test_from_a_billed_cursor(self) -> None:
        assert spans(monthly(date(2027, 1, 11)), 2, resume_at=date(2027, 3, 11)) == [
            (date(2027, 3, 11), date(2027, 4, 11), ONE),
            (date(2027, 4, 11), date(2027, 5, 11), ONE),
        ]

    def test_after_a_billed_partial_first_period(self) -> None:
        schedule = monthly(date(2027, 1, 20), billing_day=11)
        assert spans(schedule, 1, resume_at=date(2027, 2, 11)) == [
            (date(2027, 2, 11), date(2027, 3, 11), ONE),
        ]

    def test_on_month_ends(self) -> None:
        schedule = monthly(date(2027, 1, 31))
        assert spans(schedule, 2, resume_at=date(2027, 2, 28)) == [
            (date(2027, 2, 28), date(2027, 3, 31), ONE),
            (date(2027, 3, 31), date(2027, 4, 30), ONE),
        ]
        assert spans(schedule, 2, resume_at=date(2027, 4, 30)) == [
            (date(2027, 4, 30), date(2027, 5, 31), ONE),
            (date(2027, 5, 31), date(2027, 6, 30), ONE),
        ]

    def test_a_quarterly_cursor_years_later(self) -> None:
        schedule = PeriodSchedule(date(2027, 1, 31), 3, None, None)
        assert spans(schedule, 1, resume_at=date(2030, 4, 30)) == [
            (date(2030, 4, 30), date(2030, 7, 31), ONE),
        ]

    def test_up_to_the_clipped_last_period(self) -> None:
        schedule = monthly(date(2027, 1, 11), end=date(2027, 3, 20))
        assert spans(schedule, resume_at=date(2027, 3, 11)) == [
            (date(2027, 3, 11), date(2027, 3, 20), Fraction(9, 31)),
        ]

    def test_nothing_once_the_cursor_reaches_the_end_date(self) -> None:
        schedule = monthly(date(2027, 1, 11), end=date(2027, 3, 20))
        assert spans(schedule, resume_at=date(2027, 3, 20)) == []
        assert spans(schedule, resume_at=date(2027, 4, 11)) == []


class TestPeriodContaining:
    def test_a_day_inside_a_period(self) -> None:
        schedule = monthly(date(2027, 1, 11))
        assert schedule.period_containing(date(2027, 2, 15)) == BillingPeriod(
            date(2027, 2, 11), date(2027, 3, 11), date(2027, 2, 11), date(2027, 3, 11)
        )

    def test_a_boundary_belongs_to_the_period_it_starts(self) -> None:
        schedule = monthly(date(2027, 1, 11))
        found = schedule.period_containing(date(2027, 3, 11))
        assert found is not None
        assert (found.start, found.end) == (date(2027, 3, 11), date(2027, 4, 11))
        before = schedule.period_containing(date(2027, 3, 10))
        assert before is not None
        assert (before.start, before.last_day) == (date(2027, 2, 11), date(2027, 3, 10))

    def test_the_partial_first_period(self) -> None:
        found = monthly(date(2027, 1, 20), billing_day=11).period_containing(date(2027, 1, 25))
        assert found == BillingPeriod(
            date(2027, 1, 20), date(2027, 2, 11), date(2027, 1, 11), date(2027, 2, 11)
        )
        assert found.is_partial

    def test_no_period_before_the_start_or_from_the_end_date(self) -> None:
        schedule = monthly(date(2027, 1, 11), end=date(2027, 3, 20))
        assert schedule.period_containing(date(2027, 1, 10)) is None
        assert schedule.period_containing(date(2027, 3, 20)) is None
        clipped = schedule.period_containing(date(2027, 3, 19))
        assert clipped is not None
        assert (clipped.start, clipped.end, clipped.is_partial) == (
            date(2027, 3, 11),
            date(2027, 3, 20),
            True,
        )
