"""The business's figures per currency (SPEC §19): MRR, ARR and their last year,
revenue invoiced per month, what the next 30 days will issue, what is overdue.

At 100,000 subscriptions they cost about a second for four currencies, and the
next 30 days (the engine played over the currency's subscriptions due in the
window) seconds more per currency: they are computed in a child process
(services/offload.py), never in a request. A request answers at once with the
figures last computed, when the book was read for them and whether newer ones are
being computed: the book changed since (every state change moves its version), or
the day did. The server starts a refresh of every currency when it starts (`warm`),
so that figures are usually ready before anyone looks; a view that finds none yet
answers none (and starts the refresh if it was not), never computing in the request
(docs/dashboard.md).
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
from recur.services.offload import Offload, database_url, opened
from recur.services.validation import check_currency

log = logging.getLogger("recur.metrics")


@dataclass(frozen=True)
class Metrics:
    currency: str
    as_of: date
    mrr_by_month: list[MonthFigure]  # MRR at each of the last 12 month ends, then today
    next_30_days: Decimal
    overdue: Decimal
    invoiced_by_month: list[MonthFigure]
    computed_at: datetime  # when the book was read for these figures
    refreshing: bool = False  # the book has moved since: newer figures are being computed

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


@dataclass(frozen=True)
class _Kept:
    version: tuple[object, ...]  # the book's, read before the figures (figures.book_version)
    figures: Metrics


def metrics(db: Database, currency: str, today: date) -> Metrics | None:
    """The figures of `currency` as last computed, a refresh started if the book or the
    day has moved since; None if none was ever computed in this process, a refresh
    started (nothing is computed here: at 20,000 accounts even the cheap figures
    take a second)."""
    check_currency(currency)
    kept = _kept.get(db, {}).get(currency)
    if kept is None:
        _start_refresh(db, currency, today)
        return None
    with db.read() as session:
        version = figures.book_version(session)
    found = kept.figures
    current = (kept.version, found.as_of) == (version, today)
    if not current:
        _start_refresh(db, currency, today)
    return replace(found, refreshing=not current)


def warm(db: Database, today: date) -> None:
    """Start the background refresh of every currency of the book (at server start)."""
    for currency in currencies(db):
        _start_refresh(db, currency, today)


def refresh(db: Database, currency: str, today: date) -> Metrics:
    """Compute every figure of `currency` now, in this thread, and keep them: what the
    background refresh does in its child process (tests wait for the figures so)."""
    check_currency(currency)
    kept = _computed(db, currency, today)
    _keep(db, currency, kept)
    return kept.figures


def computed_in_child(url: str, currency: str, today: date) -> _Kept:
    """The background refresh, in a child process: the same computation."""
    with opened(url) as db:
        return _computed(db, currency, today)


def _computed(db: Database, currency: str, today: date) -> _Kept:
    read_at = datetime.now(UTC)
    with db.read() as session:
        # The version first: a change committed while the figures are read leaves them
        # kept as older than the book, and the next view refreshes them again.
        version = figures.book_version(session)
        found = _figures(session, currency, today, read_at)
    return _Kept(version, found)


# Per Database (one per server process), per currency: the figures last computed, and
# since when a refresh has been running (one at a time per currency).
_kept: "weakref.WeakKeyDictionary[Database, dict[str, _Kept]]" = weakref.WeakKeyDictionary()
_refreshing: "weakref.WeakKeyDictionary[Database, dict[str, float]]" = weakref.WeakKeyDictionary()
_guard = threading.Lock()
_children = Offload("dashboard figures")
# A refresh whose child died never answers: another may start after this long.
GIVE_UP_AFTER = 600.0  # seconds


def _start_refresh(db: Database, currency: str, today: date) -> None:
    with _guard:
        running = _refreshing.setdefault(db, {})
        since = running.get(currency)
        if since is not None and time.monotonic() - since < GIVE_UP_AFTER:
            return
        running[currency] = time.monotonic()

    def done(kept: _Kept) -> None:
        _keep(db, currency, kept)
        with _guard:
            _refreshing.get(db, {}).pop(currency, None)

    def failed(error: BaseException) -> None:
        log.error("figures not computed", extra={"currency": currency, "error": str(error)})
        with _guard:
            _refreshing.get(db, {}).pop(currency, None)

    _children.submit(computed_in_child, (database_url(db), currency, today), failed, done)


def _keep(db: Database, currency: str, kept: _Kept) -> None:
    with _guard:
        found = _kept.setdefault(db, {})
        older = found.get(currency)
        # Computations may cross (a test's own and a background one): the book read
        # last wins.
        if older is None or older.figures.computed_at <= kept.figures.computed_at:
            found[currency] = kept


def _figures(session: Session, currency: str, today: date, read_at: datetime) -> Metrics:
    """Every figure: a few grouped statements, then the engine played over the
    currency's subscriptions due in the next 30 days."""
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
        computed_at=read_at,
    )
