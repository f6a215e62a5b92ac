"""The business's figures per currency (SPEC §19): MRR, ARR and their last year,
revenue invoiced per month, what the next 30 days will issue, what is overdue.

Every figure but the next 30 days is a few grouped statements, computed in the
request. The next 30 days plays the engine over the currency's subscriptions due in
the window (seconds on a large book): it is computed in a child process
(services/offload.py) whenever a request finds the kept total older than the book,
and the request answers at once with the total last computed, when it was computed
and that a newer one is on its way (docs/dashboard.md).
"""

import logging
import threading
import time
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
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
from recur.services.offload import Offload, child_database, database_url
from recur.services.validation import check_currency

log = logging.getLogger("recur.metrics")


@dataclass(frozen=True)
class Metrics:
    currency: str
    as_of: date
    mrr_by_month: list[MonthFigure]  # MRR at each of the last 12 month ends, then today
    # The total last computed (None: never yet), when the book was read for it, and
    # whether the book has moved since (a newer total is being computed).
    next_30_days: Decimal | None
    next_30_days_as_of: datetime | None
    next_30_days_refreshing: bool
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


@dataclass(frozen=True)
class Upcoming:
    """The next 30 days' total of a currency, of the book at `version` on `today`."""

    today: date
    version: tuple[object, ...]
    total: Decimal
    read_at: datetime  # when the book was read for it


def currencies(db: Database) -> list[str]:
    """The currencies of the book's accounts, for the dashboard's one section each."""
    with db.read() as session:
        return figures.currencies(session)


def metrics(db: Database, currency: str, today: date) -> Metrics:
    """The figures of `currency` as of `today`; the next 30 days as last computed,
    a refresh started if the book has moved since (never computed here)."""
    check_currency(currency)
    with db.read() as session:
        version = figures.book_version(session)
        found = _kept_figures(db, session, currency, today, version)
    upcoming = _upcoming.get(db, {}).get(currency)
    current = upcoming is not None and (upcoming.version, upcoming.today) == (version, today)
    if not current:
        _start_refresh(db, currency, today)
    return replace(
        found,
        next_30_days=None if upcoming is None else upcoming.total,
        next_30_days_as_of=None if upcoming is None else upcoming.read_at,
        next_30_days_refreshing=not current,
    )


def refresh_next_30_days(db: Database, currency: str, today: date) -> Upcoming:
    """Compute the next 30 days of `currency` now, in this thread, and keep it (what
    the background refresh does in its child process; tests wait for it so)."""
    check_currency(currency)
    upcoming = _count_upcoming(db, currency, today)
    _keep(db, currency, upcoming)
    return upcoming


def upcoming_in_child(url: str, currency: str, today: date) -> Upcoming:
    """The background refresh, in a child process: the same computation."""
    return _count_upcoming(child_database(url), currency, today)


def _count_upcoming(db: Database, currency: str, today: date) -> Upcoming:
    read_at = datetime.now(UTC)
    with db.read() as session:
        # Read first: a change committed while the engine plays leaves this total
        # older than the book, and the next view refreshes it again.
        version = figures.book_version(session)
        coming = book_documents(session, today, today + timedelta(days=NEXT_DAYS), currency)
        total = documents_total(list(coming), currency)
    return Upcoming(today, version, total, read_at)


# Per Database (one per server process), per currency: the total last computed, and
# since when a refresh is running (one at a time per currency).
_upcoming: "weakref.WeakKeyDictionary[Database, dict[str, Upcoming]]" = weakref.WeakKeyDictionary()
_refreshing: "weakref.WeakKeyDictionary[Database, dict[str, float]]" = weakref.WeakKeyDictionary()
_guard = threading.Lock()
_children = Offload("next 30 days")
# A refresh whose child died never answers: another may start after this long.
GIVE_UP_AFTER = 600.0  # seconds


def _start_refresh(db: Database, currency: str, today: date) -> None:
    with _guard:
        running = _refreshing.setdefault(db, {})
        since = running.get(currency)
        if since is not None and time.monotonic() - since < GIVE_UP_AFTER:
            return
        running[currency] = time.monotonic()

    def done(upcoming: Upcoming) -> None:
        _keep(db, currency, upcoming)

    def failed(error: BaseException) -> None:
        log.error("next 30 days not computed", extra={"currency": currency, "error": str(error)})
        with _guard:
            _refreshing.get(db, {}).pop(currency, None)

    _children.submit(upcoming_in_child, (database_url(db), currency, today), failed, done)


def _keep(db: Database, currency: str, upcoming: Upcoming) -> None:
    with _guard:
        kept = _upcoming.setdefault(db, {})
        older = kept.get(currency)
        # Two computations may cross (a test's own and a background one): the book
        # read last wins.
        if older is None or older.read_at <= upcoming.read_at:
            kept[currency] = upcoming
        _refreshing.get(db, {}).pop(currency, None)


# The other figures read every recurring subscription, in a few grouped statements:
# they are kept per database, currency and day with the book's version
# (figures.book_version), and computed again once it moves.
_kept: dict[tuple[str, str, date], tuple[object, Metrics]] = {}
_keeping = threading.Lock()
_KEEP_AT_MOST = 64  # entries: a few currencies of a day or two, never more in use


def _kept_figures(
    db: Database, session: Session, currency: str, today: date, version: object
) -> Metrics:
    key = (db.engine.url.render_as_string(hide_password=True), currency, today)
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
    return Metrics(
        currency=currency,
        as_of=today,
        mrr_by_month=[
            MonthFigure(month_key(day), mrr_on(steps, changed, day, currency)) for day in days
        ],
        next_30_days=None,
        next_30_days_as_of=None,
        next_30_days_refreshing=True,
        overdue=to_money(overdue, currency),
        invoiced_by_month=invoiced_by_month(today, per_day, currency),
    )
