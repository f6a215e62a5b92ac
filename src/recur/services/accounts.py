"""Customer accounts and their billing options."""

from dataclasses import dataclass, fields
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

from sqlalchemy.orm import Session

from recur.db.audit import record
from recur.db.billing_store import subscription_states
from recur.db.repositories import accounts as stored
from recur.db.session import Database
from recur.domain.accounts import Account, AccountSummary
from recur.domain.catalogue import (
    AccountStatus,
    InvoiceGrouping,
    PartialCharges,
)
from recur.domain.charges import next_planned_issue_date
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.identity import NO_ADDRESS, Address, TaxTreatment
from recur.domain.pages import Page
from recur.services.identity_rules import (
    REASON_LENGTH,
    check_address,
    check_tax_id,
    check_tax_treatment,
    optional_text,
)
from recur.services.validation import (
    NAME_LENGTH,
    check_billing_day,
    check_choice,
    check_currency,
    check_email,
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
    billing_address: Address = NO_ADDRESS
    tax_id: str | None = None
    tax_treatment: str = TaxTreatment.STANDARD.value
    tax_exemption_reason: str | None = None  # required when exempt


# Options that move the billing schedule: changing them after a subscription has
# been invoiced would leave its billed cursor off the new boundaries.
_SCHEDULE_FIELDS = {"billing_day", "partial_charges"}
_EDITABLE = {f.name for f in fields(AccountSpec)} | {"status"}


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    if "name" in clean:
        clean["name"] = check_text(clean["name"], "name", NAME_LENGTH)
    if "email" in clean:
        clean["email"] = check_email(clean["email"], "email")
    if "currency" in clean:
        clean["currency"] = check_currency(clean["currency"])
    if "billing_day" in clean:
        check_billing_day(clean["billing_day"])
    if "payment_terms_days" in clean:
        check_payment_terms(clean["payment_terms_days"])
    if "tax_rate" in clean:
        clean["tax_rate"] = check_tax_rate(clean["tax_rate"])
    if "billing_address" in clean:
        clean["billing_address"] = check_address(clean["billing_address"], "billing_address")
    if "tax_id" in clean:
        clean["tax_id"] = check_tax_id(clean["tax_id"])
    if "tax_exemption_reason" in clean:
        clean["tax_exemption_reason"] = optional_text(
            clean["tax_exemption_reason"], "tax_exemption_reason", REASON_LENGTH
        )
    for enum_field, enum in (
        ("partial_charges", PartialCharges),
        ("invoice_grouping", InvoiceGrouping),
        ("status", AccountStatus),
        ("tax_treatment", TaxTreatment),
    ):
        if enum_field in clean:
            clean[enum_field] = check_choice(clean[enum_field], enum, enum_field)
    return clean


def create_account(db: Database, spec: AccountSpec, actor: str) -> Account:
    values = _validated({f.name: getattr(spec, f.name) for f in fields(AccountSpec)})
    check_tax_treatment(values["tax_treatment"], values["tax_exemption_reason"], values["tax_id"])

    def work(session: Session) -> Account:
        account = stored.add_account(session, values)
        record(session, actor, "account.created", "account", account.id, name=account.name)
        return account

    return db.run(work)


def update_account(db: Database, account_id: int, changes: dict[str, Any], actor: str) -> Account:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput("unknown_field", f"cannot change {', '.join(sorted(unknown))}")
    values = _validated(changes)

    def work(session: Session) -> Account:
        account = stored.lock_account(session, account_id)
        if account is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        changed = {
            k: v for k, v in _with_treatment(account, values).items() if getattr(account, k) != v
        }
        if "currency" in changed or _SCHEDULE_FIELDS & changed.keys():
            subscriptions, invoiced = stored.subscription_counts(session, account_id)
            if "currency" in changed and subscriptions:
                raise Conflict(
                    "currency_locked",
                    "the currency of an account with subscriptions cannot change",
                )
            if _SCHEDULE_FIELDS & changed.keys() and invoiced:
                raise Conflict(
                    "billing_schedule_locked",
                    "billing_day and partial_charges cannot change once a subscription has been invoiced",
                )
        account = stored.update_account(session, account_id, changed)
        if _SCHEDULE_FIELDS & changed.keys():
            _reschedule(session, account_id)
        record(session, actor, "account.updated", "account", account_id, changes=sorted(changed))
        return account

    return db.run(work)


def _with_treatment(account: Account, values: dict[str, Any]) -> dict[str, Any]:
    """The changes, checked against the tax treatment they leave the account with; a
    treatment other than exempt drops the exemption reason."""
    treatment = values.get("tax_treatment", account.tax_treatment)
    reason = values.get("tax_exemption_reason", account.tax_exemption_reason)
    if treatment != TaxTreatment.EXEMPT and "tax_exemption_reason" not in values:
        reason = None
    reason = check_tax_treatment(treatment, reason, values.get("tax_id", account.tax_id))
    return values | {"tax_exemption_reason": reason}


def _reschedule(session: Session, account_id: int) -> None:
    """Recompute every subscription's next charge date after a schedule change."""
    states = subscription_states(session, [account_id]).get(account_id, [])
    stored.set_next_charge_dates(
        session,
        {terms.subscription_id: next_planned_issue_date(terms, billed) for terms, billed in states},
    )


def get_account(db: Database, account_id: int) -> Account:
    with db.read() as session:
        account = stored.get_account(session, account_id)
    if account is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    return account


def list_accounts(
    db: Database, search: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[Account]:
    with db.read() as session:
        return stored.list_accounts(session, searched(search) if search else None, limit, cursor)


def find_account(db: Database, reference: str) -> Account:
    """An account by id, or by its exact name (case-insensitive) for people at a terminal."""
    with db.read() as session:
        if reference.strip().isdigit():  # an id; one beyond the keys' range names none
            account_id = id_named_by(reference)
            account = None if account_id is None else stored.get_account(session, account_id)
        else:
            matches = stored.accounts_named(session, reference, limit=2)
            if len(matches) > 1:
                raise Conflict(
                    "ambiguous_account", f"several accounts are named {reference!r}; use the id"
                )
            account = matches[0] if matches else None
    if account is None:
        raise NotFound("account_not_found", f"no account {reference!r}{_suggestion(db, reference)}")
    return account


# How many near names a refusal suggests, and how near they must be (difflib's ratio).
_SUGGESTIONS = 3
_NEAR_ENOUGH = 0.6


def _suggestion(db: Database, reference: str) -> str:
    """ "; did you mean 'Acme Ltd'?" with the names nearest to a name that matches none,
    compared case-insensitively as the match is; "" for an id or when none is near."""
    if reference.strip().isdigit():
        return ""
    with db.read() as session:
        by_folded = {name.casefold(): name for name in stored.account_names(session)}
    near = get_close_matches(
        reference.casefold(), list(by_folded), n=_SUGGESTIONS, cutoff=_NEAR_ENOUGH
    )
    return f"; did you mean {' or '.join(repr(by_folded[n]) for n in near)}?" if near else ""


def account_summaries(db: Database, account_ids: list[int]) -> dict[int, AccountSummary]:
    """Open balance and next invoice date of a page of accounts."""
    with db.read() as session:
        return stored.account_summaries(session, account_ids)


def account_counts(db: Database, account_id: int) -> tuple[int, int]:
    """(invoices issued, subscriptions) of an account."""
    with db.read() as session:
        return stored.account_counts(session, account_id)
