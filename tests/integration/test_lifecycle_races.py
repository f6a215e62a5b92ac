"""Changes, cancellations, withdrawals, manual generations and runs racing on PostgreSQL.

Threads with their own connection pools act on the same accounts on the same day.
Whatever the interleaving: no thread sees an error other than the refusals the SPEC
names (serialisation failures are retried inside), no day is billed twice and no
adjustment is lost: after a final run, every billed day is billed, net, at what the
accepted changes and cancellations put in force, and nothing due is left pending.
"""

import random
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, CancelAt, InvoiceGrouping
from recur.domain.errors import Conflict, NotFound
from recur.services.billing_run import run_billing
from recur.services.changes import (
    ChangeSpec,
    SubscriptionChange,
    change_subscription,
    list_changes,
    withdraw_change,
)
from recur.services.invoicing import generate_for_subscription, pending_for_account
from recur.services.subscriptions import cancel_subscription

from .factories import ACTOR, account, subscribe
from .lifecycle import (
    Timeline,
    assert_documents_whole,
    bill,
    billed_per_day,
    expected_per_day,
    option,
)

D = Decimal
T = date(2027, 3, 15)
LATER = date(2027, 5, 1)
FINAL = date(2030, 1, 1)  # past every period a race's manual generations can bill ahead
THREADS = 6
REFUSALS = {
    "nothing_pending",
    "already_cancelled",
    "already_ended",
    "subscription_ended",
    "change_in_effect",
    "change_not_found",
}


@dataclass
class Sub:
    id: int
    account: int
    options: dict[Decimal, int]
    start: date
    quantity: int
    first: int


@dataclass
class Outcome:
    changes: list[tuple[int, SubscriptionChange]] = field(default_factory=list)
    withdrawn: list[tuple[int, int]] = field(default_factory=list)
    cancelled: dict[int, date] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def open_shop(db: Database) -> tuple[list[int], list[Sub]]:
    monthly = {
        D("30.00"): option(db, "Seats", "30.00"),
        D("50.00"): option(db, "Seats Plus", "50.00"),
    }
    postpaid = {D("20.00"): option(db, "Usage", "20.00", billing_type=BillingType.POSTPAID)}
    quarterly = {
        D("90.00"): option(db, "Backup", "90.00", cycle=BillingCycle.QUARTERLY),
        D("120.00"): option(db, "Backup Plus", "120.00", cycle=BillingCycle.QUARTERLY),
    }
    accounts, subs = [], []
    for grouping, day in (
        (InvoiceGrouping.CONSOLIDATED, 1),
        (InvoiceGrouping.PER_SUBSCRIPTION, None),
    ):
        acct = account(db, f"Account {day}", grouping=grouping, billing_day=day, tax_rate="20")
        accounts.append(acct)
        for options, start, quantity in (
            (monthly, date(2027, 1, 10), 10),
            (monthly, date(2027, 2, 1), 4),
            (postpaid, date(2027, 1, 1), 3),
            (quarterly, date(2027, 1, 20), 2),
        ):
            first = min(options.values())
            sid = subscribe(db, acct, first, start, quantity)
            subs.append(Sub(sid, acct, options, start, quantity, first))
    bill(db, date(2027, 3, 1))
    return accounts, subs


def hammer(
    url: str, subs: list[Sub], seed: int, start: threading.Barrier, outcome: Outcome
) -> None:
    rng = random.Random(seed)
    db = Database(url)
    try:
        start.wait()
        for _ in range(10):
            # Half the requests crowd onto the first two subscriptions.
            sub = rng.choice(subs[:2] if rng.random() < 0.5 else subs)
            what = rng.choice(["change", "change", "change", "withdraw", "cancel", "manual", "run"])
            try:
                if what == "change":
                    spec = ChangeSpec(
                        quantity=rng.randint(1, 12),
                        pricing_option_id=rng.choice([None, *sub.options.values()]),
                        effective=rng.choice(["now", "end_of_period", "2027-04-10"]),
                    )
                    made = change_subscription(db, sub.id, spec, T, ACTOR)
                    with outcome.lock:
                        outcome.changes.append((sub.id, made))
                elif what == "withdraw":
                    scheduled = [c for c in list_changes(db, sub.id, T) if c.withdrawable]
                    if scheduled:
                        chosen = rng.choice(scheduled)
                        withdraw_change(db, sub.id, chosen.id, T, ACTOR)
                        with outcome.lock:
                            outcome.withdrawn.append((sub.id, chosen.id))
                elif what == "cancel" and rng.random() < 0.5:
                    at = rng.choice(list(CancelAt))
                    ended = cancel_subscription(db, sub.id, at, T, ACTOR).end_date
                    assert ended is not None
                    with outcome.lock:
                        outcome.cancelled[sub.id] = ended
                elif what == "manual":
                    generate_for_subscription(db, sub.id, T, ACTOR)
                elif what == "run":
                    billing_run = run_billing(db, T, today=T, triggered_by=ACTOR)
                    assert billing_run.errors_count == 0
            except (Conflict, NotFound) as refused:
                with outcome.lock:
                    outcome.refusals.append(refused.code)
    except BaseException as error:
        with outcome.lock:
            outcome.failures.append(error)
    finally:
        db.dispose()


def in_threads(url: str, subs: list[Sub], seed: int) -> Outcome:
    outcome = Outcome()
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(
            target=hammer, args=(url, subs, seed * 100 + n, start, outcome), daemon=True
        )
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread never finished (deadlock?)"
    return outcome


def timelines(db: Database, subs: list[Sub], outcome: Outcome) -> dict[int, Timeline]:
    """What the accepted requests put in force: the test's own record, which must also be
    what the database lists."""
    kept = {}
    withdrawn = {change_id for _, change_id in outcome.withdrawn}
    for sub in subs:
        timeline = Timeline(sub.start, sub.quantity, sub.first, outcome.cancelled.get(sub.id))
        for sid, made in sorted(outcome.changes, key=lambda c: c[1].id):
            if sid == sub.id and made.id not in withdrawn:
                timeline.add(made)
        listed = [c.id for c in list_changes(db, sub.id, T)]
        assert listed == [c[1] for c in sorted(timeline.changes)], f"subscription {sub.id}"
        kept[sub.id] = timeline
    return kept


def check_nothing_due(db: Database, accounts: list[int], as_of: date) -> None:
    bill(db, as_of)
    for acct in accounts:
        for pending in pending_for_account(db, acct, as_of).invoices:
            assert pending.issue_date > as_of, pending
    assert bill(db, as_of) == (0, 0)


def check_days(db: Database, subs: list[Sub], outcome: Outcome, before: date) -> None:
    """Each day before `before` is billed, net, at what is in force: as of LATER every
    adjustment of the days before it is due (every change and end of service of the race
    falls on or before 20 Apr; periods billed ahead are corrected on their first day, or
    on their end for postpaid ones: FINAL is past them all)."""
    kept = timelines(db, subs, outcome)
    for sub in subs:
        billed = {
            day: net for day, net in billed_per_day(db, sub.id, sub.options).items() if day < before
        }
        expected = expected_per_day(kept[sub.id], sorted(billed))
        wrong = {
            day: (billed[day], expected[day]) for day in billed if billed[day] != expected[day]
        }
        assert not wrong, f"subscription {sub.id}: (billed, in force) {sorted(wrong.items())[:5]}"


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_racing_changes_cancellations_and_generations_lose_nothing(
    pg_db: Database, postgres_url: str, seed: int
) -> None:
    accounts, subs = open_shop(pg_db)

    outcome = in_threads(postgres_url, subs, seed)

    assert outcome.failures == []
    assert set(outcome.refusals) <= REFUSALS
    assert outcome.changes, "no change went through: the race proved nothing"
    check_nothing_due(pg_db, accounts, T)
    assert_documents_whole(pg_db, dict.fromkeys(accounts, D(20)))
    check_nothing_due(pg_db, accounts, LATER)
    check_days(pg_db, subs, outcome, LATER)
    check_nothing_due(pg_db, accounts, FINAL)
    check_days(pg_db, subs, outcome, FINAL)
    assert_documents_whole(pg_db, dict.fromkeys(accounts, D(20)))
