"""The figures of the business (SPEC §19): MRR, its history, revenue per month.

MRR is the sum over recurring subscriptions in force on a day of quantity × unit
price of the plan in force that day, converted to a month and rounded once.
"""

from collections import defaultdict
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
class MrrStep:
    """Subscriptions that never changed, summed: from `day` on, `amount` (unit price ×
    quantity; negative where they end) per `months` months more is in force."""

    day: date
    months: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RecurringService:
    """A recurring subscription with changes, as MRR sees it: its timeline over
    [start, end)."""

    start_date: date
    end_date: date | None  # the end of service, exclusive
    months: int  # months one period covers
    timeline: tuple[InForce, ...]

    def in_force_on(self, day: date) -> Decimal | None:
        """Unit price × quantity in force on `day`; None when not in service that day."""
        if day < self.start_date or (self.end_date is not None and day >= self.end_date):
            return None
        segment = in_force_on(self.timeline, day)
        return segment.plan.unit_price * segment.quantity


def mrr_on(
    steps: Iterable[MrrStep], changed: Iterable[RecurringService], day: date, currency: str
) -> Decimal:
    """MRR on `day`: the amounts in force summed per billing period (exact decimals),
    each converted to a month, rounded once at the end."""
    per_months: dict[int, Decimal] = defaultdict(Decimal)
    for step in steps:
        if step.day <= day:
            per_months[step.months] += step.amount
    for service in changed:
        amount = service.in_force_on(day)
        if amount is not None:
            per_months[service.months] += amount
    exact = sum((Fraction(total) / months for months, total in per_months.items()), Fraction(0))
    return round_money(exact, currency)


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
