"""The figures of the business (SPEC §19): MRR, its history, revenue per month.

MRR is the sum over recurring subscriptions in force on a day of quantity × unit
price of the plan in force that day, converted to a month and rounded once.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from recur.domain.calendar import add_months
from recur.domain.invoices import PendingInvoice
from recur.domain.money import round_money, to_money
from recur.domain.timeline import InForce, in_force_on

TREND_MONTHS = 12  # the history the dashboard shows: a year of month ends
NEXT_DAYS = 30  # `next_30_days`: documents issued before today + NEXT_DAYS


@dataclass(frozen=True, slots=True)
class RecurringService:
    """A recurring subscription as MRR sees it: its timeline over [start, end)."""

    start_date: date
    end_date: date | None  # the end of service, exclusive
    months: int  # months one period covers
    timeline: tuple[InForce, ...]

    def monthly_on(self, day: date) -> Fraction:
        """What it brings a month on `day` (0 when not in service that day), exact."""
        if day < self.start_date or (self.end_date is not None and day >= self.end_date):
            return Fraction(0)
        segment = in_force_on(self.timeline, day)
        return Fraction(segment.plan.unit_price) * segment.quantity / self.months


def mrr_on(services: Iterable[RecurringService], day: date, currency: str) -> Decimal:
    """MRR on `day`, rounded once at the end."""
    return round_money(sum((s.monthly_on(day) for s in services), Fraction(0)), currency)


@dataclass(frozen=True, slots=True)
class MonthFigure:
    month: str  # YYYY-MM
    amount: Decimal


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def trend_days(today: date) -> list[date]:
    """The last day of each of the TREND_MONTHS months before this one, then today."""
    first = today.replace(day=1)
    ends = [add_months(first, 1 - n) - timedelta(days=1) for n in range(TREND_MONTHS, 0, -1)]
    return [*ends, today]


def last_months(today: date) -> list[str]:
    """The TREND_MONTHS months up to this one, oldest first."""
    first = today.replace(day=1)
    return [month_key(add_months(first, -n)) for n in range(TREND_MONTHS - 1, -1, -1)]


def first_day_shown(today: date) -> date:
    """The first day of the oldest month `last_months` shows."""
    return add_months(today.replace(day=1), -(TREND_MONTHS - 1))


def invoiced_by_month(
    today: date, per_day: Iterable[tuple[date, Decimal]], currency: str
) -> list[MonthFigure]:
    """Totals issued per month (credit notes net), every month shown, empty ones 0."""
    sums = dict.fromkeys(last_months(today), Decimal(0))
    for day, total in per_day:
        key = month_key(day)
        if key in sums:
            sums[key] += total
    return [MonthFigure(month, to_money(amount, currency)) for month, amount in sums.items()]


def documents_total(documents: Sequence[PendingInvoice], currency: str) -> Decimal:
    """The sum of the documents' totals (credit notes are negative)."""
    return to_money(sum((d.totals.total for d in documents), Decimal(0)), currency)


def month_totals(per_day: Iterable[tuple[date, Decimal]], currency: str) -> list[MonthFigure]:
    """Totals per month of the months that have any, in order."""
    sums: dict[str, Decimal] = {}
    for day, total in sorted(per_day):
        key = month_key(day)
        sums[key] = sums.get(key, Decimal(0)) + total
    return [MonthFigure(month, to_money(amount, currency)) for month, amount in sums.items()]
