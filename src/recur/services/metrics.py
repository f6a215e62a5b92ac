"""The business's figures per currency (SPEC §19): MRR, ARR and their last year,
revenue invoiced per month, what the next 30 days will issue, what is overdue."""

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

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


# The figures read every recurring subscription and play the engine over the next 30
# days: seconds for a large book. They are kept per database, currency and day with
# the book's version (figures.book_version), and computed again once it moves.
_kept: dict[tuple[str, str, date], tuple[object, "Metrics"]] = {}
_keeping = threading.Lock()
_KEEP_AT_MOST = 64  # entries: a few currencies of a day or two, never more in use


def metrics(db: Database, currency: str, today: date) -> Metrics:
    """The figures of `currency` as of `today`."""
    check_currency(currency)
    key = (db.engine.url.render_as_string(hide_password=True), currency, today)
    with db.read() as session:
        version = figures.book_version(session)
        kept = _kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        found = _figures(session, currency, today)
    with _keeping:
        if len(_kept) >= _KEEP_AT_MOST:
            _kept.clear()
        _kept[key] = (version, found)
    return found


def _figures(session: Session, currency: str, today: date) -> Metrics:
    days = trend_days(today)
    steps = figures.mrr_steps(session, currency)
    changed = figures.changed_services(session, currency, days[0])
    per_day = figures.totals_per_day(session, currency, first_day_shown(today))
    overdue = books.overdue_total(session, currency, today)
    coming = book_documents(session, today, today + timedelta(days=NEXT_DAYS), currency)
    return Metrics(
        currency=currency,
        as_of=today,
        mrr_by_month=[
            MonthFigure(month_key(day), mrr_on(steps, changed, day, currency)) for day in days
        ],
        next_30_days=documents_total(list(coming), currency),
        overdue=to_money(overdue, currency),
        invoiced_by_month=invoiced_by_month(today, per_day, currency),
    )
