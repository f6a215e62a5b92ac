"""The business's figures per currency (SPEC §19): MRR, ARR and their last year,
revenue invoiced per month, what the next 30 days will issue, what is overdue."""

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from recur.db.repositories import metrics as figures
from recur.db.repositories import receivables as books
from recur.db.session import Database
from recur.domain.metrics import (
    NEXT_DAYS,
    MonthFigure,
    documents_total,
    first_day_shown,
    invoiced_by_month,
    month_key,
    mrr_on,
    trend_days,
)
from recur.domain.money import to_money
from recur.services.forecast import book_documents
from recur.services.validation import check_currency


@dataclass(frozen=True)
class Metrics:
    currency: str
    as_of: date
    mrr_by_month: list[MonthFigure]  # MRR at each of the last 12 month ends, then today
    next_30_days: Decimal
    overdue: Decimal
    invoiced_by_month: list[MonthFigure]

    @property
    def mrr(self) -> Decimal:
        return self.mrr_by_month[-1].amount

    @property
    def arr(self) -> Decimal:
        return 12 * self.mrr

    @property
    def mrr_change(self) -> Decimal:
        """MRR today less MRR at the end of the month a year ago."""
        return self.mrr - self.mrr_by_month[0].amount

    @property
    def arr_change(self) -> Decimal:
        return 12 * self.mrr_change


def currencies(db: Database) -> list[str]:
    """The currencies of the book's accounts, for the dashboard's one section each."""
    with db.read() as session:
        return figures.currencies(session)


def metrics(db: Database, currency: str, today: date) -> Metrics:
    """The figures of `currency` as of `today`."""
    check_currency(currency)
    days = trend_days(today)
    with db.read() as session:
        steps = figures.mrr_steps(session, currency)
        changed = figures.changed_services(session, currency, days[0])
        per_day = figures.totals_per_day(session, currency, first_day_shown(today))
        overdue = books.overdue_total(session, currency, today)
    return Metrics(
        currency=currency,
        as_of=today,
        mrr_by_month=[
            MonthFigure(month_key(day), mrr_on(steps, changed, day, currency)) for day in days
        ],
        next_30_days=_next_30_days(db, currency, today),
        overdue=to_money(overdue, currency),
        invoiced_by_month=invoiced_by_month(today, per_day, currency),
    )


# The next 30 days play the engine over every subscription: seconds for a large book.
# It is kept per database, currency and day with the book's version, and computed
# again only once the version moves (figures.book_version).
_kept: dict[tuple[str, str, date], tuple[object, Decimal]] = {}
_keeping = threading.Lock()


def _next_30_days(db: Database, currency: str, today: date) -> Decimal:
    key = (db.engine.url.render_as_string(hide_password=True), currency, today)
    with db.read() as session:
        version = figures.book_version(session)
        kept = _kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        until = today + timedelta(days=NEXT_DAYS)
        total = documents_total(list(book_documents(session, today, until, currency)), currency)
    with _keeping:
        if len(_kept) > 64:  # old days and databases: never more than a few are asked
            _kept.clear()
        _kept[key] = (version, total)
    return total
