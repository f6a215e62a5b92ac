"""Customer accounts and their billing options."""

from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

from sqlalchemy.orm import Session

from recur.db.audit import action, record
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
from recur.domain.errors import Conflict, InvalidInput, NotFound, refuse_all
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
    check_cc_emails,
    check_choice,
    check_currency,
    check_email,
    check_flag,
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
    billing_email: str | None = None  # None or blank: `email`
    cc_emails: tuple[str, ...] = ()
    auto_send: bool = False


# Options that move the billing schedule: changing them after a subscription has
# been invoiced would leave its billed cursor off the new boundaries.
_SCHEDULE_FIELDS = {"billing_day", "partial_charges"}
_EDITABLE = {f.name for f in fields(AccountSpec)} | {"status"}


# Each editable field's rule: its value as stored, or an InvalidInput.
_RULES: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: check_text(v, "name", NAME_LENGTH),
    "email": lambda v: check_email(v, "email"),
    "currency": check_currency,
    "billing_day": check_billing_day,
    "payment_terms_days": check_payment_terms,
    "tax_rate": check_tax_rate,
    "billing_address": lambda v: check_address(v, "billing_address"),
    "tax_id": check_tax_id,
    "tax_exemption_reason": lambda v: optional_text(v, "tax_exemption_reason", REASON_LENGTH),
    "partial_charges": lambda v: check_choice(v, PartialCharges, "partial_charges"),
    "invoice_grouping": lambda v: check_choice(v, InvoiceGrouping, "invoice_grouping"),
    "status": lambda v: check_choice(v, AccountStatus, "status"),
    "tax_treatment": lambda v: check_choice(v, TaxTreatment, "tax_treatment"),
    "billing_email": lambda v: check_email(v, "billing_email") if v else None,
    "cc_emails": check_cc_emails,
    "auto_send": lambda v: check_flag(v, "auto_send"),
}


_TREATMENT_FIELDS = ("tax_treatment", "tax_exemption_reason", "tax_id")


def account_problems(values: dict[str, Any]) -> tuple[dict[str, Any], list[InvalidInput]]:
    """`values` as stored, and everything wrong with them (every field is checked, so
    that a form can show all its errors at once); with all of the tax treatment's
    fields, their rules together too."""
    clean = dict(values)
    problems: list[InvalidInput] = []
    for name, rule in _RULES.items():
        if name in clean:
            try:
                clean[name] = rule(clean[name])
            except InvalidInput as problem:
                problems.append(problem)
    if not problems and all(name in clean for name in _TREATMENT_FIELDS):
        try:
            clean["tax_exemption_reason"] = check_tax_treatment(
                *(clean[name] for name in _TREATMENT_FIELDS)
            )
        except InvalidInput as problem:
            problems.append(problem)
    return clean, problems


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    clean, problems = account_problems(values)
    refuse_all(problems)
    return clean


@action
def create_account(db: Database, spec: AccountSpec, actor: str) -> Account:
    values = _validated({f.name: getattr(spec, f.name) for f in fields(AccountSpec)})

    def work(session: Session) -> Account:
        account = stored.add_account(session, values)
        record(session, actor, "account.created", "account", account.id, name=account.name)
        return account

    return db.run(work)


@action
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
    db: Database,
    search: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[Account]:
    """A page of accounts in `sort` order (repositories.accounts.SORTING), by name
    by default."""
    with db.read() as session:
        found = searched(search) if search else None
        return stored.list_accounts(session, found, limit, cursor, sort)


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
