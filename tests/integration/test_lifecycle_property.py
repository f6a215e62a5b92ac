"""Every day billed, net, exactly once, whatever changes (SPEC §6, §10–§12), on both databases.

Hypothesis draws a catalogue (monthly or quarterly, prepaid or postpaid, aligned or
anniversary-billed, groups of two or three options a subscription can switch
between, each with its own price), an account and subscriptions, then plays over
more than two years an interleaving of billing runs, manual generations, quantity
changes and plan switches (now, end of period, on a date), withdrawals of scheduled
changes and cancellations (now, end of period). The test keeps its own account of
what is in force each day (lifecycle.Timeline) and checks:

(a) every change's effective date and every cancellation's end date, as SPEC §10
    and §1 give them, and the refusals of changes at or after the end of service;
(b) every manual generation issues exactly the items its preview showed, and the
    totals the preview showed (recomputed over merged items, tax rounded once);
(c) after a run as of the horizon, every day of every billed period is billed, net,
    at exactly the quantity and option in force that day (every day whose correction
    is due by then: a quarter before the horizon; after a run years later, every
    billed day), and every day in service long enough before the run is billed;
(d) after either run nothing due is left pending, and a second run issues nothing;
(e) documents are whole, credits only on credit notes, INV and CN gap-free per year;
(f) every item is worth quantity × price × its days / its full period's days, and a
    run never issues an item before the date SPEC §4 and §11 plan it for.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from recur.db.models import Invoice
from recur.db.session import Database
from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    CancelAt,
    InvoiceGrouping,
    PartialCharges,
)
from recur.domain.errors import Conflict
from recur.domain.invoices import PendingInvoice
from recur.services.changes import list_changes, withdraw_change
from recur.services.invoicing import (
    generate_for_account,
    generate_for_subscription,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription

from .books import stored_as_answered
from .factories import ACTOR, account, invoices, subscribe, wipe
from .lifecycle import (
    Timeline,
    assert_amounts,
    assert_documents_whole,
    bill,
    billed_per_day,
    change,
    expected_per_day,
    full_period,
    money_signed,
    option,
    period_end_after,
)

D = Decimal
START = date(2027, 1, 1)
HORIZON = date(2029, 2, 15)  # more than 24 months after the first start
FINAL = date(2031, 1, 1)  # past every change and every period billed ahead by then
PRICES = {
    "EUR": ["9.99", "12.50", "20.00", "33.33", "0.03"],
    "JPY": ["990", "1000", "1165", "12345"],
    "KWD": ["1.2345", "12.345", "0.500", "7.125"],
}


@dataclass(frozen=True)
class Plan:
    """A group of options a subscription can switch between."""

    cycle: BillingCycle
    billing_type: BillingType
    anniversary: bool
    taxable: bool
    prices: tuple[str, ...]


@dataclass
class Sub:
    id: int
    plan: Plan
    options: dict[Decimal, int]  # unit price → option: the plan's options
    timeline: Timeline
    cancelled: bool = False


@dataclass
class World:
    account: int
    currency: str
    billing_day: int | None
    tax_rate: Decimal

    grouping: InvoiceGrouping
    partial_charges: PartialCharges
    subs: dict[int, Sub] = field(default_factory=dict)

    def billing_day_of(self, sub: Sub) -> int | None:
        return None if sub.plan.anniversary else self.billing_day

    def group(self, subscription_id: int, unit_price: Decimal) -> int:
        """The document an item goes on, as the account's grouping says (0: one)."""
        if self.grouping is InvoiceGrouping.PER_SUBSCRIPTION:
            return subscription_id
        if self.grouping is InvoiceGrouping.PER_PRODUCT:
            return self.subs[subscription_id].options[unit_price]
        return 0


def plans_st(currency: str) -> st.SearchStrategy[Plan]:
    return st.builds(
        Plan,
        cycle=st.sampled_from([BillingCycle.MONTHLY, BillingCycle.QUARTERLY]),
        billing_type=st.sampled_from([BillingType.PREPAID, BillingType.POSTPAID]),
        anniversary=st.booleans(),
        taxable=st.booleans(),
        prices=st.lists(st.sampled_from(PRICES[currency]), min_size=2, max_size=3, unique=True).map(
            tuple
        ),
    )


def day_st(first: date = START, last: date = HORIZON) -> st.SearchStrategy[date]:
    return st.integers(0, (last - first).days).map(lambda n: first + timedelta(days=n))


# --- the steps -----------------------------------------------------------------------


def make_change(db: Database, data: st.DataObject, world: World, sub: Sub, today: date) -> None:
    timeline = sub.timeline
    what = data.draw(st.sampled_from(["quantity", "switch", "both"]), label="what")
    quantity = None if what == "switch" else data.draw(st.integers(1, 6), label="quantity")
    choices = [sub.options[p] for p in sorted(sub.options)]
    new_option = None if what == "quantity" else data.draw(st.sampled_from(choices), label="to")
    how = data.draw(st.sampled_from(["now", "end_of_period", "date"]), label="effective")
    not_started = today < timeline.start
    if how == "now":
        effective_day = max(today, timeline.start)
        effective = "now"
    elif how == "end_of_period":
        months = sub.plan.cycle.months
        effective_day = (
            timeline.start
            if not_started
            else period_end_after(timeline.start, months, world.billing_day_of(sub), today)
        )
        effective = "end_of_period"
    else:
        effective_day = max(today, timeline.start) + timedelta(
            days=data.draw(st.integers(0, 100), label="days ahead")
        )
        effective = effective_day.isoformat()
    ended = timeline.end is not None and (timeline.end <= today or effective_day >= timeline.end)
    if ended:
        with pytest.raises(Conflict) as refused:
            change(db, sub.id, today, quantity=quantity, option_id=new_option, effective=effective)
        assert refused.value.code == "subscription_ended"
        return
    made = change(db, sub.id, today, quantity=quantity, option_id=new_option, effective=effective)
    assert made.effective_date == effective_day, (how, today)
    assert (made.quantity, made.pricing_option_id) == (quantity, new_option)
    assert made.withdrawable == (effective_day > today)
    timeline.add(made)


def withdraw(db: Database, data: st.DataObject, sub: Sub, today: date) -> None:
    timeline = sub.timeline
    if timeline.end is not None and timeline.end <= today:
        return
    listed = list_changes(db, sub.id, today)
    assert [(c.effective_date, c.quantity, c.pricing_option_id) for c in listed] == [
        (effective, quantity, option_id)
        for effective, _, quantity, option_id in sorted(timeline.changes)
    ]
    future = [c for c in listed if c.effective_date > today]
    assert [c.id for c in listed if c.withdrawable] == [c.id for c in future]
    if not future:
        return
    chosen = data.draw(st.sampled_from(future), label="withdrawn")
    withdraw_change(db, sub.id, chosen.id, today, ACTOR)
    timeline.withdraw(chosen.id)


def cancel(db: Database, data: st.DataObject, world: World, sub: Sub, today: date) -> None:
    at = data.draw(st.sampled_from(CancelAt), label="cancel at")
    timeline = sub.timeline
    if today < timeline.start:
        expected = timeline.start  # never started: nothing of it is billed
    elif at is CancelAt.NOW:
        expected = today
    else:
        months = sub.plan.cycle.months
        expected = period_end_after(timeline.start, months, world.billing_day_of(sub), today)
    ended = cancel_subscription(db, sub.id, at, today, ACTOR).end_date
    assert ended == expected, (at, today)
    timeline.end = expected
    sub.cancelled = True


def manual(db: Database, data: st.DataObject, world: World, today: date) -> None:
    previews = {sid: pending_for_subscription(db, sid, today) for sid in world.subs}
    candidates = sorted(sid for sid, preview in previews.items() if preview)
    if not candidates:
        return
    if data.draw(st.booleans(), label="one subscription"):
        sid = data.draw(st.sampled_from(candidates), label="generated")
        generated = generate_for_subscription(db, sid, today, ACTOR)
        selection = [sid]
    else:
        selection = data.draw(
            st.lists(st.sampled_from(candidates), min_size=1, unique=True), label="selection"
        )
        account_view = pending_for_account(db, world.account, today).invoices
        assert _keys(account_view, set(selection)) == _keys(
            [inv for sid in selection for inv in previews[sid]], set(selection)
        ), "the account and subscription previews disagree"
        generated = generate_for_account(db, world.account, selection, today, ACTOR)
    issued = stored_as_answered(db, generated)
    check_generation(world, [inv for sid in selection for inv in previews[sid]], issued, today)


def _keys(pending: list[PendingInvoice], selection: set[int]) -> Counter[tuple[object, ...]]:
    return Counter(
        (
            str(inv.type),
            c.subscription_id,
            str(c.kind),
            c.description,
            c.explanation,
            c.period_start,
            c.period_last_day,
            c.quantity,
            c.unit_price,
            c.amount,
            c.corrects_invoice_id,
        )
        for inv in pending
        for c in inv.items
        if c.subscription_id in selection
    )


def check_generation(
    world: World, shown: list[PendingInvoice], issued: list[Invoice], today: date
) -> None:
    """(b) the generation issued the preview's items, and its totals."""
    stored = Counter(
        (
            inv.type,
            i.subscription_id,
            i.kind,
            i.description,
            i.explanation,
            i.period_start,
            i.period_end,
            i.quantity,
            D(i.unit_price),
            D(i.amount),
            i.corrects_invoice_id,
        )
        for inv in issued
        for i in inv.items
    )
    assert stored == _keys(shown, set(world.subs))
    # Pending documents of the same type and group (SPEC §5: the account's grouping;
    # each option is a product of its own here) merge into one document today.
    by_group: dict[tuple[str, int], list[PendingInvoice]] = defaultdict(list)
    for pending in shown:
        (group,) = {world.group(c.subscription_id, c.unit_price) for c in pending.items}
        by_group[str(pending.type), group].append(pending)
    issued_groups = []
    for invoice in issued:
        (group,) = {world.group(i.subscription_id, D(i.unit_price)) for i in invoice.items}
        issued_groups.append((invoice.type, group))
    assert sorted(issued_groups) == sorted(by_group)
    for invoice, key in zip(issued, issued_groups, strict=True):
        assert (invoice.issue_date, invoice.source) == (today, "manual")
        assert invoice.due_date == (
            today if invoice.type == "credit" else today + timedelta(days=30)
        )
        subtotal = sum((D(i.amount) for i in invoice.items), D(0))
        taxable = sum((D(i.amount) for i in invoice.items if i.taxable), D(0))
        tax = money_signed(taxable * world.tax_rate / 100, world.currency)
        assert (invoice.subtotal, invoice.tax, invoice.total) == (subtotal, tax, subtotal + tax)
        if len(by_group[key]) == 1:
            totals = by_group[key][0].totals
            assert (invoice.subtotal, invoice.tax, invoice.total) == (
                totals.subtotal,
                totals.tax,
                totals.total,
            )


# --- the checks at the horizon ---------------------------------------------------------


def check_days(db: Database, world: World, as_of: date, before: date) -> None:
    """(c) per day and option, billed net = in force for every billed day before
    `before`; days in service long enough before `as_of` (two quarters) are billed."""
    in_service_by = as_of - timedelta(days=2 * 92)
    for sub in world.subs.values():
        billed = billed_per_day(db, sub.id, sub.options)
        expected = expected_per_day(sub.timeline, sorted(billed))
        wrong = {
            day: (billed[day], expected[day])
            for day in billed
            if day < before and billed[day] != expected[day]
        }
        assert not wrong, f"subscription {sub.id}: (billed, in force) {sorted(wrong.items())[:5]}"
        day = sub.timeline.start
        while day < in_service_by:
            if sub.timeline.in_force(day) is not None:
                assert billed.get(day), f"subscription {sub.id}: {day} in service, not billed"
            day += timedelta(days=1)


def check_nothing_due(db: Database, world: World, as_of: date) -> None:
    """(d) after a run as of `as_of`, only later documents are pending; a second run
    issues nothing."""
    for pending in pending_for_account(db, world.account, as_of).invoices:
        assert pending.issue_date > as_of, pending
    assert bill(db, as_of) == (0, 0)


def planned(world: World, sub: Sub, kind: str, first: date) -> date:
    """The earliest issue date SPEC §4 and §11 allow an item whose days start on `first`:
    the test's own reading of the rules, from its own periods."""
    start, end = sub.timeline.start, sub.timeline.end
    full_begin, full_end = full_period(
        start, sub.plan.cycle.months, world.billing_day_of(sub), first
    )
    begin = max(full_begin, start)  # a partial first period starts with the subscription
    period_end = full_end if end is None else min(full_end, end)
    if sub.plan.billing_type is BillingType.POSTPAID:
        return period_end
    next_billing_day = world.partial_charges is PartialCharges.NEXT_BILLING_DAY
    if kind == "recurring":
        # The period's own date; a partial first period may wait for its end.
        day = period_end if next_billing_day and begin > full_begin else begin
    else:
        # The run's first day; one that starts inside its period may wait for its end.
        day = period_end if next_billing_day and first > begin else first
    return day if end is None else min(day, end)


def check_never_early(db: Database, world: World) -> None:
    """(f) what a run issues, it issues on or after its planned date (a manual generation
    may bill ahead; a run never does)."""
    for invoice in invoices(db):
        if invoice.source != "automatic":
            continue
        for item in invoice.items:
            if item.kind not in ("recurring", "adjustment"):
                continue
            sub = world.subs[item.subscription_id]
            earliest = planned(world, sub, item.kind, item.period_start)
            assert invoice.issue_date >= earliest, (invoice.number, item.kind, item.period_start)


# --- the property ----------------------------------------------------------------------


@settings(
    max_examples=40,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_day_is_billed_net_at_what_is_in_force(db: Database, data: st.DataObject) -> None:
    wipe(db)
    currency = data.draw(st.sampled_from(sorted(PRICES)), label="currency")
    tax_rate = data.draw(st.sampled_from(["0", "20", "7.5"]), label="tax rate")
    billing_day = data.draw(st.none() | st.integers(1, 28), label="billing day")
    grouping = data.draw(st.sampled_from(InvoiceGrouping), label="grouping")
    partial = data.draw(st.sampled_from(PartialCharges), label="partial")
    world = World(
        account(
            db,
            currency=currency,
            billing_day=billing_day,
            partial_charges=partial,
            grouping=grouping,
            tax_rate=tax_rate,
        ),
        currency,
        billing_day,
        D(tax_rate),
        grouping,
        partial,
    )
    plans = data.draw(st.lists(plans_st(currency), min_size=1, max_size=2), label="plans")
    options = [
        {
            D(price): option(
                db,
                f"Plan {n} at {price}",
                price,
                cycle=plan.cycle,
                billing_type=plan.billing_type,
                currency=currency,
                anniversary_billing=plan.anniversary,
                taxable=plan.taxable,
            )
            for price in plan.prices
        }
        for n, plan in enumerate(plans)
    ]
    for _ in range(data.draw(st.integers(1, 3), label="subscriptions")):
        n = data.draw(st.integers(0, len(plans) - 1), label="plan")
        start = data.draw(day_st(START, START + timedelta(days=120)), label="start")
        first = options[n][data.draw(st.sampled_from(sorted(options[n])), label="first option")]
        quantity = data.draw(st.integers(1, 5), label="quantity")
        sid = subscribe(db, world.account, first, start, quantity)
        world.subs[sid] = Sub(sid, plans[n], options[n], Timeline(start, quantity, first))

    events: list[tuple[date, int, str, int]] = []
    for sid in world.subs:
        for _ in range(data.draw(st.integers(0, 6), label="changes")):
            events.append((data.draw(day_st(), label="changed on"), 0, "change", sid))
        for _ in range(data.draw(st.integers(0, 2), label="withdrawals")):
            events.append((data.draw(day_st(), label="withdrawn on"), 1, "withdraw", sid))
        if data.draw(st.booleans(), label="cancel?"):
            events.append((data.draw(day_st(), label="cancelled on"), 2, "cancel", sid))
    for _ in range(data.draw(st.integers(0, 5), label="manual generations")):
        events.append((data.draw(day_st(), label="generated on"), 3, "manual", 0))
    for _ in range(data.draw(st.integers(2, 12), label="runs")):
        events.append((data.draw(day_st(), label="run as of"), 4, "run", 0))

    for today, _, what, sid in sorted(events):
        if what == "change":
            # Half of the changes come just after a run: into periods already billed.
            if data.draw(st.booleans(), label="billed first"):
                bill(db, today)
            make_change(db, data, world, world.subs[sid], today)
        elif what == "withdraw":
            withdraw(db, data, world.subs[sid], today)
        elif what == "cancel" and not world.subs[sid].cancelled:
            cancel(db, data, world, world.subs[sid], today)
        elif what == "manual":
            manual(db, data, world, today)
        elif what == "run":
            bill(db, today)
    bill(db, HORIZON)
    check_nothing_due(db, world, HORIZON)
    # A difference in a run of days is due by the end of the period holding the run's
    # first day: every day a quarter before the horizon is settled by now.
    check_days(db, world, HORIZON, before=HORIZON - timedelta(days=92))
    # Changes were made up to 100 days ahead, periods billed ahead by manual
    # generations: far enough on, every billed day is settled.
    bill(db, FINAL)
    check_nothing_due(db, world, FINAL)
    check_days(db, world, FINAL, before=FINAL)
    for sub in world.subs.values():
        months, day = sub.plan.cycle.months, world.billing_day_of(sub)
        assert_amounts(db, sub.id, sub.timeline.start, months, day, world.currency)
    check_never_early(db, world)
    assert_documents_whole(db, {world.account: world.tax_rate})
