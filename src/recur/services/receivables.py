"""What accounts owe: balances per currency and the aging report (SPEC §18)."""

from datetime import date

from recur.db.repositories import receivables as books
from recur.db.session import Database
from recur.domain.errors import NotFound
from recur.domain.receivables import Aging, Balance, aging_of
from recur.services.validation import check_day


def account_balance(db: Database, account_id: int) -> list[Balance]:
    """Open invoices less unapplied credits (credit notes, unallocated payments), per currency."""
    with db.read() as session:
        if books.account_currency(session, account_id) is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        return books.balances(session, account_id)


def aging(db: Database, as_of: date, account_id: int | None = None) -> Aging:
    """Amounts due on `as_of` by days past due, per currency: the whole book and each
    account (or one account's only)."""
    check_day(as_of, "as_of")
    with db.read() as session:
        if account_id is not None and books.account_currency(session, account_id) is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        return aging_of(as_of, books.aging_sums(session, as_of, account_id))
