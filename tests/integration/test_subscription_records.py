"""Subscriptions and changes leave the services as domain records (frozen, with their
account, pricing option and product, timestamps in UTC), read without a query per row;
on SQLite and PostgreSQL."""

import dataclasses
from datetime import UTC, date

import pytest
from sqlalchemy import event

from recur.db.session import Database
from recur.domain.accounts import AccountRef
from recur.domain.catalogue import BillingCycle, CancelAt, SubscriptionStatus
from recur.domain.subscriptions import Subscription, SubscriptionChange
from recur.services.change_options import change_choices
from recur.services.changes import ChangeSpec, change_subscription, list_changes
from recur.services.subscriptions import (
    cancel_subscription,
    get_subscription,
    get_subscriptions,
    list_subscription_rows,
    list_subscriptions,
)

from .factories import account, product, subscribe

JAN1 = date(2027, 1, 1)


def test_every_read_and_write_hands_out_the_same_subscription_record(db: Database) -> None:
    acme = account(db, "Acme Ltd")
    seats = product(db, "Seats", unit_price="30.00")
    sub_id = subscribe(db, acme, seats, JAN1, quantity=5)

    sub = get_subscription(db, sub_id)
    assert isinstance(sub, Subscription)
    assert (sub.account, sub.account_id) == (AccountRef(acme, "Acme Ltd"), acme)
    assert (sub.pricing_option_id, sub.pricing_option.product.name) == (seats, "Seats")
    assert (sub.quantity, sub.status, sub.next_charge_date) == (5, "active", JAN1)
    assert sub.created_at.utcoffset() == UTC.utcoffset(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sub.quantity = 6  # type: ignore[misc]

    assert list_subscriptions(db, account_id=acme).items == [sub]
    assert list_subscription_rows(db, account_id=acme).items == [sub]
    assert get_subscriptions(db, acme, [sub_id]) == [sub]

    cancelled = cancel_subscription(db, sub_id, CancelAt.END_OF_PERIOD, date(2027, 1, 10), "t")
    assert cancelled == get_subscription(db, sub_id)
    assert (cancelled.status, cancelled.end_date) == (
        SubscriptionStatus.CANCELLED,
        date(2027, 2, 1),
    )


def test_a_change_reads_back_as_it_was_made_in_utc(db: Database) -> None:
    sub_id = subscribe(db, account(db), product(db), JAN1, quantity=5)
    made = change_subscription(
        db, sub_id, ChangeSpec(quantity=7, effective="2027-02-10"), JAN1, "t"
    )
    assert isinstance(made, SubscriptionChange)
    assert made.created_at.utcoffset() == UTC.utcoffset(None)
    assert list_changes(db, sub_id, JAN1) == [made]
    assert list_changes(db, sub_id, date(2027, 2, 10)) == [
        dataclasses.replace(made, withdrawable=False)
    ]


def test_a_switch_is_offered_among_the_options_that_keep_the_periods(db: Database) -> None:
    # Options without a billing day match each other, and none with one (SPEC §10).
    own = product(db, "Seats")
    plus = product(db, "Seats Plus", unit_price="50.00")
    product(db, "Seats on the 5th", billing_day=5)
    product(db, "Seats in USD", currency="USD")
    product(db, "Seats yearly", cycle=BillingCycle.ANNUAL)
    sub_id = subscribe(db, account(db), own, JAN1)
    choices = change_choices(db, sub_id, JAN1)
    assert choices.option.id == own
    assert [o.id for o in choices.options] == [own, plus]


def test_a_list_reads_a_page_in_the_same_queries_however_long(db: Database) -> None:
    acme = account(db)
    options = [product(db, f"Seats {n}") for n in range(12)]
    for option_id in options[:2]:
        subscribe(db, acme, option_id, JAN1)
    few = _statements(db, acme)
    for option_id in options[2:]:
        subscribe(db, acme, option_id, JAN1)
    assert len(list_subscription_rows(db, account_id=acme).items) == 12
    assert _statements(db, acme) == few


def _statements(db: Database, account_id: int) -> tuple[int, int]:
    """The statements the two lists run for the account's subscriptions."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        list_subscriptions(db, account_id=account_id)
        in_list = len(seen)
        list_subscription_rows(db, account_id=account_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return in_list, len(seen) - in_list
