"""Cancelling a usage subscription (SPEC §1, §13), on SQLite and PostgreSQL: records on or
after the end are refused; records before it are billed with the period clipped at the
end, on the end plus the delay, also when they arrive late after the cancellation."""

from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import CancelAt
from recur.domain.errors import InvalidInput
from recur.services import usage
from recur.services.invoicing import pending_for_account
from recur.services.subscriptions import cancel_subscription
from tests.integration.factories import ACTOR, account, subscribe
from tests.integration.lifecycle import bill
from tests.integration.usage import azure_option, rec
from tests.integration.usage_oracle import billed_usage, issue_dates, links, next_charge_dates

D = Decimal


@pytest.fixture
def acme_u1(db: Database) -> tuple[int, int]:
    """SPEC §15: Acme Ltd (billing day 11) and U1, its Azure plan (delay 3) from 2027-01-11."""
    acme = account(db, billing_day=11)
    return acme, subscribe(db, acme, azure_option(db), date(2027, 1, 11))


def send(db: Database, today: str, *records: dict[str, object]) -> usage.Ingested:
    return usage.ingest(db, list(records), date.fromisoformat(today), ACTOR)


def refused_code(db: Database, today: str, record: dict[str, object]) -> str:
    before = links(db)
    with pytest.raises(InvalidInput) as refused:
        send(db, today, record)
    assert links(db) == before  # nothing of the batch is kept
    return refused.value.code


def pending(db: Database, acme: int, as_of: str) -> list[tuple[date, list[tuple[object, ...]]]]:
    return [
        (
            inv.issue_date,
            [(c.period_start, c.period_last_day, c.usage_quantity, c.amount) for c in inv.items],
        )
        for inv in pending_for_account(db, acme, date.fromisoformat(as_of)).invoices
    ]


def test_cancelled_now_records_before_the_end_are_billed_on_the_end_plus_the_delay(
    db: Database, acme_u1: tuple[int, int]
) -> None:
    acme, u1 = acme_u1
    send(db, "2027-01-15", rec("r1", u1, "vm.hours", "120.5", "2027-01-15"))
    send(db, "2027-01-24", rec("r2", u1, "vm.hours", "10", "2027-01-24"))
    assert next_charge_dates(db)[u1] == date(2027, 2, 14)

    ended = cancel_subscription(db, u1, CancelAt.NOW, date(2027, 1, 25), ACTOR)
    assert ended.end_date == date(2027, 1, 25)
    # The last period is clipped at the end: [11 Jan – 24 Jan], planned 25 Jan + 3 days.
    assert next_charge_dates(db)[u1] == date(2027, 1, 28)
    assert refused_code(db, "2027-01-25", rec("r3", u1, "vm.hours", "1", "2027-01-25")) == (
        "usage_out_of_service"
    )
    assert refused_code(db, "2027-02-20", rec("r3", u1, "vm.hours", "1", "2027-02-05")) == (
        "usage_out_of_service"
    )
    # Arriving after the cancellation, by the clipped period's date: with it.
    send(db, "2027-01-27", rec("r4", u1, "vm.hours", "2", "2027-01-20"))
    clipped = (date(2027, 1, 11), date(2027, 1, 24))
    assert pending(db, acme, "2027-01-27") == [
        (date(2027, 1, 28), [(*clipped, D("132.5"), D("12.72"))])
    ]
    assert bill(db, date(2027, 1, 27)) == (0, 0)
    assert bill(db, date(2027, 1, 28)) == (1, 1)
    ((_, sub, meter, first, last, quantity, amount, ids),) = billed_usage(db)
    assert (sub, meter, (first, last), quantity, amount, ids) == (
        u1,
        "vm.hours",
        clipped,
        D("132.5"),
        D("12.72"),  # 132.5 × 0.096 = 12.72
        frozenset({"r1", "r2", "r4"}),
    )
    assert next_charge_dates(db)[u1] is None

    # Arriving late, after the end and its delay: no later period, so on its arrival,
    # still showing its own (clipped) period; a retry after the end is a duplicate.
    assert send(db, "2027-02-10", rec("r5", u1, "storage.gb", "100", "2027-01-22")).accepted == 1
    assert send(db, "2027-02-11", rec("r1", u1, "vm.hours", "120.5", "2027-01-15")) == (
        usage.Ingested(0, 1)
    )
    assert next_charge_dates(db)[u1] == date(2027, 2, 10)
    assert pending(db, acme, "2027-02-11") == [
        (date(2027, 2, 11), [(*clipped, D("100"), D("2.00"))])
    ]
    assert bill(db, date(2027, 2, 9)) == (0, 0)
    assert bill(db, date(2027, 2, 11)) == (1, 1)
    assert issue_dates(db)["r5"] == (date(2027, 2, 11), "automatic")
    assert None not in links(db).values()
    assert bill(db, date(2027, 6, 1)) == (0, 0)


def test_cancelled_at_the_end_of_period_records_up_to_the_end_are_billed(
    db: Database, acme_u1: tuple[int, int]
) -> None:
    acme, u1 = acme_u1
    send(db, "2027-01-20", rec("r1", u1, "vm.hours", "1", "2027-01-20"))
    ended = cancel_subscription(db, u1, CancelAt.END_OF_PERIOD, date(2027, 1, 25), ACTOR)
    assert ended.end_date == date(2027, 2, 11)
    send(db, "2027-02-10", rec("r2", u1, "vm.hours", "2", "2027-02-10"))
    assert refused_code(db, "2027-02-11", rec("r3", u1, "vm.hours", "1", "2027-02-11")) == (
        "usage_out_of_service"
    )
    assert pending(db, acme, "2027-02-11") == [
        (date(2027, 2, 14), [(date(2027, 1, 11), date(2027, 2, 10), D("3"), D("0.29"))])
    ]
    assert bill(db, date(2027, 2, 14)) == (1, 1)
    # Late, after the end plus the delay: billed on its arrival.
    send(db, "2027-03-01", rec("r4", u1, "vm.hours", "5", "2027-02-05"))
    assert next_charge_dates(db)[u1] == date(2027, 3, 1)
    assert bill(db, date(2027, 3, 1)) == (1, 1)
    assert issue_dates(db) == {
        "r1": (date(2027, 2, 14), "automatic"),
        "r2": (date(2027, 2, 14), "automatic"),
        "r4": (date(2027, 3, 1), "automatic"),
    }


def test_a_record_of_the_day_a_cancellation_now_ends_service_is_billed_with_the_last_period(
    db: Database, acme_u1: tuple[int, int]
) -> None:
    """Received in the morning, cancelled `now` (service ends today) in the afternoon: the
    record was in service when it came, so it is billed, with the last (clipped) period.
    (The cancellation used to fail: the engine found no period for the record's day.)"""
    acme, u1 = acme_u1
    send(
        db,
        "2027-02-11",
        rec("r1", u1, "vm.hours", "2", "2027-02-10"),
        rec("r2", u1, "vm.hours", "3", "2027-02-11"),
    )
    ended = cancel_subscription(db, u1, CancelAt.NOW, date(2027, 2, 11), ACTOR)
    assert ended.end_date == date(2027, 2, 11)
    assert next_charge_dates(db)[u1] == date(2027, 2, 14)
    assert pending(db, acme, "2027-02-11") == [
        (date(2027, 2, 14), [(date(2027, 1, 11), date(2027, 2, 10), D("5"), D("0.48"))])
    ]
    assert bill(db, date(2027, 2, 14)) == (1, 1)
    assert None not in links(db).values()
    assert bill(db, date(2027, 6, 1)) == (0, 0)
