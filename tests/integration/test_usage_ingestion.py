"""Usage ingestion (SPEC §13) through the service, on both databases."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recur.db.models import AuditEvent, UsageRecord
from recur.db.session import Database
from recur.domain.catalogue import CancelAt
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.services import usage
from recur.services.subscriptions import cancel_subscription
from tests.integration.factories import ACTOR
from tests.integration.usage import rec, usage_subscription

TODAY = date(2027, 2, 1)


def stored(db: Database) -> dict[str, tuple[int, Decimal, date, date]]:
    with db.read() as session:
        rows = session.scalars(select(UsageRecord))
        return {r.id: (r.subscription_id, r.quantity, r.occurred_on, r.received_on) for r in rows}


def test_a_batch_is_stored_with_exact_quantities_and_the_day_received(db: Database) -> None:
    sub = usage_subscription(db)
    batch = [
        rec("r1", sub, "vm.hours", "120.5", "2027-01-15"),
        rec("r2", sub, "vm.hours", 300, "2027-01-31"),
        rec("r3", sub, "storage.gb", 512.000001, "2027-02-01"),
    ]
    assert usage.ingest(db, batch, TODAY, ACTOR) == usage.Ingested(3, 0)
    assert stored(db) == {
        "r1": (sub, Decimal("120.5"), date(2027, 1, 15), TODAY),
        "r2": (sub, Decimal("300"), date(2027, 1, 31), TODAY),
        "r3": (sub, Decimal("512.000001"), date(2027, 2, 1), TODAY),
    }
    page = usage.list_usage(db, sub)
    assert [(r.id, r.meter, r.invoice_id) for r in page.items] == [
        ("r1", "vm.hours", None),
        ("r2", "vm.hours", None),
        ("r3", "storage.gb", None),
    ]
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "usage.ingested"))
        assert [e.detail for e in events] == [{"accepted": 3, "duplicates": 0}]


def test_a_retried_batch_counts_duplicates_and_changes_nothing(db: Database) -> None:
    sub = usage_subscription(db)
    batch = [rec("r1", sub, "vm.hours", "120.5", "2027-01-15")]
    usage.ingest(db, batch, date(2027, 1, 15), ACTOR)
    # The same content written otherwise ("120.50", a number) is the same record.
    again = [
        rec("r1", sub, "vm.hours", "120.50", "2027-01-15"),
        rec("r2", sub, "vm.hours", 300, "2027-01-31"),
        rec("r2", sub, "vm.hours", "300.0", "2027-01-31"),
    ]
    assert usage.ingest(db, again, TODAY, ACTOR) == usage.Ingested(1, 2)
    assert stored(db)["r1"] == (sub, Decimal("120.5"), date(2027, 1, 15), date(2027, 1, 15))
    assert usage.ingest(db, again, TODAY, ACTOR) == usage.Ingested(0, 3)
    assert len(stored(db)) == 2


def test_a_duplicate_stays_one_after_the_subscription_ended(db: Database) -> None:
    sub = usage_subscription(db)
    batch = [rec("r1", sub, "vm.hours", "1", "2027-01-15")]
    usage.ingest(db, batch, date(2027, 1, 20), ACTOR)
    cancel_subscription(db, sub, CancelAt.NOW, date(2027, 1, 20), ACTOR)
    assert usage.ingest(db, batch, TODAY, ACTOR) == usage.Ingested(0, 1)
    late = [rec("r2", sub, "vm.hours", "1", "2027-01-20")]
    with pytest.raises(InvalidInput) as refused:
        usage.ingest(db, late, TODAY, ACTOR)
    assert refused.value.code == "usage_out_of_service"


REFUSALS = [
    # (the offending record, error class, code)
    (
        lambda sub: rec("x", 999_999, "vm.hours", "1", "2027-01-15"),
        NotFound,
        "subscription_not_found",
    ),
    (lambda sub: rec("x", sub, "gpu", "1", "2027-01-15"), InvalidInput, "unknown_meter"),
    (
        lambda sub: rec("x", sub, "vm.hours", "1", "2027-01-10"),
        InvalidInput,
        "usage_out_of_service",
    ),
    (lambda sub: rec("x", sub, "vm.hours", "1", "2027-02-02"), InvalidInput, "future_usage"),
    (lambda sub: rec("x", sub, "vm.hours", "-1", "2027-01-15"), InvalidInput, "invalid_quantity"),
    (lambda sub: rec("x", sub, "vm.hours", -1, "2027-01-15"), InvalidInput, "invalid_quantity"),
    (lambda sub: rec("x", sub, "vm.hours", "1,5", "2027-01-15"), InvalidInput, "invalid_quantity"),
    (
        lambda sub: rec("x", sub, "vm.hours", "0.0000001", "2027-01-15"),
        InvalidInput,
        "invalid_quantity",
    ),
    (lambda sub: rec("x", sub, "vm.hours", True, "2027-01-15"), InvalidInput, "invalid_quantity"),
    (lambda sub: rec("x", sub, "vm.hours", "1", "15/01/2027"), InvalidInput, "invalid_occurred_on"),
    (lambda sub: rec("y" * 101, sub, "vm.hours", "1", "2027-01-15"), InvalidInput, "invalid_id"),
    (lambda sub: rec("r1", sub, "vm.hours", "2", "2027-01-15"), Conflict, "usage_id_taken"),
]


@pytest.mark.parametrize(("offending", "kind", "code"), REFUSALS)
def test_a_refused_batch_names_its_first_offending_record_and_keeps_nothing(
    db: Database, offending: object, kind: type[DomainError], code: str
) -> None:
    sub = usage_subscription(db)
    usage.ingest(db, [rec("r1", sub, "vm.hours", "1", "2027-01-15")], TODAY, ACTOR)
    before = stored(db)
    bad = offending(sub)  # type: ignore[operator]
    batch = [
        rec("ok-1", sub, "vm.hours", "5", "2027-01-20"),
        bad,
        rec("ok-2", sub, "storage.gb", "5", "2027-01-21"),
        rec("x2", sub, "gpu", "1", "2027-01-15"),  # offends too, but later
    ]
    with pytest.raises(kind) as refused:
        usage.ingest(db, batch, TODAY, ACTOR)
    assert refused.value.code == code
    assert refused.value.message.startswith("records[1]")
    assert stored(db) == before


def test_the_same_id_twice_in_a_batch_with_other_content_is_a_conflict(db: Database) -> None:
    sub = usage_subscription(db)
    batch = [
        rec("a", sub, "vm.hours", "1", "2027-01-15"),
        rec("a", sub, "vm.hours", "2", "2027-01-15"),
    ]
    with pytest.raises(Conflict, match=r"records\[1\] \(id 'a'\)"):
        usage.ingest(db, batch, TODAY, ACTOR)
    assert stored(db) == {}


def test_batches_have_one_to_ten_thousand_records(db: Database) -> None:
    sub = usage_subscription(db)
    with pytest.raises(InvalidInput, match="at least 1 record"):
        usage.ingest(db, [], TODAY, ACTOR)
    too_many = [rec(f"r{i}", sub, "vm.hours", "1", "2027-01-15") for i in range(10_001)]
    with pytest.raises(InvalidInput, match="at most 10,000"):
        usage.ingest(db, too_many, TODAY, ACTOR)
    assert stored(db) == {}


def test_a_batch_of_ten_thousand_records(db: Database) -> None:
    sub = usage_subscription(db)
    start = date(2027, 1, 11)
    batch = [
        rec(
            f"rec-{i:05}",
            sub,
            ("vm.hours", "storage.gb")[i % 2],
            f"{i}.25",
            (start + timedelta(i % 21)).isoformat(),
        )
        for i in range(10_000)
    ]
    assert usage.ingest(db, batch, TODAY, ACTOR) == usage.Ingested(10_000, 0)
    assert usage.ingest(db, batch, TODAY, ACTOR) == usage.Ingested(0, 10_000)
    with db.read() as session:
        total = session.scalar(select(func.sum(UsageRecord.quantity)))
    assert total == sum(Decimal(f"{i}.25") for i in range(10_000))


def test_check_batch_lists_every_refusal_and_stores_nothing(db: Database) -> None:
    sub = usage_subscription(db)
    usage.ingest(db, [rec("r1", sub, "vm.hours", "1", "2027-01-15")], TODAY, ACTOR)
    check = usage.check_batch(
        db,
        [
            rec("r1", sub, "vm.hours", "1", "2027-01-15"),
            rec("r2", sub, "gpu", "1", "2027-01-15"),
            rec("r3", sub, "vm.hours", "2", "2027-01-16"),
            rec("r4", sub, "vm.hours", "x", "2027-01-16"),
        ],
        TODAY,
    )
    assert (check.accepted, check.duplicates) == (1, 1)
    assert [(r.index, r.record_id, r.error.code) for r in check.refusals] == [
        (1, "r2", "unknown_meter"),
        (3, "r4", "invalid_quantity"),
    ]
    assert set(stored(db)) == {"r1"}


def test_concurrent_batches_with_overlapping_ids_store_each_record_once(pg_db: Database) -> None:
    sub = usage_subscription(pg_db)
    batches = [
        [
            rec(f"r{i}", sub, "vm.hours", "1.5", "2027-01-15")
            for i in range(n * 300, n * 300 + 1_000)
        ]
        for n in range(4)
    ]
    results: list[usage.Ingested] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(batches))

    def send(batch: list[dict[str, object]]) -> None:
        barrier.wait()
        try:
            results.append(usage.ingest(pg_db, batch, TODAY, ACTOR))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    distinct = 3 * 300 + 1_000
    assert sum(r.accepted for r in results) == distinct
    assert sum(r.accepted + r.duplicates for r in results) == 4_000
    assert len(stored(pg_db)) == distinct


def test_a_concurrent_batch_with_other_content_is_a_conflict(pg_db: Database) -> None:
    sub = usage_subscription(pg_db)
    first = [rec(f"r{i}", sub, "vm.hours", "1", "2027-01-15") for i in range(500)]
    second = [rec(f"r{i}", sub, "vm.hours", "2", "2027-01-15") for i in range(499, 1_000)]
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def send(batch: list[dict[str, object]]) -> None:
        barrier.wait()
        try:
            outcomes.append(usage.ingest(pg_db, batch, TODAY, ACTOR))
        except Conflict as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=send, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # r499 is in both with other quantities: whichever came second is refused whole.
    winner = next(o for o in outcomes if isinstance(o, usage.Ingested))
    assert outcomes.count("usage_id_taken") == 1
    kept = stored(pg_db)
    assert len(kept) == winner.accepted
    quantity = Decimal(1) if winner.accepted == len(first) else Decimal(2)
    assert {q for _, q, _, _ in kept.values()} == {quantity}
