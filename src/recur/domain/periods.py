"""Billing periods: half-open date ranges laid on anchored month boundaries (SPEC §2)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from recur.domain.calendar import add_months, months_between, next_day_of_month


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """[start, end) billed, cut from the regular period [full_start, full_end)."""

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def last_day(self) -> date:
        """The inclusive end, as periods are shown."""
        return self.end - timedelta(days=1)

    @property
    def proration(self) -> Fraction:
        """Days billed / days of the full period that contains them."""
        return Fraction((self.end - self.start).days, (self.full_end - self.full_start).days)

    @property
    def is_partial(self) -> bool:
        return (self.start, self.end) != (self.full_start, self.full_end)


@dataclass(frozen=True, slots=True)
class PeriodSchedule:
    """Where a recurring subscription's periods fall.

    `billing_day` is the effective day (pricing option's, else account's);
    None means anniversary billing on the start date's day.
    """

    start_date: date
    months: int
    billing_day: int | None
    end_date: date | None

    @property
    def anchor(self) -> date:
        """The first full-period boundary; before it lies at most one partial period."""
        if self.billing_day is None or self.start_date.day == self.billing_day:
            return self.start_date
        return next_day_of_month(self.start_date, self.billing_day)

    def periods(self, resume_at: date | None = None) -> Iterator[BillingPeriod]:
        """Periods in order, from the one starting at `resume_at` (or the first).

        Infinite unless the schedule has an end date; every period ends by it.
        """
        if self.months == 0:
            return  # a one-time price has no periods
        if resume_at is not None and self.end_date is not None and resume_at >= self.end_date:
            return
        anchor = self.anchor
        if resume_at is None or resume_at < anchor:
            resume_at = self.start_date
            if anchor > self.start_date:
                full_start = add_months(anchor, -self.months)
                first = self._clip(BillingPeriod(self.start_date, anchor, full_start, anchor))
                if first is None:
                    return
                yield first
        # Jump straight to the boundary at `resume_at` rather than walking from the start.
        n = max(0, months_between(anchor, resume_at) // self.months - 1)
        start = add_months(anchor, n * self.months)
        while start < resume_at:
            n += 1
            start = add_months(anchor, n * self.months)
        while True:
            n += 1
            end = add_months(anchor, n * self.months)
            period = self._clip(BillingPeriod(start, end, start, end))
            if period is None:
                return
            yield period
            start = end

    def _clip(self, period: BillingPeriod) -> BillingPeriod | None:
        """Cut the period at the end date; None once the period starts on or after it."""
        if self.end_date is None or period.end <= self.end_date:
            return period
        if period.start >= self.end_date:
            return None
        return BillingPeriod(period.start, self.end_date, period.full_start, period.full_end)

    def period_containing(self, day: date) -> BillingPeriod | None:
        """The period (clipped at the end date) that contains `day`, if service runs then."""
        for period in self.periods():
            if period.start <= day < period.end:
                return period
            if period.start > day:
                return None
        return None
