"""Reading the engine's inputs and writing what it issued: the billing persistence.

Locking protocol (the same for every writer, so no two can deadlock on order):
lock the account row first, then read its subscriptions and billed cursors.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from operator import attrgetter
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from recur.db import driver
from recur.db.final_writes import writes_of
from recur.db.models import (
    Account,
    BilledPeriod,
    Invoice,
    InvoiceItem,
    PricingOption,
    Product,
    Subscription,
    SubscriptionChange,
    UsageRecord,
)
from recur.db.models import Meter as MeterRow
from recur.db.numbering import SERIES, number_invoices
from recur.db.repositories import delivery
from recur.db.repositories import identity as identities
from recur.db.rows import Query, any_ids, fetch_rows
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    ChargeKind,
    InvoiceGrouping,
    InvoiceSource,
    InvoiceType,
    PartialCharges,
    SubscriptionStatus,
)
from recur.domain.charges import (
    BilledRun,
    BilledState,
    Charge,
    SubscriptionTerms,
    first_period_to_correct,
    next_planned_issue_date,
)
from recur.domain.identity import (
    NO_SELLER,
    Buyer,
    applied_rate,
    buyer_record,
    seller_record,
)
from recur.domain.invoices import AccountTerms, PendingInvoice, SubscriptionState
from recur.domain.issued import IssuedInvoice, IssuedItem, issued_invoice
from recur.domain.timeline import Plan, ScheduledChange
from recur.domain.usage import Meter
from recur.domain.usage_billing import UnbilledUsage


def lock_account(session: Session, account_id: int) -> Account | None:
    """Take the account's row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    return session.execute(
        select(Account).where(Account.id == account_id).with_for_update()
    ).scalar_one_or_none()


# What shapes an account's invoices (see account_terms).
TERMS_COLUMNS = (
    Account.id,
    Account.currency,
    Account.tax_rate,
    Account.invoice_grouping,
    Account.payment_terms_days,
    Account.tax_treatment,
    # The buyer its documents name (SPEC §17).
    Account.name,
    Account.address_lines,
    Account.postcode,
    Account.city,
    Account.region,
    Account.country,
    Account.tax_id,
    Account.tax_exemption_reason,
)


def claim_due_accounts(
    session: Session,
    as_of: date,
    limit: int,
    skip: Iterable[int] = (),
    wait: bool = False,
    after: int | None = None,
) -> list[int]:
    """Lock up to `limit` accounts with charges due by `as_of`, skipping those another
    worker holds (FOR UPDATE SKIP LOCKED), so that workers share a run without waiting.

    With `wait`, block on held accounts instead: the run's last pass, so that an
    account a manual generation held is billed once it commits, not left behind.
    `after` (an account id) continues a sweep in id order where the last batch ended,
    so that a run's claims do not rescan the accounts it has already billed."""
    query = _due_accounts(as_of, limit, after)
    skipped = list(skip)
    if skipped:
        query = query.where(Account.id.not_in(skipped))
    return list(session.execute(query.with_for_update(skip_locked=not wait)).scalars())


def due_account_ids(
    session: Session, as_of: date, limit: int, after: int | None = None
) -> list[int]:
    """Up to `limit` accounts (after `after`, in id order) with charges due by `as_of`,
    as a dry run reads them: without a lock."""
    return list(session.execute(_due_accounts(as_of, limit, after)).scalars())


def _due_accounts(as_of: date, limit: int, after: int | None) -> Select[tuple[int]]:
    due = exists().where(
        Subscription.account_id == Account.id,
        Subscription.next_charge_date <= as_of,
        Subscription.status != SubscriptionStatus.SUSPENDED,
    )
    query = select(Account.id).where(due).order_by(Account.id).limit(limit)
    if after is not None:
        query = query.where(Account.id > after)
    return query


def account_terms(account: Account | Row[Any]) -> AccountTerms:
    return AccountTerms(
        account_id=account.id,
        currency=account.currency,
        tax_rate=account.tax_rate,
        grouping=InvoiceGrouping(account.invoice_grouping),
        payment_terms_days=account.payment_terms_days,
        tax_treatment=account.tax_treatment,
        buyer=Buyer(
            account.name,
            identities.address_of(account),
            account.tax_id,
            account.tax_exemption_reason,
        ),
    )


def _state_query() -> Select[Any]:
    """The columns the engine reads (no ORM objects: a run loads thousands per batch)."""
    return (
        select(
            Subscription.id,
            Subscription.account_id,
            Subscription.quantity,
            Subscription.start_date,
            Subscription.end_date,
            Subscription.status,
            Subscription.recurring_billed_until,
            Subscription.setup_billed,
            Subscription.one_time_billed,
            Product.id.label("product_id"),
            Product.name.label("product_name"),
            Product.taxable,
            PricingOption.currency,
            PricingOption.billing_period,
            PricingOption.billing_type,
            PricingOption.unit_price,
            PricingOption.setup_fee,
            PricingOption.billing_day.label("option_billing_day"),
            Account.billing_day.label("account_billing_day"),
            Account.partial_charges,
            PricingOption.anniversary_billing,
            Subscription.pricing_option_id.label("option_id"),
            PricingOption.usage_delay_days,
            Subscription.billing_seq,
            Subscription.reconcile_from,
        )
        .join(PricingOption, Subscription.pricing_option_id == PricingOption.id)
        .join(Product, PricingOption.product_id == Product.id)
        .join(Account, Subscription.account_id == Account.id)
        .order_by(Subscription.id)
    )


_OWING_STATES = _state_query().where(
    Subscription.account_id.in_(bindparam("accounts", expanding=True)),
    Subscription.next_charge_date.is_not(None),
)
_STATES_BY_ID = _state_query().where(Subscription.id.in_(bindparam("ids", expanding=True)))
_STATES_BY_ID_ANY = _state_query().where(any_ids(Subscription.id, "ids"))  # see db/rows.py

# An account's owing subscriptions as the engine reads them and as a preview shows them.
_PREVIEW_STATES = (
    _state_query()
    .add_columns(
        Subscription.pricing_option_id.label("pricing_option_id"),
        Subscription.auto_renew,
        Subscription.term_months,
        Subscription.next_charge_date,
    )
    .where(
        Subscription.account_id == bindparam("account_id"),
        Subscription.next_charge_date.is_not(None),
    )
)
_STATE_WIDTH = len(_state_query().selected_columns)
_RECONCILE_AT = _STATE_WIDTH - 1  # the last column of `_state_query`: reconcile_from
_BILLING_TYPE_AT = 14  # its column billing_type
assert _state_query().selected_columns[_BILLING_TYPE_AT].name == "billing_type"

_TERMS = select(*TERMS_COLUMNS).where(Account.id == bindparam("account_id"))

# A plan's columns, of the pricing option joined as `PricingOption` (see _plan).
_PLAN_COLUMNS = (
    PricingOption.id.label("plan_option_id"),
    Product.id.label("plan_product_id"),
    Product.name.label("plan_product_name"),
    Product.taxable.label("plan_taxable"),
    PricingOption.unit_price.label("plan_unit_price"),
)


def _changes_query() -> Select[Any]:
    """Each subscription's changes, in the order they apply (SPEC §10)."""
    return (
        select(
            SubscriptionChange.subscription_id,
            SubscriptionChange.effective_date,
            SubscriptionChange.quantity,
            *_PLAN_COLUMNS,
        )
        .join(Subscription, SubscriptionChange.subscription_id == Subscription.id)
        .outerjoin(PricingOption, SubscriptionChange.pricing_option_id == PricingOption.id)
        .outerjoin(Product, PricingOption.product_id == Product.id)
        .order_by(
            SubscriptionChange.subscription_id,
            SubscriptionChange.effective_date,
            SubscriptionChange.id,
        )
    )


def _facts_query() -> Select[Any]:
    """The ledger's facts of the billed periods that may need a correction: from the
    period of the subscription's first change or cancellation not yet reconciled. Read
    only for the subscriptions that have one (`history_for`)."""
    return (
        select(
            BilledPeriod.subscription_id,
            BilledPeriod.billing_period_start,
            BilledPeriod.period_start,
            BilledPeriod.period_end,
            BilledPeriod.quantity,
            BilledPeriod.kind,
            InvoiceItem.invoice_id,
            Invoice.tax_treatment.label("invoice_tax_treatment"),
            Invoice.tax_rate.label("invoice_tax_rate"),
            *_PLAN_COLUMNS,
        )
        .join(Subscription, BilledPeriod.subscription_id == Subscription.id)
        .join(InvoiceItem, BilledPeriod.invoice_item_id == InvoiceItem.id)
        .join(Invoice, InvoiceItem.invoice_id == Invoice.id)
        .join(PricingOption, BilledPeriod.pricing_option_id == PricingOption.id)
        .join(Product, PricingOption.product_id == Product.id)
        .where(
            # Not IN (…): these statements also run through psycopg directly (db/rows.py).
            or_(
                BilledPeriod.kind == ChargeKind.RECURRING.value,
                BilledPeriod.kind == ChargeKind.ADJUSTMENT.value,
            ),
            BilledPeriod.billing_period_start >= Subscription.reconcile_from,
        )
        .order_by(BilledPeriod.subscription_id, BilledPeriod.invoice_item_id)
    )


_FACTS_BY_ID = _facts_query().where(
    BilledPeriod.subscription_id.in_(bindparam("ids", expanding=True))
)
_FACTS_BY_ID_ANY = _facts_query().where(any_ids(BilledPeriod.subscription_id, "ids"))


def _usage_query() -> Select[Any]:
    """The usage records received and not billed yet, with their meters (SPEC §13)."""
    return (
        select(
            UsageRecord.subscription_id,
            UsageRecord.id,
            UsageRecord.quantity,
            UsageRecord.occurred_on,
            UsageRecord.received_on,
            MeterRow.id.label("meter_id"),
            MeterRow.pricing_option_id,
            MeterRow.code,
            MeterRow.name,
            MeterRow.unit,
            MeterRow.unit_price,
        )
        .join(MeterRow, UsageRecord.meter_id == MeterRow.id)
        .where(UsageRecord.invoice_item_id.is_(None))
        .order_by(UsageRecord.subscription_id, UsageRecord.occurred_on, UsageRecord.id)
    )


_USAGE_BY_ID = _usage_query().where(
    UsageRecord.subscription_id.in_(bindparam("ids", expanding=True))
)
_USAGE_BY_ID_ANY = _usage_query().where(any_ids(UsageRecord.subscription_id, "ids"))


@dataclass(frozen=True)
class History:
    """What the engine reads beyond a subscription's row, for the few that need it:
    the ledger's facts of those with something to reconcile, and the records not billed
    yet of those billed by usage."""

    facts: Sequence[Any] = ()
    usage: Sequence[Any] = ()


@dataclass(frozen=True)
class HistoryQueries:
    """The queries of a `History` (none for a batch without either: nearly always)."""

    facts: Query | None
    usage: Query | None

    @property
    def queries(self) -> list[Query]:
        return [query for query in (self.facts, self.usage) if query is not None]

    def read(self, results: Sequence[Sequence[Any]]) -> History:
        """The history from the results of `queries`, in their order."""
        answers = iter(results)
        facts = next(answers) if self.facts is not None else ()
        usage = next(answers) if self.usage is not None else ()
        return History(facts, usage)


def history_queries(postgres: bool, rows: Sequence[Sequence[Any]]) -> HistoryQueries:
    """The history the engine needs for these rows of `_state_query`."""
    reconciled = [row[0] for row in rows if row[_RECONCILE_AT] is not None]
    metered = [row[0] for row in rows if row[_BILLING_TYPE_AT] == BillingType.USAGE.value]
    facts = (_FACTS_BY_ID_ANY if postgres else _FACTS_BY_ID, {"ids": reconciled})
    usage = (_USAGE_BY_ID_ANY if postgres else _USAGE_BY_ID, {"ids": metered})
    return HistoryQueries(facts if reconciled else None, usage if metered else None)


def history_for(session: Session, rows: Sequence[Sequence[Any]]) -> History:
    """The history of `history_queries`, read in `session`."""
    wanted = history_queries(driver.is_postgres(session), rows)
    queries = wanted.queries
    return wanted.read(fetch_rows(session, *queries) if queries else [])


_OWING_CHANGES = _changes_query().where(
    Subscription.account_id.in_(bindparam("accounts", expanding=True))
)
# A run's batch on PostgreSQL: its states and changes in one round trip (db/rows.py).
_DUE_STATES_ANY = _state_query().where(
    any_ids(Subscription.account_id, "accounts"),
    Subscription.next_charge_date <= bindparam("due_by"),
)
_DUE_CHANGES_ANY = _changes_query().where(any_ids(Subscription.account_id, "accounts"))
_PREVIEW_CHANGES = _changes_query().where(Subscription.account_id == bindparam("account_id"))
_CHANGES_BY_ID = _changes_query().where(Subscription.id.in_(bindparam("ids", expanding=True)))
_CHANGES_BY_ID_ANY = _changes_query().where(any_ids(Subscription.id, "ids"))


def subscription_states(
    session: Session,
    account_ids: Sequence[int],
    subscription_ids: Sequence[int] | None = None,
    due_by: date | None = None,
) -> dict[int, list[SubscriptionState]]:
    """The engine's inputs per account: terms and billed state of each subscription
    that still has something to bill (optionally only those with a charge due by `due_by`)."""
    params: dict[str, Any] = {"accounts": list(account_ids)}
    if subscription_ids is None and due_by is not None and driver.is_postgres(session):
        params["due_by"] = due_by
        queries = (_DUE_STATES_ANY, _DUE_CHANGES_ANY)
        rows, changes = fetch_rows(session, *((query, params) for query in queries))
    else:
        query = _OWING_STATES
        if subscription_ids is not None:
            query = query.where(Subscription.id.in_(subscription_ids))
        if due_by is not None:
            query = query.where(Subscription.next_charge_date <= due_by)
        # Core, not the ORM: plain columns, no identity map, thousands of rows a batch.
        connection = session.connection()
        rows, changes = (connection.execute(q, params).all() for q in (query, _OWING_CHANGES))
    states: dict[int, list[SubscriptionState]] = defaultdict(list)
    for state in states_of(rows, changes, history_for(session, rows)).values():
        states[state[0].account_id].append(state)
    return states


def preview_queries(account_id: int) -> tuple[Query, ...]:
    """What a preview reads: the account's terms, its owing subscriptions and their
    changes (fetch them with db/rows.py or db/loop_reads.py, then the history of
    `history_queries` of the subscriptions' rows, and read them with `preview_inputs`)."""
    wanted = {"account_id": account_id}
    return tuple((query, wanted) for query in (_TERMS, _PREVIEW_STATES, _PREVIEW_CHANGES))


def preview_inputs(
    fetched: Sequence[Sequence[Any]], history: History
) -> tuple[AccountTerms, list[tuple[SubscriptionState, Any]]] | None:
    """The rows of `preview_queries` as the account's terms, and each of its owing
    subscriptions' engine inputs with its row (which has the subscription's own columns
    too); None if there is no such account."""
    accounts, rows, changes = fetched
    if not accounts:
        return None
    states = states_of([row[:_STATE_WIDTH] for row in rows], changes, history)
    return account_terms(accounts[0]), [(states[row.id], row) for row in rows]


def states_of(
    rows: Sequence[Sequence[Any]], changes: Sequence[Any], history: History
) -> dict[int, SubscriptionState]:
    """Each subscription's engine inputs, by id, from its row, changes and history."""
    changes_of: dict[int, list[ScheduledChange]] = defaultdict(list)
    for change in changes:
        plan = _plan(change) if change.plan_option_id is not None else None
        changes_of[change.subscription_id].append(
            ScheduledChange(change.effective_date, change.quantity, plan)
        )
    facts_of: dict[int, list[BilledRun]] = defaultdict(list)
    for fact in history.facts:
        facts_of[fact.subscription_id].append(
            BilledRun(
                fact.billing_period_start,
                fact.period_start,
                fact.period_end,
                _plan(fact),
                fact.quantity,
                _KINDS[fact.kind],
                fact.invoice_id,
                applied_rate(fact.invoice_tax_treatment, fact.invoice_tax_rate),
            )
        )
    usage_of: dict[int, list[UnbilledUsage]] = defaultdict(list)
    meters_of: dict[int, dict[str, Meter]] = defaultdict(dict)
    for record in history.usage:
        usage_of[record.subscription_id].append(
            UnbilledUsage(
                record.id, record.code, record.quantity, record.occurred_on, record.received_on
            )
        )
        meters_of[record.subscription_id][record.code] = Meter(
            record.meter_id,
            record.pricing_option_id,
            record.code,
            record.name,
            record.unit,
            record.unit_price,
        )
    states = {}
    for row in rows:
        sub_id = row[0]
        state = _state_of_row(row, changes_of.get(sub_id, ()), facts_of.get(sub_id, ()))
        if sub_id in usage_of:
            terms, billed = state
            metered = replace(
                terms,
                meters=tuple(meters_of[sub_id].values()),
                usage=tuple(usage_of[sub_id]),
            )
            state = (metered, billed)
        states[sub_id] = state
    return states


def _plan(row: Any) -> Plan:
    return Plan(
        row.plan_option_id,
        row.plan_product_id,
        row.plan_product_name,
        row.plan_taxable,
        row.plan_unit_price,
    )


def _state_of_row(
    row: Sequence[Any], changes: Sequence[ScheduledChange], facts: Sequence[BilledRun]
) -> SubscriptionState:
    """The engine's view of one row of `_state_query` (unpacked by position: this runs
    for every subscription of every batch and preview)."""
    (
        sub_id,
        account_id,
        quantity,
        start_date,
        end_date,
        status,
        billed_until,
        setup_billed,
        one_time_billed,
        product_id,
        product_name,
        taxable,
        currency,
        billing_period,
        billing_type,
        unit_price,
        setup_fee,
        option_billing_day,
        account_billing_day,
        partial_charges,
        anniversary_billing,
        option_id,
        usage_delay_days,
        billing_seq,
        _reconcile_from,
    ) = row
    terms = SubscriptionTerms(
        subscription_id=sub_id,
        account_id=account_id,
        product_id=product_id,
        product_name=product_name,
        taxable=taxable,
        currency=currency,
        cycle=_CYCLES[billing_period],
        billing_type=_BILLING_TYPES[billing_type],
        unit_price=unit_price,
        setup_fee=setup_fee,
        quantity=quantity,
        start_date=start_date,
        billing_day=effective_billing_day(
            anniversary_billing, option_billing_day, account_billing_day
        ),
        partial_charges=_PARTIAL_CHARGES[partial_charges],
        end_date=end_date,
        suspended=status == SubscriptionStatus.SUSPENDED,
        option_id=option_id,
        changes=tuple(changes),
        usage_delay_days=usage_delay_days,
    )
    return terms, _billed(billed_until, setup_billed, one_time_billed, tuple(facts), billing_seq)


def effective_billing_day(
    anniversary_billing: bool, option_billing_day: int | None, account_billing_day: int | None
) -> int | None:
    """SPEC §2, §12: the option's billing day, else the account's; none (each
    subscription's own start day) for an option excluded from alignment."""
    if anniversary_billing:
        return None
    return option_billing_day if option_billing_day is not None else account_billing_day


# Enum lookups by value, without Enum.__call__'s overhead on the hot path.
_CYCLES = {c.value: c for c in BillingCycle}
_BILLING_TYPES = {t.value: t for t in BillingType}
_PARTIAL_CHARGES = {p.value: p for p in PartialCharges}
_KINDS = {k.value: k for k in ChargeKind}
_NOTHING_ONCE: frozenset[ChargeKind] = frozenset()
# The kinds that may bill a first day again (see BilledPeriod.repeat_key).
_REPEATABLE = frozenset({ChargeKind.ADJUSTMENT, ChargeKind.USAGE})


_TERMS_AND_NEXT_BY_ID = _state_query().add_columns(Subscription.next_charge_date)


def terms_and_next_dates(
    session: Session, subscription_ids: Sequence[int]
) -> dict[int, tuple[SubscriptionTerms, date | None]]:
    """Each subscription's terms without its history or changes (for what depends only on
    its schedule), and its next charge date."""
    found = {}
    for row in session.execute(
        _TERMS_AND_NEXT_BY_ID.where(Subscription.id.in_(subscription_ids))
    ).all():
        terms, _ = _state_of_row(row[:_STATE_WIDTH], (), ())
        found[terms.subscription_id] = (terms, row.next_charge_date)
    return found


def subscription_state(session: Session, subscription_id: int) -> SubscriptionState:
    """One subscription's engine inputs, whether or not it still owes anything."""
    return states_by_id(session, [subscription_id])[subscription_id]


def states_by_id(session: Session, subscription_ids: Sequence[int]) -> dict[int, SubscriptionState]:
    """The engine inputs of those of `subscription_ids` that exist, whatever their account
    and whether or not they still owe anything."""
    rows, changes = fetch_rows(session, *states_by_id_queries(session, subscription_ids))
    return states_of(rows, changes, history_for(session, rows))


def states_by_id_queries(session: Session, subscription_ids: Sequence[int]) -> list[Query]:
    """`states_by_id`'s queries, to fetch along with others (see db/rows.py) and read
    with `states_of`."""
    postgres = driver.is_postgres(session)
    queries = (
        (_STATES_BY_ID_ANY, _CHANGES_BY_ID_ANY) if postgres else (_STATES_BY_ID, _CHANGES_BY_ID)
    )
    wanted = {"ids": list(subscription_ids)}
    return [(query, wanted) for query in queries]


def _billed(
    recurring_until: date | None,
    setup_billed: bool,
    one_time_billed: bool,
    facts: tuple[BilledRun, ...],
    version: int,
) -> BilledState:
    if not (setup_billed or one_time_billed):
        return BilledState(recurring_until, _NOTHING_ONCE, facts, version)
    once = {ChargeKind.SETUP} if setup_billed else set()
    if one_time_billed:
        once.add(ChargeKind.ONE_TIME)
    return BilledState(recurring_until, frozenset(once), facts, version)


# Who asked for an automatic e-mail of a document a billing run issued.
AUTO_SEND_ACTOR = "auto-send"

# An invoice's number until the end of its issuing transaction (never committed).
PROVISIONAL = "DRAFT-{}"


@dataclass(frozen=True)
class Issuing:
    """An issuing transaction's documents as written; their numbers are taken by the
    transaction's last statements and known once the unit of work has committed."""

    invoices: list[IssuedInvoice]  # numbered DRAFT-… until then
    numbering: list[tuple[list[int], Callable[[], list[str]]]]

    def numbered(self) -> list[IssuedInvoice]:
        """The documents with their numbers (after the commit)."""
        numbers = {i: n for ids, taken in self.numbering for i, n in zip(ids, taken(), strict=True)}
        return [invoice.numbered(numbers[invoice.id]) for invoice in self.invoices]


def issue_invoices(
    session: Session,
    drafts: Sequence[PendingInvoice],
    terms_by_subscription: dict[int, SubscriptionState],
    source: InvoiceSource,
    generated_by: str | None = None,
    billing_run_id: int | None = None,
) -> Issuing:
    """Write drafts exactly as previewed, with numbers, the ledger and the cursors, as
    the transaction's final writes (db/final_writes.py): the unit of work sends them
    with its COMMIT, and the caller's own final writes follow them.

    Ids are reserved first so that each table is written in one statement (see
    db/driver.py): a batch costs a handful of round trips, not one per item.
    The ledger's keys make a second issue of anything fail the whole transaction.
    """
    if not drafts:
        return Issuing([], [])
    charges = [charge for draft in drafts for charge in draft.items]
    invoice_ids, item_ids = driver.reserve_ids(
        session, (Invoice, len(drafts)), (InvoiceItem, len(charges))
    )
    seller = identities.seller(session) or NO_SELLER
    issued = [
        issued_invoice(
            i, PROVISIONAL.format(i), draft, source, generated_by, billing_run_id, seller
        )
        for i, draft in zip(invoice_ids, drafts, strict=True)
    ]
    placed = [
        (invoice.id, position, item)
        for invoice in issued
        for position, item in enumerate(invoice.items, start=1)
    ]
    writes = writes_of(session)
    writes.insert(Invoice, [_invoice_row(invoice) for invoice in issued])
    # Accounts that send automatically get their e-mails queued with the documents.
    delivery.queue_automatic(writes, invoice_ids, generated_by or AUTO_SEND_ACTOR)
    writes.insert(
        InvoiceItem,
        [_item_row(item_id, *where) for item_id, where in zip(item_ids, placed, strict=True)],
    )
    cursors = _advanced_cursors(charges, terms_by_subscription)
    seq_of = {row["id"]: row["billing_seq"] for row in cursors}
    opened: set[int] = set()  # the subscriptions whose first fact of this billing is written
    facts: list[dict[str, object]] = []
    for c, item_id in zip(charges, item_ids, strict=True):
        facts.append(
            {
                "invoice_item_id": item_id,
                "subscription_id": c.subscription_id,
                "kind": c.kind.value,
                "period_start": c.period_start,
                "period_end": c.period_end,
                "billing_period_start": c.billing_period_start or c.period_start,
                "pricing_option_id": c.option_id,
                "quantity": c.quantity,
                "billing_seq": seq_of[c.subscription_id],
                "first_of_billing": c.subscription_id not in opened,
                "repeat_key": item_id if c.kind in _REPEATABLE else 0,
            }
        )
        opened.add(c.subscription_id)
    writes.insert(BilledPeriod, facts)
    # Each usage record names the item that billed it (SPEC §13).
    writes.update(
        UsageRecord,
        [
            {"id": record_id, "invoice_item_id": item_id}
            for c, item_id in zip(charges, item_ids, strict=True)
            if c.usage is not None
            for record_id in c.usage.record_ids
        ],
    )
    writes.update(Subscription, cursors)
    by_series: dict[tuple[str, int], list[int]] = defaultdict(list)
    for invoice in issued:
        by_series[SERIES[InvoiceType(invoice.type)], invoice.issue_date.year].append(invoice.id)
    numbering = [
        (ids, number_invoices(writes, series, year, ids))
        for (series, year), ids in sorted(by_series.items())
    ]
    return Issuing(issued, numbering)


def issue_credit_note(session: Session, note: IssuedInvoice) -> Issuing:
    """Write a credit note made outside the engine (a void's, services/payments.py), now,
    and number it in the CN series as the transaction's final write. No ledger facts:
    the days its invoice billed stay billed, so nothing is billed for them again."""
    [note_id], item_ids = driver.reserve_ids(session, (Invoice, 1), (InvoiceItem, len(note.items)))
    # Named as seller and account are now, when it is issued.
    seller = identities.seller(session) or NO_SELLER
    buyer = account_terms(session.execute(_TERMS, {"account_id": note.account_id}).one()).buyer
    issued = replace(
        note, id=note_id, number=PROVISIONAL.format(note_id), seller=seller, buyer=buyer
    )
    driver.insert_rows(session, Invoice, [_invoice_row(issued)])
    driver.insert_rows(
        session,
        InvoiceItem,
        [
            _item_row(item_id, note_id, position, item)
            for position, (item_id, item) in enumerate(zip(item_ids, note.items, strict=True), 1)
        ],
    )
    series = SERIES[InvoiceType(note.type)]
    numbering = number_invoices(writes_of(session), series, note.issue_date.year, [note_id])
    return Issuing([issued], [([note_id], numbering)])


def _invoice_row(invoice: IssuedInvoice) -> dict[str, object]:
    row = dict(zip(_INVOICE_COLUMNS, _invoice_values(invoice), strict=True))
    row["seller"] = None if invoice.seller is None else seller_record(invoice.seller)
    row["buyer"] = None if invoice.buyer is None else buyer_record(invoice.buyer)
    return row


def _item_row(item_id: int, invoice_id: int, position: int, item: IssuedItem) -> dict[str, object]:
    return dict(
        zip(_ITEM_ROW_COLUMNS, (item_id, invoice_id, position, *_item_values(item)), strict=True)
    )


# The stored columns of an issued invoice and item (nothing is paid at issue), read
# by one attrgetter each: a run writes tens of thousands of rows.
_INVOICE_COLUMNS = [
    f.name for f in fields(IssuedInvoice) if f.name not in ("items", "paid_at", "amount_paid")
]
_ITEM_COLUMNS = [f.name for f in fields(IssuedItem)]
_ITEM_ROW_COLUMNS = ["id", "invoice_id", "position", *_ITEM_COLUMNS]
_invoice_values = attrgetter(*_INVOICE_COLUMNS)
_item_values = attrgetter(*_ITEM_COLUMNS)


def _advanced_cursors(
    charges: Sequence[Charge], states: dict[int, SubscriptionState]
) -> list[dict[str, Any]]:
    """Each charged subscription's billed state after `charges`, as its new row values:
    the next billing of it (its key in the ledger, see BilledPeriod), the billed prefix, what
    is left to reconcile and when it is next due."""
    issued: dict[int, list[Charge]] = defaultdict(list)
    for charge in charges:
        issued[charge.subscription_id].append(charge)
    rows: list[dict[str, Any]] = []
    for sub_id, sub_charges in issued.items():
        terms, billed = states[sub_id]
        after = billed.after(sub_charges)
        if terms.usage:
            terms = terms.without_records(
                record_id for c in sub_charges if c.usage for record_id in c.usage.record_ids
            )
        rows.append(
            {
                "id": sub_id,
                "billing_seq": billed.version + 1,
                "recurring_billed_until": after.recurring_until,
                "setup_billed": ChargeKind.SETUP in after.once,
                "one_time_billed": ChargeKind.ONE_TIME in after.once,
                "reconcile_from": first_period_to_correct(terms, after),
                "next_charge_date": next_planned_issue_date(terms, after),
            }
        )
    return rows
