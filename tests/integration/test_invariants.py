"""Exactly once, whatever the interleaving (SPEC §5–§7), on SQLite and PostgreSQL.

Hypothesis draws a catalogue, accounts and subscriptions, then plays over more
than two years an interleaving of billing runs, cancellations, manual
generations for random selections and single-subscription generations. After
each manual generation and at the horizon the books are checked:

(a) every recurring period is billed once, and the billed periods of each
    subscription tile its service from the start with no gap, period for
    period and amount for amount as the pure engine lays them out;
(b) a manual generation issues exactly the items its preview showed, with
    totals recomputed over the merged items (identical totals when the preview
    was one pending invoice);
(c) after a run as of the horizon nothing due remains, and a second run issues
    nothing;
(d) invoice numbers are unique and gap-free per year;
(e) every invoice's subtotal is the sum of its items and total = subtotal + tax.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise, takewhile

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from recur.db.models import Invoice
from recur.db.session import Database
from recur.domain.calendar import add_months
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    CancelAt,
    ChargeKind,
    InvoiceGrouping,
    PartialCharges,
)
from recur.domain.charges import BilledState, Charge, SubscriptionTerms, unbilled_charges
from recur.domain.errors import Conflict
from recur.domain.invoices import PendingInvoice
from recur.services.billing_run import run_billing
from recur.services.invoicing import (
    generate_for_account,
    generate_for_subscription,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription

from .books import assert_books_balanced, stored_as_answered
from .factories import (
    ACTOR,
    LedgerRow,
    account,
    invoices,
    item_key,
    items,
    ledger,
    money,
    product,
    subscribe,
    subscription_row,
    wipe,
)

START = date(2027, 1, 1)
HORIZON = date(2029, 2, 15)  # more than 24 months after the first start
CURRENCIES = ("EUR", "JPY", "KWD")
PRICES = {
    "EUR": ["9.99", "12.50", "20.00", "0.03", "100.00", "33.33"],
    "JPY": ["1000", "1165", "990", "12345"],
    "KWD": ["1.2345", "12.345", "0.500", "7.125"],
}
TAX_RATES = ["0", "24", "7.5", "10", "17.25"]


@dataclass(frozen=True)
class ProductPlan:
    cycle: BillingCycle
    billing_type: BillingType
    setup_fee: bool
    taxable: bool
    terms_per_cycle: int
    auto_renew: bool
    billing_day: int | None
    prices: dict[str, str]


@dataclass(frozen=True)
class AccountPlan:
    currency: str
    billing_day: int | None
    partial_charges: PartialCharges
    grouping: InvoiceGrouping
    tax_rate: str


@dataclass
class Sub:
    """A created subscription, as the test ordered it."""

    id: int
    account: int
    product: int
    plan: ProductPlan
    account_plan: AccountPlan
    quantity: int
    start: date
    auto_renew: bool
    cancelled_on: date | None = None


@dataclass
class World:
    accounts: dict[int, AccountPlan] = field(default_factory=dict)
    subs: dict[int, Sub] = field(default_factory=dict)

    def subs_of(self, account_id: int) -> list[Sub]:
        return [s for s in self.subs.values() if s.account == account_id]


products_st = st.builds(
    ProductPlan,
    cycle=st.sampled_from(
        [BillingCycle.MONTHLY, BillingCycle.QUARTERLY, BillingCycle.ANNUAL, BillingCycle.ONE_TIME]
    ),
    # Priced options: a usage option's price is its meters' (tests of usage billing).
    billing_type=st.sampled_from([BillingType.PREPAID, BillingType.POSTPAID]),
    setup_fee=st.booleans(),
    taxable=st.booleans(),
    terms_per_cycle=st.integers(1, 3),
    auto_renew=st.booleans(),
    billing_day=st.none() | st.integers(1, 28),
    prices=st.fixed_dictionaries({c: st.sampled_from(PRICES[c]) for c in CURRENCIES}),
)
accounts_st = st.builds(
    AccountPlan,
    currency=st.sampled_from(CURRENCIES),
    billing_day=st.none() | st.integers(1, 28),
    partial_charges=st.sampled_from(PartialCharges),
    grouping=st.sampled_from(InvoiceGrouping),
    tax_rate=st.sampled_from(TAX_RATES),
)


# --- the scenario --------------------------------------------------------------


def build_catalogue(db: Database, plans: list[ProductPlan]) -> dict[tuple[int, str], int]:
    """One product per plan, one pricing option per currency: (plan, currency) → option."""
    options = {}
    for index, plan in enumerate(plans):
        for currency in CURRENCIES:
            setup = {"EUR": "50.00", "JPY": "5000", "KWD": "2.500"}[currency]
            options[index, currency] = product(
                db,
                f"Product {index}",
                cycle=plan.cycle,
                billing_type=plan.billing_type,
                unit_price=plan.prices[currency],
                currency=currency,
                setup_fee=setup if plan.setup_fee else "0",
                taxable=plan.taxable,
                term_months=plan.cycle.months * plan.terms_per_cycle,
                auto_renew=plan.auto_renew,
                billing_day=plan.billing_day,
            )
    return options


def order_subscriptions(
    db: Database, data: st.DataObject, world: World, plans: list[ProductPlan]
) -> None:
    options = build_catalogue(db, plans)
    account_ids = list(world.accounts)
    for _ in range(data.draw(st.integers(1, 6), label="subscriptions")):
        acct = data.draw(st.sampled_from(account_ids), label="account")
        index = data.draw(st.integers(0, len(plans) - 1), label="product")
        plan, account_plan = plans[index], world.accounts[acct]
        start = START + timedelta(days=data.draw(st.integers(0, 150), label="start"))
        quantity = data.draw(st.integers(1, 4), label="quantity")
        renew = data.draw(st.sampled_from([None, False]), label="auto_renew")
        option = options[index, account_plan.currency]
        sub_id = subscribe(db, acct, option, start, quantity, auto_renew=renew)
        auto_renew = plan.auto_renew if renew is None else renew
        world.subs[sub_id] = Sub(
            sub_id, acct, index, plan, account_plan, quantity, start, auto_renew
        )


def draw_events(data: st.DataObject, world: World) -> list[tuple[date, int, str, object]]:
    """(day, order within the day, what, argument), sorted: runs as of increasing days."""

    def day(label: str) -> date:
        return START + timedelta(
            days=data.draw(st.integers(0, (HORIZON - START).days), label=label)
        )

    events: list[tuple[date, int, str, object]] = []
    for sub_id in world.subs:
        if data.draw(st.integers(0, 3), label="cancel?") == 0:
            events.append((day("cancel on"), 0, "cancel", sub_id))
    for _ in range(data.draw(st.integers(0, 5), label="manual generations")):
        events.append(
            (day("manual on"), 1, "manual", data.draw(st.sampled_from(list(world.accounts))))
        )
    for _ in range(data.draw(st.integers(0, 3), label="single generations")):
        events.append((day("single on"), 2, "single", data.draw(st.sampled_from(list(world.subs)))))
    for _ in range(data.draw(st.integers(1, 8), label="runs")):
        events.append((day("run as of"), 3, "run", None))
    return sorted(events, key=lambda e: (e[0], e[1]))


# --- the steps -----------------------------------------------------------------


def cancel(db: Database, data: st.DataObject, world: World, sub_id: int, today: date) -> None:
    sub = world.subs[sub_id]
    at = data.draw(st.sampled_from(CancelAt), label="cancel at")
    before = subscription_row(db, sub_id).end_date
    if before is not None and before <= today:
        with pytest.raises(Conflict) as refused:
            cancel_subscription(db, sub_id, at, today, ACTOR)
        assert refused.value.code == "already_ended"
        return
    after = cancel_subscription(db, sub_id, at, today, ACTOR).end_date
    sub.cancelled_on = today
    if today < sub.start:
        assert after == sub.start  # never started: nothing of it is billed
    elif at is CancelAt.NOW or sub.plan.cycle is BillingCycle.ONE_TIME:
        # A one-time price has no period to run to the end of: it ends today.
        assert after == (today if before is None else min(today, before))
    else:
        assert after is not None
        assert today < after <= add_months(today, sub.plan.cycle.months)


def pending_subs(db: Database, subs: list[Sub], today: date) -> dict[int, list[PendingInvoice]]:
    return {s.id: pending_for_subscription(db, s.id, today) for s in subs}


def manual(db: Database, data: st.DataObject, world: World, account_id: int, today: date) -> None:
    previews = pending_subs(db, world.subs_of(account_id), today)
    candidates = sorted(sid for sid, preview in previews.items() if preview)
    idle = sorted(sid for sid, preview in previews.items() if not preview)
    if idle and data.draw(st.integers(0, 4), label="try an idle one") == 0:
        refused_selection = [*candidates[:1], data.draw(st.sampled_from(idle))]
        before = len(ledger(db))
        with pytest.raises(Conflict) as refused:
            generate_for_account(db, account_id, refused_selection, today, ACTOR)
        assert refused.value.code == "nothing_pending"
        assert len(ledger(db)) == before
    if not candidates:
        return
    selection = data.draw(
        st.lists(st.sampled_from(candidates), min_size=1, unique=True), label="selection"
    )
    account_preview = pending_for_account(db, account_id, today)
    issued = stored_as_answered(db, generate_for_account(db, account_id, selection, today, ACTOR))
    check_generation(
        world, account_id, selection, previews, account_preview.invoices, issued, today
    )


def single(db: Database, world: World, sub_id: int, today: date) -> None:
    previews = pending_subs(db, [world.subs[sub_id]], today)
    if not previews[sub_id]:
        return
    account_id = world.subs[sub_id].account
    issued = stored_as_answered(db, generate_for_subscription(db, sub_id, today, ACTOR))
    check_generation(world, account_id, [sub_id], previews, previews[sub_id], issued, today)


def run(db: Database, as_of: date) -> tuple[int, int]:
    billing_run = run_billing(db, as_of, today=as_of, triggered_by=ACTOR)
    assert billing_run.status == "completed"
    assert billing_run.errors_count == 0
    return billing_run.invoices_issued, billing_run.charges_issued


# --- the checks ----------------------------------------------------------------


def preview_key(charge: Charge) -> tuple[int, str, str, date, date, int, Decimal, Decimal]:
    return (
        charge.subscription_id,
        charge.kind.value,
        charge.description,
        charge.period_start,
        charge.period_last_day,
        charge.quantity,
        charge.unit_price,
        charge.amount,
    )


def check_generation(
    world: World,
    account_id: int,
    selection: list[int],
    previews: dict[int, list[PendingInvoice]],
    account_preview: list[PendingInvoice],
    issued: list[Invoice],
    today: date,
) -> None:
    """(b) what a manual generation issued is what the preview showed."""
    plan = world.accounts[account_id]
    shown = Counter(preview_key(c) for sid in selection for inv in previews[sid] for c in inv.items)
    from_account_view = Counter(
        preview_key(c)
        for inv in account_preview
        for c in inv.items
        if c.subscription_id in selection
    )
    assert shown == from_account_view, "the account and subscription views disagree"
    assert Counter(item_key(i) for inv in issued for i in inv.items) == shown

    group_of = {
        InvoiceGrouping.CONSOLIDATED: lambda sid: 0,
        InvoiceGrouping.PER_PRODUCT: lambda sid: world.subs[sid].product,
        InvoiceGrouping.PER_SUBSCRIPTION: lambda sid: sid,
    }[plan.grouping]
    # One document per group and type: credits (a cancellation's) go on credit notes.
    documents = {
        (group_of(c.subscription_id), c.amount < 0)
        for sid in selection
        for inv in previews[sid]
        for c in inv.items
    }
    assert len(issued) == len(documents)
    for invoice in issued:
        assert len({group_of(i.subscription_id) for i in invoice.items}) == 1
        assert (invoice.issue_date, invoice.source) == (today, "manual")
        credit = invoice.type == "credit"
        assert all((Decimal(i.amount) < 0) == credit for i in invoice.items)
        assert invoice.due_date == today + timedelta(days=0 if credit else 30)
        assert invoice.currency == plan.currency
        subtotal = sum((Decimal(i.amount) for i in invoice.items), Decimal(0))
        taxable = sum(
            (
                Decimal(i.amount)
                for i in invoice.items
                if world.subs[i.subscription_id].plan.taxable
            ),
            Decimal(0),
        )
        tax = money(taxable * Decimal(plan.tax_rate) / 100, plan.currency)
        assert (invoice.subtotal, invoice.tax, invoice.total) == (subtotal, tax, subtotal + tax)

    touched = [
        inv for inv in account_preview if {c.subscription_id for c in inv.items} & set(selection)
    ]
    if len(touched) == 1 and set(touched[0].subscription_ids) <= set(selection):
        (only,) = issued
        totals = touched[0].totals
        assert (only.subtotal, only.tax, only.total) == (totals.subtotal, totals.tax, totals.total)


def engine_terms(sub: Sub, end_date: date | None) -> SubscriptionTerms:
    plan, acct = sub.plan, sub.account_plan
    return SubscriptionTerms(
        subscription_id=sub.id,
        account_id=sub.account,
        product_id=sub.product,
        product_name=f"Product {sub.product}",
        taxable=plan.taxable,
        currency=acct.currency,
        cycle=plan.cycle,
        billing_type=plan.billing_type,
        unit_price=Decimal(plan.prices[acct.currency]),
        setup_fee=Decimal({"EUR": "50.00", "JPY": "5000", "KWD": "2.500"}[acct.currency])
        if plan.setup_fee
        else Decimal(0),
        quantity=sub.quantity,
        start_date=sub.start,
        billing_day=plan.billing_day if plan.billing_day is not None else acct.billing_day,
        partial_charges=acct.partial_charges,
        end_date=end_date,
    )


def recurring_schedule(terms: SubscriptionTerms) -> list[Charge]:
    """The engine's recurring charges from the start, as far as the test can bill ahead
    (each manual generation may move an annual subscription one more year on)."""
    charges = unbilled_charges(terms, BilledState())
    within = takewhile(lambda c: c.period_start <= add_months(HORIZON, 12 * 10), charges)
    return [c for c in within if c.kind is ChargeKind.RECURRING]


def check_ledger_tiles_service(db: Database, world: World) -> None:
    """(a) the billed periods of each subscription, against the pure engine."""
    rows = ledger(db)
    stored = {i.id: i for i in items(db)}
    issued_on = {inv.id: inv.issue_date for inv in invoices(db)}
    for sub in world.subs.values():
        end_date = subscription_row(db, sub.id).end_date
        uncancelled_end = None
        if not sub.auto_renew and sub.plan.cycle is not BillingCycle.ONE_TIME:
            uncancelled_end = add_months(
                sub.start, sub.plan.cycle.months * sub.plan.terms_per_cycle
            )
        if sub.cancelled_on is None:
            assert end_date == uncancelled_end
        ordered = engine_terms(sub, uncancelled_end)
        current = engine_terms(sub, end_date)
        due = list(
            takewhile(
                lambda c: c.planned_issue_date <= HORIZON, unbilled_charges(current, BilledState())
            )
        )
        mine = [r for r in rows if r.subscription_id == sub.id]
        recurring = sorted((r for r in mine if r.kind == "recurring"), key=lambda r: r.period_start)
        once = {r.kind for r in mine if r.kind not in ("recurring", "adjustment")}
        # A cancellation's credit of a period billed ahead is due on the end date, which
        # may fall after the horizon: pending then, and counted as it will be issued.
        credits = [
            (c.period_start, c.period_last_day, c.quantity)
            for invoice in pending_for_subscription(db, sub.id, HORIZON)
            for c in invoice.items
            if c.kind is ChargeKind.ADJUSTMENT
        ]
        billed = [
            (i.period_start, i.period_end, i.quantity)
            for i in (stored[r.invoice_item_id] for r in mine)
            if i.kind in ("recurring", "adjustment")
        ]
        check_net_days(sub, end_date, billed + credits, recurring)

        assert {c.kind.value for c in due if c.kind is not ChargeKind.RECURRING} <= once
        assert once <= {"setup"} | (
            {"one_time"} if sub.plan.cycle is BillingCycle.ONE_TIME else set()
        )
        if sub.plan.cycle is BillingCycle.ONE_TIME:
            assert recurring == []
            continue
        # No gap, no overlap: each billed period starts where the previous one ended.
        if recurring:
            assert recurring[0].period_start == sub.start
        for earlier, later in pairwise(recurring):
            assert earlier.period_end == later.period_start
        # Period for period, the schedule the engine lays out (a period billed after
        # the cancellation is clipped at the new end date).
        expected = recurring_schedule(ordered)
        clipped = {c.period_start: c for c in recurring_schedule(current)}
        for row, charge in zip(recurring, expected, strict=False):
            assert row.period_start == charge.period_start
            item = stored[row.invoice_item_id]
            billed_after_cancel = (
                sub.cancelled_on is not None and issued_on[item.invoice_id] >= sub.cancelled_on
            )
            reference = clipped[row.period_start] if billed_after_cancel else charge
            assert row.period_end == reference.period_end
            assert Decimal(item.amount) == reference.amount
            assert item.quantity == sub.quantity
        assert len(recurring) <= len(expected)
        # Everything planned by the horizon is billed.
        billed_starts = {r.period_start for r in recurring}
        assert {c.period_start for c in due if c.kind is ChargeKind.RECURRING} <= billed_starts


def check_net_days(
    sub: Sub,
    end_date: date | None,
    billed: list[tuple[date, date, int]],
    recurring: list[LedgerRow],
) -> None:
    """Day by day, what is billed net (periods, less credits: each (first day, last day,
    quantity)) is the quantity in service: a period billed ahead of a cancellation is
    credited from the end date on (SPEC §11)."""
    net: Counter[date] = Counter()
    for first, last_day, quantity in billed:
        day = first
        while day <= last_day:
            net[day] += quantity
            day += timedelta(days=1)
    if not recurring:
        assert all(quantity == 0 for quantity in net.values())
        return
    day, last = recurring[0].period_start, recurring[-1].period_end
    while day < last:
        in_service = end_date is None or day < end_date
        assert net[day] == (sub.quantity if in_service else 0), (sub.id, day)
        day += timedelta(days=1)


def check_nothing_due_at_horizon(db: Database, world: World) -> None:
    """(c) after the run as of the horizon, only later charges are pending."""
    for account_id in world.accounts:
        for invoice in pending_for_account(db, account_id, HORIZON).invoices:
            assert all(c.planned_issue_date > HORIZON for c in invoice.items)
    count = len(invoices(db))
    assert run(db, HORIZON) == (0, 0)
    assert len(invoices(db)) == count


# --- the property --------------------------------------------------------------


@settings(
    max_examples=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_period_is_billed_exactly_once(db: Database, data: st.DataObject) -> None:
    wipe(db)
    world = World()
    plans = data.draw(st.lists(products_st, min_size=1, max_size=4), label="products")
    for plan in data.draw(st.lists(accounts_st, min_size=1, max_size=3), label="accounts"):
        acct = account(
            db,
            currency=plan.currency,
            billing_day=plan.billing_day,
            partial_charges=plan.partial_charges,
            grouping=plan.grouping,
            tax_rate=plan.tax_rate,
        )
        world.accounts[acct] = plan
    order_subscriptions(db, data, world, plans)

    for today, _, what, argument in draw_events(data, world):
        if what == "cancel":
            cancel(db, data, world, argument, today)  # type: ignore[arg-type]
        elif what == "manual":
            manual(db, data, world, argument, today)  # type: ignore[arg-type]
        elif what == "single":
            single(db, world, argument, today)  # type: ignore[arg-type]
        else:
            run(db, today)
    run(db, HORIZON)

    check_nothing_due_at_horizon(db, world)
    check_ledger_tiles_service(db, world)
    assert_books_balanced(db)
