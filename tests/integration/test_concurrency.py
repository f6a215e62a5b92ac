"""Concurrent requests and runs on PostgreSQL: exactly once by locking, not by luck.

Threads with their own connection pools hammer the same accounts at once with
manual generations (random and identical selections, with and without
Idempotency-Key) and billing runs as of the same day. Whatever the
interleaving, the ledger must hold what one sequential process would have
issued, no thread may see an error other than the refusals the SPEC names, and
numbers stay gap-free.
"""

import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recur.db.models import Account, Invoice
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, InvoiceGrouping
from recur.domain.errors import Conflict, InvalidInput
from recur.services import invoicing
from recur.services.billing_run import run_billing
from recur.services.invoicing import generate_for_account, generate_for_subscription

from .books import assert_books_balanced
from .factories import (
    ACTOR,
    LedgerRow,
    account,
    invoices,
    items,
    ledger,
    product,
    subscribe,
    subscription_row,
)

T = date(2027, 3, 15)
THREADS = 8


@dataclass
class Shop:
    """The same catalogue, accounts and subscriptions, in creation order."""

    accounts: list[int] = field(default_factory=list)
    subs: dict[int, list[int]] = field(default_factory=dict)  # account → its subscriptions

    @property
    def all_subs(self) -> list[int]:
        return [s for subs in self.subs.values() for s in subs]


def open_shop(db: Database) -> Shop:
    monthly = product(db, "Seats", unit_price="12.50")
    usage = product(db, "Usage", billing_type=BillingType.POSTPAID, unit_price="20.00")
    quarterly = product(
        db, "Backup", cycle=BillingCycle.QUARTERLY, unit_price="90.00", setup_fee="50.00"
    )
    annual = product(db, "Support", cycle=BillingCycle.ANNUAL, unit_price="120.00")
    short = product(db, "Trial", unit_price="5.00", term_months=3, auto_renew=False)
    shop = Shop()
    for grouping, day in (
        (InvoiceGrouping.CONSOLIDATED, 11),
        (InvoiceGrouping.PER_PRODUCT, None),
        (InvoiceGrouping.PER_SUBSCRIPTION, 1),
    ):
        acct = account(db, f"Account {day}", grouping=grouping, billing_day=day, tax_rate="24")
        shop.accounts.append(acct)
        shop.subs[acct] = [
            subscribe(db, acct, monthly, date(2027, 1, 10), quantity=10),
            subscribe(db, acct, usage, date(2027, 1, 1)),
            subscribe(db, acct, quarterly, date(2027, 2, 1), quantity=2),
            subscribe(db, acct, annual, date(2027, 3, 1)),
            # non-renewing, over by T: a selection with it is refused once it is billed
            subscribe(db, acct, short, date(2026, 12, 1)),
        ]
    return shop


@dataclass
class Outcome:
    """What the threads saw: each successful generation's selection and invoices."""

    generations: list[tuple[tuple[int, ...], frozenset[int]]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def hammer(url: str, shop: Shop, seed: int, start: threading.Barrier, outcome: Outcome) -> None:
    rng = random.Random(seed)
    db = Database(url)
    try:
        start.wait()
        for _ in range(8):
            acct = rng.choice(shop.accounts)
            subs = shop.subs[acct]
            what = rng.choice(["run", "account", "account", "same", "subscription"])
            try:
                if what == "run":
                    billing_run = run_billing(db, T, today=T, triggered_by=ACTOR)
                    assert billing_run.errors_count == 0
                    continue
                if what == "subscription":
                    selection: list[int] = [rng.choice(subs)]
                    key = f"sub-{selection[0]}" if rng.random() < 0.5 else None
                    issued = generate_for_subscription(db, selection[0], T, ACTOR, key).invoices
                else:
                    # "same": every thread picks the first two, with a key half the time
                    selection = subs[:2] if what == "same" else rng.sample(subs, rng.randint(1, 4))
                    key = f"acct-{acct}-{sorted(selection)}" if rng.random() < 0.5 else None
                    issued = generate_for_account(db, acct, selection, T, ACTOR, key).invoices
            except Conflict as refused:
                with outcome.lock:
                    outcome.refusals.append(refused.code)
                continue
            with outcome.lock:
                outcome.generations.append(
                    (tuple(sorted(selection)), frozenset(i.id for i in issued))
                )
    except BaseException as error:
        with outcome.lock:
            outcome.failures.append(error)
    finally:
        db.dispose()


def in_threads(target: Callable[..., None], argsets: list[tuple[object, ...]]) -> None:
    threads = [threading.Thread(target=target, args=args, daemon=True) for args in argsets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread never finished (deadlock?)"


def charges(db: Database, shop: Shop) -> list[tuple[int, str, date, date, Decimal]]:
    """Every issued charge, its subscription named by creation order."""
    position = {sid: n for n, sid in enumerate(shop.all_subs)}
    amount = {i.id: Decimal(i.amount) for i in items(db)}
    return sorted(
        (
            position[r.subscription_id],
            r.kind,
            r.period_start,
            r.period_end,
            amount[r.invoice_item_id],
        )
        for r in ledger(db)
    )


def replay_sequentially(db: Database, generations: list[tuple[tuple[int, ...], int]]) -> Shop:
    """One process doing the same successful generations in commit order, then a run."""
    shop = open_shop(db)
    for positions, _ in generations:
        subs = [shop.all_subs[p] for p in positions]
        owner = next(a for a, mine in shop.subs.items() if subs[0] in mine)
        generate_for_account(db, owner, subs, T, ACTOR)
    run_billing(db, T, today=T, triggered_by=ACTOR)
    return shop


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [1, 2])
def test_concurrent_generations_and_runs_bill_each_period_once(
    pg_db: Database, postgres_url: str, sqlite_url: str, seed: int
) -> None:
    shop = open_shop(pg_db)
    outcome = Outcome()
    start = threading.Barrier(THREADS)

    in_threads(
        hammer, [(postgres_url, shop, seed * 100 + n, start, outcome) for n in range(THREADS)]
    )

    assert outcome.failures == []
    assert set(outcome.refusals) <= {"nothing_pending"}
    run_billing(pg_db, T, today=T, triggered_by=ACTOR)  # whatever the runs left due
    assert_books_balanced(pg_db)
    # Every successful generation is an issue of its own, or the replay of a keyed one.
    distinct = {ids: selection for selection, ids in outcome.generations}
    manual = {inv.id for inv in invoices(pg_db) if inv.source == "manual"}
    assert set().union(*distinct) == manual if distinct else manual == set()
    for ids, selection in distinct.items():
        billed = {i.subscription_id for inv in invoices(pg_db) if inv.id in ids for i in inv.items}
        assert billed == set(selection)

    position = {sid: n for n, sid in enumerate(shop.all_subs)}
    in_commit_order = sorted(
        (tuple(position[s] for s in selection), min(ids)) for ids, selection in distinct.items()
    )
    in_commit_order.sort(key=lambda g: g[1])
    reference = Database(sqlite_url)
    try:
        expected = charges(reference, replay_sequentially(reference, in_commit_order))
    finally:
        reference.dispose()
    assert charges(pg_db, shop) == expected
    total = sum((inv.subtotal for inv in invoices(pg_db)), Decimal(0))
    assert total == sum((c[-1] for c in expected), Decimal(0))


@pytest.mark.postgres
def test_the_same_idempotency_key_at_once_issues_one_invoice(
    pg_db: Database, postgres_url: str
) -> None:
    shop = open_shop(pg_db)
    acct = shop.accounts[0]
    for round_ in range(4):
        results: list[list[int]] = []
        failures: list[BaseException] = []
        start = threading.Barrier(2)

        def generate(
            key: str,
            start: threading.Barrier,
            results: list[list[int]],
            failures: list[BaseException],
        ) -> None:
            db = Database(postgres_url)
            try:
                start.wait()
                issued = generate_for_account(db, acct, shop.subs[acct][:2], T, ACTOR, key).invoices
                results.append([i.id for i in issued])
            except BaseException as error:
                failures.append(error)
            finally:
                db.dispose()

        before = len(invoices(pg_db, acct))
        same = (f"retry-{round_}", start, results, failures)
        in_threads(generate, [same, same])

        assert failures == []
        first, second = results
        assert first == second
        assert len(first) == 1
        assert len(invoices(pg_db, acct)) == before + 1
    assert_books_balanced(pg_db)


@pytest.mark.postgres
def test_one_key_for_two_accounts_at_once_is_refused_not_crashed(
    pg_db: Database, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests pass the key check before either commits; the second must still be
    told the key is taken (422), not crash on the key's primary key."""
    shop = open_shop(pg_db)
    outcomes: list[object] = []
    start, both_issuing = threading.Barrier(2), threading.Barrier(2, timeout=5)
    issue = invoicing.issue_invoices

    raced: list[bool] = []

    def issue_together(*args: Any, **kwargs: Any) -> list[int]:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_issuing.wait()
            raced.append(True)
        return issue(*args, **kwargs)

    monkeypatch.setattr(invoicing, "issue_invoices", issue_together)

    def generate(acct: int) -> None:
        db = Database(postgres_url)
        try:
            start.wait()
            outcomes.append(generate_for_account(db, acct, shop.subs[acct][:1], T, ACTOR, "k"))
        except BaseException as error:
            outcomes.append(error)
        finally:
            db.dispose()

    in_threads(generate, [(shop.accounts[0],), (shop.accounts[1],)])

    assert raced == [True, True], "the two requests did not overlap"
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1
    assert isinstance(refused[0], InvalidInput), repr(refused[0])
    assert refused[0].code == "idempotency_key_reused"
    assert len([inv for inv in invoices(pg_db) if inv.source == "manual"]) == 1
    assert_books_balanced(pg_db)


@pytest.mark.postgres
def test_a_run_waits_for_an_account_a_generation_holds(pg_db: Database) -> None:
    """A run that finds an account locked must bill it once released, not skip it."""
    acct = account(pg_db)
    subscribe(pg_db, acct, product(pg_db, "Plan"), date(2027, 1, 1))
    finished: list[int] = []

    def bill() -> None:
        finished.append(run_billing(pg_db, T, today=T, triggered_by=ACTOR).id)

    with pg_db.engine.connect() as holder:
        holder.execute(select(Account).where(Account.id == acct).with_for_update())
        runner = threading.Thread(target=bill, daemon=True)
        runner.start()
        time.sleep(0.5)
        holder.commit()
    runner.join(timeout=30)

    (run_id,) = finished
    assert {inv.billing_run_id for inv in invoices(pg_db)} == {run_id}
    assert len(ledger(pg_db)) == 3  # January, February, March 2027


def bill_a_period_twice(session: Session, row: LedgerRow, item_id: int) -> None:
    """Raw SQL, past the services: a second item of the same charge, then its ledger row."""
    copy = session.execute(
        text(
            "INSERT INTO invoice_items (invoice_id, position, subscription_id, kind,"
            " description, period_start, period_end, quantity, unit_price, proration,"
            " amount, taxable, tax_rate) SELECT invoice_id, position + 1, subscription_id,"
            " kind, description, period_start, period_end, quantity, unit_price, proration,"
            " amount, taxable, tax_rate FROM invoice_items WHERE id = :id RETURNING id"
        ),
        {"id": item_id},
    ).scalar_one()
    session.execute(
        text(
            "INSERT INTO billed_periods (subscription_id, kind, period_start, period_end,"
            " billing_period_start, pricing_option_id, quantity, billing_seq, first_of_billing,"
            " invoice_item_id) SELECT subscription_id, kind, period_start, period_end,"
            " billing_period_start, pricing_option_id, quantity, billing_seq, false, :copy"
            " FROM billed_periods WHERE invoice_item_id = :item"
        ),
        {"item": row.invoice_item_id, "copy": copy},
    )


def test_two_billings_from_the_same_billed_state_cannot_both_commit(db: Database) -> None:
    """Whatever they bill (adjustments have no key per day), two issuing transactions
    that read the same billed state of a subscription write the same key: the first
    ledger fact of billing number 1, here an adjustment, which no key per day holds."""
    acct = account(db)
    sub = subscribe(db, acct, product(db, "Plan"), date(2027, 1, 1))
    run_billing(db, date(2027, 1, 1), today=date(2027, 1, 1), triggered_by=ACTOR)
    (row,) = ledger(db)

    def bill_again_from_nothing(session: Session) -> None:
        item_id = session.execute(
            text(
                "INSERT INTO invoice_items (invoice_id, position, subscription_id, kind,"
                " description, period_start, period_end, quantity, unit_price, proration,"
                " amount, taxable, tax_rate) SELECT invoice_id, position + 1, subscription_id,"
                " 'adjustment', description, period_start, period_end, quantity, unit_price,"
                " proration, amount, taxable, tax_rate FROM invoice_items WHERE id = :id"
                " RETURNING id"
            ),
            {"id": row.invoice_item_id},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO billed_periods (invoice_item_id, subscription_id, kind,"
                " period_start, period_end, billing_period_start, pricing_option_id, quantity,"
                " billing_seq, first_of_billing, repeat_key) SELECT :item, subscription_id,"
                " 'adjustment', period_start, period_end, billing_period_start,"
                " pricing_option_id, quantity, billing_seq, true, :item FROM billed_periods"
                " WHERE invoice_item_id = :billed"
            ),
            {"item": item_id, "billed": row.invoice_item_id},
        )

    with pytest.raises(IntegrityError, match=r"(?i)unique|uq_billed_periods_billing"):
        db.run(bill_again_from_nothing)
    assert subscription_row(db, sub).billing_seq == 1
    assert len(ledger(db)) == 1


def test_the_database_refuses_a_second_ledger_row_for_a_period(db: Database) -> None:
    acct = account(db)
    subscribe(db, acct, product(db, "Plan"), date(2027, 1, 1))
    run_billing(db, date(2027, 1, 1), today=date(2027, 1, 1), triggered_by=ACTOR)
    (row,) = ledger(db)
    (item,) = items(db)

    with pytest.raises(IntegrityError, match=r"(?i)unique|uq_billed_periods_once"):
        db.run(lambda session: bill_a_period_twice(session, row, item.id))

    assert len(ledger(db)) == 1
    assert len(items(db)) == 1
    with db.transaction() as session:
        assert session.scalar(select(Invoice.subtotal)) == Decimal("10.00")
