"""A generation's rows go with its COMMIT in a few multi-row INSERTs: however many there
are, every one is written, in order, as the generation answered."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from recur.db.final_writes import COPY_FROM_ROWS, ROWS_PER_INSERT, FinalWrites
from recur.db.models import BilledPeriod
from recur.db.session import Database
from recur.domain.catalogue import InvoiceGrouping
from recur.services import billing_run
from recur.services.invoicing import generate_for_account

from .books import assert_books_balanced, assert_ledger_matches_items, stored_as_answered
from .factories import ACTOR, account, product, subscribe


@pytest.mark.parametrize(
    "count", [ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 2 * ROWS_PER_INSERT + 3, COPY_FROM_ROWS]
)
def test_every_row_of_a_generation_is_written_in_order(db: Database, count: int) -> None:
    acct = account(db, grouping=InvoiceGrouping.PER_SUBSCRIPTION)
    option = product(db, unit_price="7.00")
    subs = [subscribe(db, acct, option, date(2027, 1, 1), quantity=n) for n in range(1, count + 1)]
    generated = generate_for_account(db, acct, subs, date(2027, 1, 15), ACTOR)

    stored = stored_as_answered(db, generated)
    assert len(stored) == count
    assert [inv.items[0].subscription_id for inv in stored] == subs
    assert [inv.items[0].quantity for inv in stored] == list(range(1, count + 1))
    assert_ledger_matches_items(db)
    assert_books_balanced(db)


@pytest.mark.parametrize("accounts", [1, 30, COPY_FROM_ROWS + 10, billing_run.BATCH_SIZE + 10])
def test_a_run_writes_each_batch_whole_never_account_by_account(
    db: Database, accounts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails is billed again account by account, which hides a broken fast
    path behind correct but slow runs (documents with JSON identities once failed the
    COPY of every batch of 50 or more): here each batch itself must go through, the
    largest size in two batches."""

    def one_by_one(*args: object) -> None:
        raise AssertionError("the batch failed and fell back to one account at a time")

    monkeypatch.setattr(billing_run, "_bill_one", one_by_one)
    option = product(db, unit_price="7.00")
    for n in range(accounts):
        subscribe(db, account(db, f"Account {n}"), option, date(2027, 1, 1))
    run = billing_run.run_billing(db, date(2027, 1, 1), date(2027, 1, 1), ACTOR)
    assert (run.invoices_issued, run.errors_count) == (accounts, 0)
    assert_ledger_matches_items(db)
    assert_books_balanced(db)


@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS])
def test_a_refused_write_is_raised_as_sqlalchemy_raises_it(pg_db: Database, count: int) -> None:
    """Whether its rows went by COPY or in the pipeline, a write the database refuses
    reaches the unit of work as SQLAlchemy's IntegrityError (its retries and the
    services' error handling know no other), and nothing of the transaction stays."""
    orphans = [
        {
            "subscription_id": 999_999,
            "kind": "recurring",
            "period_start": date(2027, 1, 1) + timedelta(days=n),
            "period_end": date(2027, 1, 2) + timedelta(days=n),
            "invoice_item_id": 999_999 + n,
        }
        for n in range(count)
    ]
    with pg_db.transaction() as session:
        writes = FinalWrites(session)
        writes.insert(BilledPeriod, orphans)
        with pytest.raises(IntegrityError):
            writes.commit()
    with pg_db.read() as session:
        assert session.scalar(select(func.count()).select_from(BilledPeriod)) == 0
