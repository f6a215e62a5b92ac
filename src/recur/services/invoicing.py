"""Pending invoices and manual generation (SPEC §5, §6).

The preview and the generation call the same engine functions on the same
inputs, so what an operator sees is what gets issued.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session

from recur.db.audit import action
from recur.db.billing_store import (
    History,
    Issuing,
    history_for,
    history_queries,
    issue_invoices,
    preview_inputs,
    preview_queries,
    subscription_states,
)
from recur.db.loop_reads import LoopReads
from recur.db.repositories import invoices as stored
from recur.db.repositories.invoices import KeptAnswer
from recur.db.rows import fetch_rows
from recur.db.session import Database
from recur.domain.calendar import add_months
from recur.domain.catalogue import InvoiceSource
from recur.domain.charges import next_planned_issue_date
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.domain.invoices import (
    PREVIEW_CHARGE_LIMIT,
    AccountTerms,
    PendingInvoice,
    SubscriptionState,
    TooManyCharges,
    manual_invoices,
    pending_invoices,
)
from recur.domain.issued import Invoice, IssuedInvoice, from_record, to_record
from recur.domain.issued import InvoiceFilter as InvoiceFilter  # the doors' name for it
from recur.domain.pages import Page
from recur.domain.timeline import InForce, in_force_on
from recur.services.subscriptions import SubscriptionFacts
from recur.services.validation import check_day, check_idempotency_key, searched

T = TypeVar("T")


@dataclass(frozen=True)
class AccountPending:
    """An account's preview: its pending invoices and the subscriptions behind them."""

    account_id: int
    as_of: date
    invoices: list[PendingInvoice]
    subscriptions: list[SubscriptionFacts]

    @property
    def subscription_ids(self) -> list[int]:
        return _subscriptions_of(self.invoices)


def _subscriptions_of(invoices: list[PendingInvoice]) -> list[int]:
    return sorted({sid for inv in invoices for sid in inv.subscription_ids})


# How far ahead a preview may look: beyond, its charges are a forecast nobody asked
# for, and their number grows with the horizon (docs/billing-rules.md).
PREVIEW_YEARS_AHEAD = 5
# The charges a preview computes on the event loop before it moves to a thread: a
# preview of a few hundred charges costs about a millisecond a hundred.
LOOP_SHARE = 250


def check_preview_date(as_of: date, today: date) -> None:
    """A preview's date is in the calendar and at most PREVIEW_YEARS_AHEAD years after
    today (every door)."""
    check_day(as_of, "as_of")
    last = add_months(today, 12 * PREVIEW_YEARS_AHEAD)
    if as_of > last:
        raise InvalidInput(
            "as_of_too_far",
            f"a preview looks at most {PREVIEW_YEARS_AHEAD} years ahead: "
            f"as_of must be on or before {last.isoformat()}",
        )


def pending_for_account(
    db: Database, account_id: int, as_of: date, today: date | None = None
) -> AccountPending:
    """The account's pending invoices and the subscriptions behind them, as of `as_of`,
    asked on `today` (default: `as_of`)."""
    check_preview_date(as_of, today or as_of)
    with db.read() as session:
        fetched = fetch_rows(session, *preview_queries(account_id))
        history = history_for(session, _preview_rows(fetched))
    return _account_pending(account_id, as_of, today or as_of, fetched, history)


async def pending_for_account_on_loop(
    reads: LoopReads,
    account_id: int,
    as_of: date,
    answer: Callable[[AccountPending], T],
    today: date | None = None,
) -> T:
    """`answer` of `pending_for_account`, read without leaving the event loop (the API's
    door). A preview of more than LOOP_SHARE charges is computed, and answered, in a
    thread instead, so that it never holds the loop's other requests."""
    check_preview_date(as_of, today or as_of)
    fetched = await reads.fetch_rows(*preview_queries(account_id))
    wanted = history_queries(reads.postgres, _preview_rows(fetched))
    queries = wanted.queries
    history = wanted.read(await reads.fetch_rows(*queries) if queries else [])
    asked = today or as_of
    try:
        return answer(_account_pending(account_id, as_of, asked, fetched, history, LOOP_SHARE))
    except TooManyCharges:
        pass
    return await to_thread.run_sync(
        lambda: answer(_account_pending(account_id, as_of, asked, fetched, history))
    )


def _preview_rows(fetched: Sequence[Sequence[Any]]) -> Sequence[Any]:
    """The subscriptions' rows among a preview's (see billing_store.preview_queries)."""
    return fetched[1]


def _account_pending(
    account_id: int,
    as_of: date,
    today: date,
    fetched: list[Sequence[Any]],
    history: History,
    limit: int = PREVIEW_CHARGE_LIMIT,
) -> AccountPending:
    inputs = preview_inputs(fetched, history)
    if inputs is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    terms, owing = inputs
    invoices = pending_invoices(terms, [state for state, _ in owing], as_of, limit)
    behind = set(_subscriptions_of(invoices))
    subscriptions = [
        _facts(row, in_force_on(sub.timeline, today))
        for (sub, _), row in owing
        if sub.subscription_id in behind
    ]
    return AccountPending(account_id, as_of, invoices, subscriptions)


def _facts(row: Any, in_force: InForce) -> SubscriptionFacts:
    """The subscription's own columns of a preview row (which has them by those names),
    with the quantity and pricing option in force `today` (SPEC §10)."""
    facts = SubscriptionFacts(*(getattr(row, name) for name in SubscriptionFacts._fields))
    return facts._replace(quantity=in_force.quantity, pricing_option_id=in_force.plan.option_id)


def pending_for_subscription(
    db: Database, subscription_id: int, as_of: date, today: date | None = None
) -> list[PendingInvoice]:
    """As `pending_for_account`, for one subscription."""
    check_preview_date(as_of, today or as_of)
    with db.read() as session:
        return subscription_pending(session, subscription_id, as_of)


def subscription_pending(
    session: Session, subscription_id: int, as_of: date
) -> list[PendingInvoice]:
    """One subscription's pending documents as of `as_of`, as `session` sees it (also in
    a dry run of a change: services/changes.py)."""
    terms = _account_of_subscription(session, subscription_id)
    states = subscription_states(session, [terms.account_id], [subscription_id])
    return pending_invoices(terms, states.get(terms.account_id, []), as_of)


@dataclass(frozen=True)
class Generated:
    """A manual generation's invoices, as issued; `replayed` when they are the answer
    of an earlier request with the same idempotency key."""

    invoices: list[IssuedInvoice]
    replayed: bool = False


@action
def generate_for_account(
    db: Database,
    account_id: int,
    subscription_ids: list[int],
    today: date,
    actor: str,
    idempotency_key: str | None = None,
) -> Generated:
    """Issue now, today, every pending charge of the selected subscriptions."""
    selection = sorted(set(subscription_ids))
    if not selection:
        raise InvalidInput("empty_selection", "select at least one subscription")
    return _generate(
        db, account_id, selection, today, actor, f"account:{account_id}", idempotency_key
    )


def preview_generation(
    db: Database, account_id: int, subscription_ids: list[int], today: date
) -> list[PendingInvoice]:
    """The documents `generate_for_account` would issue today for exactly this selection,
    computed as it computes them (and refused as it would refuse the selection)."""
    selection = sorted(set(subscription_ids))
    if not selection:
        return []
    with db.read() as session:
        inputs = stored.generation_preview_inputs(session, account_id, selection)
    if inputs is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    terms, found = inputs
    return manual_invoices(terms, _selected_states(account_id, selection, found), today)


@action
def generate_for_subscription(
    db: Database, subscription_id: int, today: date, actor: str, idempotency_key: str | None = None
) -> Generated:
    with db.read() as session:
        account_id = _account_of_subscription(session, subscription_id).account_id
    target = f"subscription:{subscription_id}"
    return _generate(db, account_id, [subscription_id], today, actor, target, idempotency_key)


# Every manual generation shares one key space (stored.GENERATION_SCOPE): a key reused
# for another target or selection is refused rather than silently answered with another result.
_KEY_REUSED = "idempotency_key_reused"
_REFUSALS: dict[str, type[DomainError]] = {
    c.__name__: c for c in (NotFound, Conflict, InvalidInput)
}


def _generate(
    db: Database,
    account_id: int,
    selection: list[int],
    today: date,
    actor: str,
    target: str,
    key: str | None,
) -> Generated:
    """One transaction: the key's first answer if it has one, else issue and remember
    the answer with the key (a refusal is remembered too, in its own transaction)."""
    if key is not None:
        check_idempotency_key(key)
    request = f"{target}:{','.join(map(str, selection))}"
    fingerprint = hashlib.sha256(request.encode()).hexdigest()

    def work(session: Session) -> Generated | Issuing:
        # The account's lock first, with the selection's inputs: one round trip.
        inputs = stored.lock_for_generation(session, account_id, key, selection)
        if inputs is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        if inputs.first_answer is not None:
            return _replay(session, inputs.first_answer, fingerprint)
        states = _selected_states(account_id, selection, inputs.states)
        drafts = manual_invoices(inputs.terms, states, today)
        by_sub = {terms.subscription_id: (terms, billed) for terms, billed in states}

        issuing = issue_invoices(session, drafts, by_sub, InvoiceSource.MANUAL, actor)
        # With the issue's own final writes: the audit event and the key's answer.
        ids = [invoice.id for invoice in issuing.invoices]
        kept = None
        if key:
            answer = {"invoices": [to_record(invoice) for invoice in issuing.invoices]}
            kept = (key, KeptAnswer(fingerprint, answer))
        stored.keep_generation(session, actor, account_id, ids, kept)
        return issuing

    try:
        return _answer(db.run(work))
    except DomainError as refusal:
        if not key or refusal.code == _KEY_REUSED or _keep_refusal(db, key, fingerprint, refusal):
            raise
        # Another request with this key answered between this refusal and its record.
        return _answer(db.run(work))
    except Exception as error:
        if not key or not stored.is_taken(error):
            raise
        # Another request with this key, on another account's lock, answered first.
        return _answer(db.run(work))


def _answer(outcome: "Generated | Issuing") -> Generated:
    """A generation's answer once its transaction committed: its documents numbered."""
    return outcome if isinstance(outcome, Generated) else Generated(outcome.numbered())


def _keep_refusal(db: Database, key: str, fingerprint: str, refusal: DomainError) -> bool:
    """Keep the refusal as the key's first answer; False if the key already has one."""
    refused = {"type": type(refusal).__name__, "code": refusal.code, "message": refusal.message}
    kept = KeptAnswer(fingerprint, {"refused": refused})
    try:
        db.run(lambda session: stored.keep_answer(session, key, kept))
    except Exception as error:
        if stored.is_taken(error):
            return False
        raise
    return True


def _replay(session: Session, first: KeptAnswer, fingerprint: str) -> Generated:
    """The first answer given with this key: its invoices as issued, or its refusal."""
    answer = first.answer
    if first.fingerprint != fingerprint:
        raise InvalidInput(_KEY_REUSED, "this Idempotency-Key was used with a different request")
    if "refused" in answer:
        refused = answer["refused"]
        assert isinstance(refused, dict)
        raise _REFUSALS[refused["type"]](refused["code"], refused["message"])
    assert isinstance(answer["invoices"], list)
    issued = [from_record(r) for r in answer["invoices"]]
    # Recorded before its numbers were taken (numbering is the last write): read them.
    numbers = stored.numbers(session, [invoice.id for invoice in issued])
    return Generated([invoice.numbered(numbers[invoice.id]) for invoice in issued], replayed=True)


def _selected_states(
    account_id: int, selection: list[int], found: dict[int, SubscriptionState]
) -> list[SubscriptionState]:
    """The selection's engine inputs, refused as a whole if any member cannot be billed."""
    missing = [sid for sid in selection if sid not in found]
    if missing:
        raise NotFound("subscription_not_found", f"subscriptions {_ids(missing)} do not exist")
    foreign = [sid for sid in selection if found[sid][0].account_id != account_id]
    if foreign:
        raise InvalidInput(
            "subscription_of_another_account",
            f"subscriptions {_ids(foreign)} do not belong to account {account_id}",
        )
    # Something is pending exactly when something is left to bill: asked without
    # pricing, since manual_invoices prices the selection right after.
    idle = [sid for sid in selection if next_planned_issue_date(*found[sid]) is None]
    if idle:
        raise Conflict(
            "nothing_pending", f"subscriptions {_ids(idle)} have nothing pending to invoice"
        )
    return [found[sid] for sid in selection]


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _account_of_subscription(session: Session, subscription_id: int) -> AccountTerms:
    terms = stored.terms_of_subscription_account(session, subscription_id)
    if terms is None:
        raise NotFound("subscription_not_found", f"subscription {subscription_id} does not exist")
    return terms


def list_invoices(
    db: Database,
    where: InvoiceFilter = InvoiceFilter(),
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[Invoice]:
    """A page of the invoices `where` selects, in `sort` order (newest first by
    default, repositories.invoices.SORTING), each with its items."""
    checked = _checked(where)
    with db.read() as session:
        return stored.page(session, checked, limit, cursor, with_items=True, sort=sort)


def list_invoice_rows(
    db: Database,
    where: InvoiceFilter = InvoiceFilter(),
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[Invoice]:
    """`list_invoices` for a table of invoices: each with its account, without its items
    (`items` empty: an invoice of a 1,000-subscription account has 1,000)."""
    checked = _checked(where)
    with db.read() as session:
        return stored.page(session, checked, limit, cursor, with_items=False, sort=sort)


def _checked(where: InvoiceFilter) -> InvoiceFilter:
    """`where` with its dates checked and its number as searched (every door's rules)."""
    if where.issued_from is not None:
        check_day(where.issued_from, "issued_from")
    if where.issued_to is not None:
        check_day(where.issued_to, "issued_to")
    return replace(where, number=searched(where.number) if where.number else None)


def get_invoice(db: Database, invoice_id: int) -> Invoice:
    with db.read() as session:
        invoice = stored.by_id(session, invoice_id)
    return _found(invoice, str(invoice_id))


def get_invoice_by_number(db: Database, number: str) -> Invoice:
    with db.read() as session:
        invoice = stored.by_number(session, number)
    return _found(invoice, number)


def _found(invoice: Invoice | None, named: str) -> Invoice:
    if invoice is None:
        raise NotFound("invoice_not_found", f"invoice {named} does not exist")
    return invoice


def open_balance(db: Database, account_id: int) -> Decimal:
    with db.read() as session:
        return stored.open_balance(session, account_id)
