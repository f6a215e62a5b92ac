"""Invoice numbers: gap-free per year, taken last in the issuing transaction."""

from datetime import date

from sqlalchemy import update

from recur.db.models import InvoiceSequence
from recur.db.numbering import format_number
from recur.db.session import Database
from recur.domain.catalogue import InvoiceGrouping
from recur.services.invoicing import generate_for_account

from .books import assert_books_balanced, stored_as_answered
from .factories import ACTOR, account, product, subscribe

TODAY = date(2027, 1, 15)


def test_the_first_invoice_of_a_year_creates_its_sequence(db: Database) -> None:
    acct = account(db, grouping=InvoiceGrouping.PER_SUBSCRIPTION)
    subs = [subscribe(db, acct, product(db), date(2027, 1, 1)) for _ in range(2)]
    issued = generate_for_account(db, acct, subs, TODAY, ACTOR).invoices
    assert [i.number for i in issued] == ["INV-2027-000001", "INV-2027-000002"]
    stored_as_answered(db, generate_for_account(db, acct, subs[:1], TODAY, ACTOR))
    assert_books_balanced(db)


def test_numbers_grow_a_seventh_digit_rather_than_wrap(db: Database) -> None:
    acct = account(db, grouping=InvoiceGrouping.PER_SUBSCRIPTION)
    subs = [subscribe(db, acct, product(db), date(2027, 1, 1)) for _ in range(2)]
    generate_for_account(db, acct, subs[:1], TODAY, ACTOR)  # creates 2027's sequence
    with db.transaction() as session:
        session.execute(update(InvoiceSequence).values(last_number=999_998))
    generated = generate_for_account(db, acct, subs, TODAY, ACTOR)
    numbers = [i.number for i in stored_as_answered(db, generated)]
    assert numbers == [format_number("INV", 2027, 999_999), format_number("INV", 2027, 1_000_000)]
    assert numbers == ["INV-2027-999999", "INV-2027-1000000"]
