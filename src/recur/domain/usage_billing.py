"""Usage billed in arrears: which item and date each record goes out with (SPEC §13).

A usage subscription's periods are laid like any other's (§2). Each record belongs
to the period that contains the day it occurred on, and is planned with it: on the
period's end (clipped at the end of service) plus the option's `usage_delay_days`.
A record that arrives after that date is late: it goes out with the first later
period planned on or after its arrival, or on its arrival when no later period
exists, still showing its own period. The records of one meter, period and planned
date make one item: their quantities summed exactly, times the meter's price,
rounded once (§3).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from recur.domain.periods import BillingPeriod, PeriodSchedule
from recur.domain.usage import Meter


@dataclass(frozen=True, slots=True)
class UnbilledUsage:
    """A record received and not billed yet, as the engine reads it."""

    id: str
    meter: str
    quantity: Decimal
    occurred_on: date
    received_on: date


@dataclass(frozen=True, slots=True)
class MeteredUsage:
    """What a usage item sums: the quantity of `records` of one meter."""

    meter: Meter
    quantity: Decimal
    record_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UsageOwed:
    """One usage item before it is priced."""

    planned: date
    period: BillingPeriod
    usage: MeteredUsage


def usage_owed(
    schedule: PeriodSchedule,
    delay_days: int,
    meters: Iterable[Meter],
    records: Iterable[UnbilledUsage],
) -> list[UsageOwed]:
    """The items of the records not billed yet, in order of planned issue date, then
    period, then meter. A record of a meter the option no longer has, or of a day
    out of service, is refused at ingestion and never reaches here."""
    by_code = {meter.code: meter for meter in meters}
    delay = timedelta(days=delay_days)
    groups: dict[tuple[date, BillingPeriod, str], list[UnbilledUsage]] = defaultdict(list)
    planner = _Planner(schedule, delay)
    for record in records:
        period = planner.period_of(record.occurred_on)
        groups[planner.planned(period, record.received_on), period, record.meter].append(record)
    owed = [
        UsageOwed(
            planned,
            period,
            MeteredUsage(
                by_code[code],
                sum((r.quantity for r in group), Decimal(0)),
                tuple(sorted(r.id for r in group)),
            ),
        )
        for (planned, period, code), group in groups.items()
    ]
    # Meters in the order the option lists them (their ids), as a preview shows them.
    owed.sort(key=lambda o: (o.planned, o.period.start, o.usage.meter.id))
    return owed


def first_planned(
    schedule: PeriodSchedule, delay_days: int, records: Iterable[UnbilledUsage]
) -> date | None:
    """The earliest planned issue date of `records` (None without records)."""
    planner = _Planner(schedule, timedelta(days=delay_days))
    return min(
        (planner.planned(planner.period_of(r.occurred_on), r.received_on) for r in records),
        default=None,
    )


class _Planner:
    """Periods and planned dates of one subscription's records, each period found once."""

    def __init__(self, schedule: PeriodSchedule, delay: timedelta) -> None:
        self.schedule = schedule
        self.delay = delay
        self._periods: list[BillingPeriod] = []
        self._more: Iterator[BillingPeriod] | None = schedule.periods()

    def period_of(self, day: date) -> BillingPeriod:
        last = None
        for last in self._through(day):
            if last.start <= day < last.end:
                return last
        if last is not None and day >= last.end:
            # A record of today received before a cancellation `now` ended service
            # today: still billed, with the last period.
            return last
        raise ValueError(f"{day} is not a day of service")

    def planned(self, period: BillingPeriod, received_on: date) -> date:
        """The period's own date, or for a late record the first later period's date
        on or after its arrival (its arrival when service has ended)."""
        own = period.end + self.delay
        if received_on <= own:
            return own
        for later in self._through(received_on - self.delay):
            if later.start >= period.end and later.end + self.delay >= received_on:
                return later.end + self.delay
        return received_on

    def _through(self, day: date) -> Iterator[BillingPeriod]:
        """The periods in order, laid out as far as the one containing `day` (or
        the last, when service ends before it)."""
        yield from self._periods
        while self._more is not None and (not self._periods or self._periods[-1].end <= day):
            period = next(self._more, None)
            if period is None:
                self._more = None
                return
            self._periods.append(period)
            yield period
