"""Customer accounts and their billing options."""

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from recur.db.audit import record
from recur.db.billing_store import lock_account, subscription_states
from recur.db.models import Account, Invoice, Subscription
from recur.db.repositories.pages import paginate
from recur.db.session import Database
from recur.domain.catalogue import (
    AccountStatus,
    InvoiceGrouping,
    InvoiceStatus,
    PartialCharges,
    SubscriptionStatus,
)
from recur.domain.charges import next_planned_issue_date
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.pages import Page
from recur.services.validation import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    check_billing_day,
    check_choice,
    check_currency,
    check_payment_terms,
    check_tax_rate,
    check_text,
    id_named_by,
    searched,
)


@dataclass(frozen=True)
class AccountSpec:
    name: str
    email: str
    currency: str
    billing_day: int | None = None
    partial_charges: PartialCharges = PartialCharges.ON_ORDER_DAY
    invoice_grouping: InvoiceGrouping = InvoiceGrouping.CONSOLIDATED
    payment_terms_days: int = 30
    tax_rate: Decimal = Decimal(0)


# Options that move the billing schedule: changing them after a subscription has
# been invoiced would leave its billed cursor off the new boundaries.
_SCHEDULE_FIELDS = {"billing_day", "partial_charges"}
_EDITABLE = {f.name for f in fields(AccountSpec)} | {"status"}


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    if "name" in clean:
        clean["name"] = check_text(clean["name"], "name", NAME_LENGTH)
    if "email" in clean:
        email = check_text(clean["email"], "email", EMAIL_LENGTH)
        if "@" not in email:
            raise InvalidInput("invalid_email", "email must be an e-mail address")
        clean["email"] = email
    if "currency" in clean:
        clean["currency"] = check_currency(clean["currency"])
    if "billing_day" in clean:
        check_billing_day(clean["billing_day"])
    if "payment_terms_days" in clean:
        check_payment_terms(clean["payment_terms_days"])
    if "tax_rate" in clean:
        clean["tax_rate"] = check_tax_rate(clean["tax_rate"])
    for enum_field, enum in (
        ("partial_charges", PartialCharges),
        ("invoice_grouping", InvoiceGrouping),
        ("status", AccountStatus),
    ):
        if enum_field in clean:
            clean[enum_field] = check_choice(clean[enum_field], enum, enum_field)
    return clean


def create_account(db: Database, spec: AccountSpec, actor: str) -> Account:
    values = _validated({f.name: getattr(spec, f.name) for f in fields(AccountSpec)})

    def work(session: Session) -> Account:
        account = Account(**values, status=AccountStatus.ACTIVE.value)
        session.add(account)
        session.flush()
        record(session, actor, "account.created", "account", account.id, name=account.name)
        return account

    return db.run(work)


def update_account(db: Database, account_id: int, changes: dict[str, Any], actor: str) -> Account:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput("unknown_field", f"cannot change {', '.join(sorted(unknown))}")
    values = _validated(changes)

    def work(session: Session) -> Account:
        account = lock_account(session, account_id)
        if account is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        changed = {k: v for k, v in values.items() if getattr(account, k) != v}
        subs = list(
            session.scalars(select(Subscription).where(Subscription.account_id == account_id))
        )
        if "currency" in changed and subs:
            raise Conflict(
                "currency_locked", "the currency of an account with subscriptions cannot change"
            )
        if _SCHEDULE_FIELDS & changed.keys() and any(_ever_billed(s) for s in subs):
            raise Conflict(
                "billing_schedule_locked",
                "billing_day and partial_charges cannot change once a subscription has been invoiced",
            )
        for key, value in changed.items():
            setattr(account, key, value)
        session.flush()
        if _SCHEDULE_FIELDS & changed.keys():
            _reschedule(session, account_id)
        record(session, actor, "account.updated", "account", account_id, changes=sorted(changed))
        return account

    return db.run(work)


def _ever_billed(sub: Subscription) -> bool:
    return sub.recurring_billed_until is not None or sub.setup_billed or sub.one_time_billed


def _reschedule(session: Session, account_id: int) -> None:
    """Recompute every subscription's next charge date after a schedule change."""
    for terms, billed in subscription_states(session, [account_id]).get(account_id, []):
        sub = session.get_one(Subscription, terms.subscription_id)
        sub.next_charge_date = next_planned_issue_date(terms, billed)


def get_account(db: Database, account_id: int) -> Account:
    with db.read() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        return account


def list_accounts(
    db: Database, search: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[Account]:
    query = select(Account).order_by(Account.name, Account.id)
    if search:
        pattern = f"%{searched(search)}%"
        query = query.where(or_(Account.name.ilike(pattern), Account.email.ilike(pattern)))
    with db.read() as session:
        return paginate(session, query, limit, cursor, _as_row)


def find_account(db: Database, reference: str) -> Account:
    """An account by id, or by its exact name (case-insensitive) for people at a terminal."""
    with db.read() as session:
        if reference.strip().isdigit():  # an id; one beyond the keys' range names none
            account_id = id_named_by(reference)
            account = None if account_id is None else session.get(Account, account_id)
        else:
            matches = list(
                session.scalars(select(Account).where(Account.name.ilike(reference)).limit(2))
            )
            if len(matches) > 1:
                raise Conflict(
                    "ambiguous_account", f"several accounts are named {reference!r}; use the id"
                )
            account = matches[0] if matches else None
        if account is None:
            raise NotFound("account_not_found", f"no account {reference!r}")
        return account


@dataclass(frozen=True)
class AccountSummary:
    """What the accounts list shows beside each account."""

    open_balance: Decimal
    next_invoice_date: date | None  # the earliest planned issue date of its subscriptions


def account_summaries(db: Database, account_ids: list[int]) -> dict[int, AccountSummary]:
    """Open balance and next invoice date of a page of accounts: two grouped queries, not 2×N."""
    if not account_ids:
        return {}
    with db.read() as session:
        balances: dict[int, Decimal] = dict(
            session.execute(
                select(Invoice.account_id, func.sum(Invoice.total))
                .where(Invoice.account_id.in_(account_ids), Invoice.status == InvoiceStatus.UNPAID)
                .group_by(Invoice.account_id)
            )
            .tuples()
            .all()
        )
        next_dates: dict[int, date | None] = dict(
            session.execute(
                select(Subscription.account_id, func.min(Subscription.next_charge_date))
                .where(
                    Subscription.account_id.in_(account_ids),
                    Subscription.status != SubscriptionStatus.SUSPENDED,
                )
                .group_by(Subscription.account_id)
            )
            .tuples()
            .all()
        )
    return {
        account_id: AccountSummary(
            Decimal(balances.get(account_id) or 0), next_dates.get(account_id)
        )
        for account_id in account_ids
    }


def account_counts(db: Database, account_id: int) -> tuple[int, int]:
    """(invoices issued, subscriptions) of an account: two counts on indexed columns."""
    with db.read() as session:
        invoices = session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.account_id == account_id)
        )
        subs = session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.account_id == account_id)
        )
    return int(invoices or 0), int(subs or 0)


def _as_row(row: Any) -> Any:  # temporary: the repository refactor replaces it
    return row
