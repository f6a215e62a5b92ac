"""Statements of account (issue 14): an account's documents and payments over a
period, as a PDF and by e-mail through the outbox (domain/statement.py)."""

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from recur.db.audit import action, record
from recur.db.repositories import accounts as stored_accounts
from recur.db.repositories import delivery as outbox
from recur.db.repositories import identity as stored_identity
from recur.db.repositories import statements as stored
from recur.db.session import Database
from recur.domain.accounts import Account
from recur.domain.errors import InvalidInput, NotFound
from recur.domain.identity import NO_SELLER, Seller
from recur.domain.statement import Statement, statement_of
from recur.services.validation import check_day


def check_period(period_from: date, period_to: date) -> tuple[date, date]:
    check_day(period_from, "from")
    check_day(period_to, "to")
    if period_from > period_to:
        raise InvalidInput("invalid_period", "from must be on or before to")
    return period_from, period_to


def statement(db: Database, account_id: int, period_from: date, period_to: date) -> Statement:
    period = check_period(period_from, period_to)
    with db.read() as session:
        return statement_in(session, _account(session, account_id), period)


def statement_in(session: Session, account: Account, period: tuple[date, date]) -> Statement:
    """The statement, read in an open transaction (the delivery worker's)."""
    lines = statement_of(stored.entries(session, account.id, period[1]), *period)
    return Statement(account.id, account.name, period[0], period[1], lines)


def statement_file_name(account_id: int, period_from: date, period_to: date) -> str:
    """The name every door downloads a statement's PDF under."""
    return f"statement-{account_id}-{period_from.isoformat()}-{period_to.isoformat()}.pdf"


def statement_pdf(
    db: Database, account_id: int, period_from: date, period_to: date, seller_name: str
) -> bytes:
    """The statement as PDF bytes; `seller_name` stands in until the seller is saved."""
    from recur.pdf.statement import render_statement_pdf  # loading WeasyPrint takes a while

    period = check_period(period_from, period_to)
    with db.read() as session:
        account = _account(session, account_id)
        found = statement_in(session, account, period)
        seller = stored_identity.seller(session) or NO_SELLER
    return render_statement_pdf(found, account, named(seller, seller_name))


@action
def send_statement(
    db: Database, account_id: int, period_from: date, period_to: date, actor: str
) -> int:
    """Queue an e-mail of the statement, its PDF attached; its outbox id."""
    period = check_period(period_from, period_to)

    def work(session: Session) -> int:
        _account(session, account_id)
        queued = outbox.queue_statement(session, account_id, period, actor, datetime.now(UTC))
        record(
            session,
            actor,
            "account.statement_queued",
            "account",
            account_id,
            outbox_id=queued,
            period_from=period[0].isoformat(),
            period_to=period[1].isoformat(),
        )
        return queued

    return db.run(work)


def _account(session: Session, account_id: int) -> Account:
    account = stored_accounts.get_account(session, account_id)
    if account is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    return account


def named(seller: Seller, seller_name: str) -> Seller:
    """The saved seller, named by `seller_name` until a legal name is saved."""
    return seller if seller.legal_name else replace(seller, legal_name=seller_name)
