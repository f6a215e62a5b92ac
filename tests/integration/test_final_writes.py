"""A generation's rows go with its COMMIT in a few multi-row INSERTs: however many there
are, every one is written, in order, as the generation answered."""

from datetime import date

import pytest

from recur.db.final_writes import COPY_FROM_ROWS, ROWS_PER_INSERT
from recur.db.session import Database
from recur.domain.catalogue import InvoiceGrouping
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
