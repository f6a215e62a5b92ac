"""Usage ingestion (SPEC §13): batches of records, accepted or refused whole.

A batch is read record by record (services/usage_input.py), then checked against
the database in bulk: one query for the subscriptions and their meters, one for the
ids already taken. The new records go in with one statement that skips any id another
batch has just stored; those are compared with what was stored, in the same
transaction, so concurrent batches with overlapping ids keep each record once and a
changed record is a conflict whoever came first. Nothing is locked: ingestion never
waits for billing, nor billing for it, beyond the rows both touch.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import takewhile

from sqlalchemy.orm import Session

from recur.db.audit import action
from recur.db.audit import record as audit
from recur.db.billing_store import subscription_state, terms_and_next_dates
from recur.db.repositories import usage as repository
from recur.db.session import Database
from recur.domain.catalogue import BillingType
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.domain.pages import Page
from recur.domain.usage import MeterUsage, Refusal, UsageIn, UsageRecord, UsageTerms
from recur.domain.usage_billing import UnbilledUsage, first_planned
from recur.services.usage_input import MAX_BATCH, read_record, record_id

Raw = Mapping[str, object]
# How a refusal names its record: the API says records[i]; a file, its line.
Where = Callable[[int], str]


def in_batch(index: int) -> str:
    return f"records[{index}]"


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int


@dataclass
class BatchCheck:
    """What storing a batch would do: records new, sent again, and refused (by index)."""

    # (index in the batch, record, its meter's id)
    new: list[tuple[int, UsageIn, int]] = field(default_factory=list)
    duplicates: int = 0
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.new)


@action
def ingest(
    db: Database,
    records: Sequence[Raw],
    today: date,
    actor: str,
    max_records: int | None = MAX_BATCH,
    where: Where = in_batch,
) -> Ingested:
    """Store a batch whole, or refuse it whole with the first offending record's error.
    `max_records` None: a file stored in one transaction (back office, CLI)."""
    check_size(len(records), max_records)
    readings = _read(records)

    def work(session: Session) -> Ingested:
        repository.share_accounts_of(
            session, {r.subscription_id for _, r in readings if isinstance(r, UsageIn)}
        )
        check = _check(session, readings, today)
        if check.refusals:
            raise refused(check.refusals[0], where)
        stored = repository.add_records(session, [(r, m) for _, r, m in check.new], today)
        _wake(session, [r for _, r, _ in check.new if r.id in stored], today)
        duplicates = check.duplicates + _taken_meanwhile(session, check.new, stored, where)
        accepted = check.accepted - (len(check.new) - len(stored))
        audit(
            session,
            actor,
            "usage.ingested",
            "usage",
            None,
            accepted=accepted,
            duplicates=duplicates,
        )
        return Ingested(accepted, duplicates)

    return db.run(work)


def _wake(session: Session, new: Sequence[UsageIn], today: date) -> None:
    """The subscriptions that received records are next due by their earliest planned
    date at the latest: their next date already accounts for everything else they owe
    (no biller of these accounts runs meanwhile: see share_accounts_of), so only the new
    records are planned here, never the records already waiting."""
    # Records received the same day are planned no earlier than those of earlier days
    # (a later period, or the same one), so each subscription's earliest record is
    # enough: the others are not planned one by one.
    earliest: dict[int, UsageIn] = {}
    for record in new:
        first = earliest.get(record.subscription_id)
        if first is None or record.occurred_on < first.occurred_on:
            earliest[record.subscription_id] = record
    if not earliest:
        return
    woken: dict[int, date] = {}
    for sub_id, (terms, next_date) in terms_and_next_dates(session, sorted(earliest)).items():
        if terms.suspended:
            continue  # nothing is billed while suspended
        r = earliest[sub_id]
        unbilled = UnbilledUsage(r.id, r.meter, r.quantity, r.occurred_on, today)
        planned = first_planned(terms.schedule, terms.usage_delay_days, [unbilled])
        if planned is not None and (next_date is None or planned < next_date):
            woken[sub_id] = planned
    repository.bring_forward(session, woken)


def check_batch(db: Database, records: Sequence[Raw], today: date) -> BatchCheck:
    """What `ingest` would do with `records`, every refusal listed, nothing stored."""
    readings = _read(records)
    with db.read() as session:
        return _check(session, readings, today)


def check_size(count: int, max_records: int | None) -> None:
    if count < 1 or (max_records is not None and count > max_records):
        most = "" if max_records is None else f" and at most {max_records:,}"
        raise InvalidInput("invalid_batch", f"a batch has at least 1 record{most}")


def refused(refusal: Refusal, where: Where = in_batch) -> DomainError:
    """The refusal as the error that refuses its batch, naming the record."""
    error = refusal.error
    named = f" (id {refusal.record_id!r})" if refusal.record_id else ""
    return type(error)(error.code, f"{where(refusal.index)}{named}: {error.message}")


def list_usage(
    db: Database,
    subscription_id: int,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[UsageRecord]:
    with db.read() as session:
        if not repository.usage_terms(session, [subscription_id]):
            raise _unknown_subscription(subscription_id)
        return repository.records_page(
            session, subscription_id, occurred_from, occurred_to, limit, cursor
        )


@dataclass(frozen=True)
class PeriodUsage:
    """A usage period [start, end) and what each meter of the option counted in it so far."""

    start: date
    end: date
    meters: list[MeterUsage]

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass(frozen=True)
class UsageOverview:
    """A usage subscription's current and recent periods, the newest first, and the
    records of those periods (the newest first, at most `RECENT_RECORDS`)."""

    periods: list[PeriodUsage]
    records: list[UsageRecord]
    more_records: int  # how many more records those periods hold


RECENT_PERIODS = 3
RECENT_RECORDS = 50


def usage_overview(db: Database, subscription_id: int, today: date) -> UsageOverview | None:
    """What a usage subscription used so far, per meter, in the period containing today
    (or its last one) and the periods before it; None for other subscriptions."""
    with db.read() as session:
        terms = subscription_state(session, subscription_id)[0]
        if terms.billing_type != BillingType.USAGE:
            return None
        periods = list(takewhile(lambda p: p.start <= today, terms.schedule.periods()))
        periods = periods[-RECENT_PERIODS:]
        if not periods:
            return UsageOverview([], [], 0)
        meters = repository.meters_of(session, [terms.option_id]).get(terms.option_id, [])
        totals = repository.daily_totals(session, subscription_id, periods[0].start)
        records = repository.newest_records(
            session, subscription_id, periods[0].start, RECENT_RECORDS
        )
    shown = []
    for period in reversed(periods):
        quantity: dict[str, Decimal] = defaultdict(Decimal)
        count: dict[str, int] = defaultdict(int)
        for meter, day, summed, counted in totals:
            if period.start <= day < period.end:
                quantity[meter.code] += summed
                count[meter.code] += counted
        used = [
            MeterUsage(
                period.start,
                period.end,
                m.code,
                m.unit,
                m.unit_price,
                quantity[m.code],
                count[m.code],
            )
            for m in meters
        ]
        shown.append(PeriodUsage(period.start, period.end, used))
    held = sum(counted for *_, counted in totals)
    return UsageOverview(shown, records, held - len(records))


Reading = tuple[int, UsageIn | Refusal]


def _read(records: Iterable[Raw]) -> list[Reading]:
    readings: list[Reading] = []
    for index, raw in enumerate(records):
        try:
            readings.append((index, read_record(raw)))
        except DomainError as error:
            readings.append((index, Refusal(index, record_id(raw), error)))
    return readings


def _check(session: Session, readings: Sequence[Reading], today: date) -> BatchCheck:
    records = [r for _, r in readings if isinstance(r, UsageIn)]
    terms = repository.usage_terms(session, {r.subscription_id for r in records})
    taken = repository.stored(session, {r.id for r in records})
    check = BatchCheck()
    seen: dict[str, UsageIn] = {}
    for index, reading in readings:
        if isinstance(reading, Refusal):
            check.refusals.append(reading)
            continue
        earlier = seen.get(reading.id) or taken.get(reading.id)
        if earlier is not None:
            # Sent before (in this batch or another): the same again is a duplicate,
            # whatever has changed since (a retry must never fail).
            if earlier.same_content(reading):
                check.duplicates += 1
            else:
                check.refusals.append(Refusal(index, reading.id, _id_taken(reading.id)))
            continue
        try:
            meter_id = _meter_id(reading, terms.get(reading.subscription_id), today)
        except DomainError as error:
            check.refusals.append(Refusal(index, reading.id, error))
            continue
        seen[reading.id] = reading
        check.new.append((index, reading, meter_id))
    return check


def _meter_id(record: UsageIn, terms: UsageTerms | None, today: date) -> int:
    """The id of the record's meter, once the record is one its subscription can have."""
    if terms is None:
        raise _unknown_subscription(record.subscription_id)
    meter_id = terms.meter_ids.get(record.meter)
    if meter_id is None:
        raise InvalidInput(
            "unknown_meter",
            f"meter {record.meter!r} is not on subscription {terms.subscription_id}'s "
            f"pricing option (its meters: {', '.join(sorted(terms.meter_ids)) or 'none'})",
        )
    day = record.occurred_on.isoformat()
    if record.occurred_on > today:
        raise InvalidInput("future_usage", f"occurred_on {day} is after today")
    if record.occurred_on < terms.start_date or (
        terms.end_date is not None and record.occurred_on >= terms.end_date
    ):
        end = "" if terms.end_date is None else f" until {terms.end_date.isoformat()}"
        raise InvalidInput(
            "usage_out_of_service",
            f"occurred_on {day} is outside subscription {terms.subscription_id}'s service "
            f"(from {terms.start_date.isoformat()}{end})",
        )
    return meter_id


def _taken_meanwhile(
    session: Session, new: Sequence[tuple[int, UsageIn, int]], stored: set[str], where: Where
) -> int:
    """Records another batch stored while this one was checked: duplicates if the same,
    the batch's conflict otherwise (the first in its order)."""
    skipped = [(index, r) for index, r, _ in new if r.id not in stored]
    if not skipped:
        return 0
    taken = repository.stored(session, {r.id for _, r in skipped})
    for index, reading in skipped:
        if not taken[reading.id].same_content(reading):
            raise refused(Refusal(index, reading.id, _id_taken(reading.id)), where)
    return len(skipped)


def _id_taken(record_id: str) -> Conflict:
    return Conflict(
        "usage_id_taken", f"usage record {record_id!r} was already sent with other content"
    )


def _unknown_subscription(subscription_id: int) -> NotFound:
    return NotFound("subscription_not_found", f"subscription {subscription_id} does not exist")
