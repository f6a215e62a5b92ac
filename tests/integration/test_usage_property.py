"""Every usage record billed exactly once, on the item SPEC §13 says, whatever the
interleaving of ingestion, runs and manual generations, on both databases.

Hypothesis draws an account (currency, billing day none or aligned, tax) and one or
two usage subscriptions (monthly or quarterly, delay 0–31, random meters priced to
6 decimals, an optional setup fee, an optional cancellation now or at the end of the
period), then plays over about ten months days of ingestion (new records of random
meters and quantities with up to 6 decimals, occurring on any day of service so far:
many late, in random order, some earlier records sent again), billing runs and
manual generations. The test keeps its own model of what each step must bill
(usage_oracle.UsagePlan plans each record) and checks:

(a) each step bills exactly the records the model says, each on an item of its own
    subscription, meter and period (clipped at the end of service as known when billed),
    one item per meter, period and planned date, dated the step's day: a run bills the
    records planned on or before it, a manual generation every record received so far;
    after a cancellation, records on or after the end are refused;
(b) each item's usage quantity is the exact sum of its records' and its amount that
    sum × the meter's price, rounded half up to the currency's minor unit;
(c) every manual generation issues exactly the preview taken just before it;
(d) a subscription's next charge date is never later than an unbilled record's
    planned date; after a run far enough on nothing is left unbilled, each record
    has the issue date the model gave it, and a second run issues nothing.
"""

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from recur.db.models import Invoice, InvoiceItem
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, CancelAt
from recur.domain.errors import InvalidInput
from recur.domain.invoices import PendingInvoice
from recur.domain.issued import IssuedItem
from recur.domain.usage import MeterSpec
from recur.services import usage
from recur.services.catalogue import PricingOptionSpec, ProductSpec, create_product
from recur.services.invoicing import (
    generate_for_account,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription

from .factories import ACTOR, account, money, subscribe, wipe
from .lifecycle import bill, period_end_after
from .usage import rec
from .usage_oracle import UsagePlan, billed_usage, issue_dates, links, next_charge_dates

D = Decimal
DAY = timedelta(days=1)
START = date(2027, 1, 1)
LAST = START + timedelta(days=300)  # the last day anything happens
FINAL = LAST + timedelta(days=160)  # past a quarter and the longest delay after LAST
METER_CODES = ["vm.hours", "storage.gb", "calls.min", "egress.gb"]
SETUP = {"EUR": "25.00", "JPY": "2500", "KWD": "7.125"}


@dataclass
class Sent:
    """A record as stored: what it is, when it arrived, and when the model bills it."""

    id: str
    sub: int
    meter: str
    quantity: Decimal
    occurred_on: date
    received_on: date
    billed: tuple[date, str] | None = None  # (issue date, source)


@dataclass
class Sub:
    id: int
    plan: UsagePlan
    prices: dict[str, Decimal]  # meter code → price per unit
    setup: bool
    setup_billed: bool = False
    cancelled: bool = False


@dataclass
class World:
    account: int
    currency: str
    tax_rate: Decimal
    subs: dict[int, Sub] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    last_invoice: int = 0

    def unbilled(self, sid: int) -> list[Sent]:
        return [r for r in self.sent.values() if r.sub == sid and r.billed is None]

    def planned(self, record: Sent) -> date:
        return self.subs[record.sub].plan.planned(record.occurred_on, record.received_on)


# --- set-up -------------------------------------------------------------------------


def price_st() -> st.SearchStrategy[Decimal]:
    """Up to 6 decimals; small enough that no invoice reaches the amounts' bound (10^14)."""
    return st.builds(lambda n, k: D(n).scaleb(-k), st.integers(1, 99_999), st.integers(0, 6))


def usage_option(db: Database, data: st.DataObject, currency: str, n: int) -> tuple[int, Sub]:
    months = data.draw(st.sampled_from([1, 3]), label="months")
    delay = data.draw(st.integers(0, 31), label="delay")
    codes = data.draw(
        st.lists(st.sampled_from(METER_CODES), min_size=1, max_size=3, unique=True),
        label="meters",
    )
    prices = {code: data.draw(price_st(), label=f"price of {code}") for code in codes}
    setup = data.draw(st.booleans(), label="setup fee")
    spec = PricingOptionSpec(
        code="usage",
        billing_period=BillingCycle.MONTHLY if months == 1 else BillingCycle.QUARTERLY,
        billing_type=BillingType.USAGE,
        unit_price=D(0),
        currency=currency,
        setup_fee=D(SETUP[currency]) if setup else D(0),
        meters=tuple(MeterSpec(c, c.split(".")[0], c.split(".")[1], p) for c, p in prices.items()),
        usage_delay_days=delay,
    )
    product = create_product(db, ProductSpec(f"USAGE-{n}", f"Usage {n}", [spec]), ACTOR)
    plan = UsagePlan(START, months, None, delay)
    return product.pricing_options[0].id, Sub(0, plan, prices, setup)


# --- the steps ------------------------------------------------------------------------


def ingest(db: Database, data: st.DataObject, world: World, today: date) -> None:
    """A batch of new records (some of them late) and earlier ones sent again, shuffled."""
    open_subs = [
        s
        for s in world.subs.values()
        if s.plan.start <= today and (s.plan.end is None or s.plan.end > s.plan.start)
    ]
    if not open_subs:
        return
    batch: list[Sent] = []
    for _ in range(data.draw(st.integers(1, 5), label="new records")):
        sub = data.draw(st.sampled_from(open_subs), label="subscription")
        last = today if sub.plan.end is None else min(today, sub.plan.end - DAY)
        span = (last - sub.plan.start).days
        recent = data.draw(st.booleans(), label="recent")
        back = data.draw(st.integers(0, min(span, 6) if recent else span), label="days back")
        quantity = D(data.draw(st.integers(0, 10**6), label="units")).scaleb(
            -data.draw(st.integers(0, 6), label="decimals")
        )
        batch.append(
            Sent(
                f"r{next(world.serial)}",
                sub.id,
                data.draw(st.sampled_from(sorted(sub.prices)), label="meter"),
                quantity,
                last - timedelta(days=back),
                today,
            )
        )
    again = data.draw(
        st.lists(st.sampled_from(sorted(world.sent)), max_size=2, unique=True)
        if world.sent
        else st.just([]),
        label="sent again",
    )
    bodies = [rec(r.id, r.sub, r.meter, str(r.quantity), r.occurred_on.isoformat()) for r in batch]
    for record_id in again:
        r = world.sent[record_id]
        bodies.append(rec(r.id, r.sub, r.meter, f"{r.quantity:f}", r.occurred_on.isoformat()))
    bodies = data.draw(st.permutations(bodies), label="order")
    assert usage.ingest(db, bodies, today, ACTOR) == usage.Ingested(len(batch), len(again))
    for r in batch:
        world.sent[r.id] = r


def refuse_after_end(db: Database, world: World, today: date) -> None:
    """A record on or after a cancelled subscription's end is refused, nothing kept."""
    for sub in world.subs.values():
        end = sub.plan.end
        if end is None or end > today:
            continue
        before = links(db)
        meter = sorted(sub.prices)[0]
        late = [rec("after-end", sub.id, meter, "1", end.isoformat())]
        with pytest.raises(InvalidInput) as refused:
            usage.ingest(db, late, today, ACTOR)
        assert refused.value.code == "usage_out_of_service"
        assert links(db) == before


def cancel(db: Database, data: st.DataObject, world: World, sub: Sub, today: date) -> None:
    at = data.draw(st.sampled_from(CancelAt), label="cancel at")
    plan = sub.plan
    if at is CancelAt.NOW:
        expected = today
    else:
        expected = period_end_after(plan.start, plan.months, plan.billing_day, today)
    assert cancel_subscription(db, sub.id, at, today, ACTOR).end_date == expected
    plan.end = expected
    sub.cancelled = True


def owed(world: World, sid: int, today: date, manual: bool) -> tuple[list[Sent], bool]:
    """What the model bills of a subscription today: a run, whatever is planned by today;
    a manual generation, every record received so far and the setup fee (SPEC §13).
    (The records, and whether the setup fee.)"""
    sub = world.subs[sid]
    dated = [(world.planned(r), r) for r in world.unbilled(sid)]
    setup_on = sub.plan.start if sub.setup and not sub.setup_billed else None
    last = date.max if manual else today
    return [r for day, r in dated if day <= last], setup_on is not None and setup_on <= last


Expected = Counter[tuple[int, str, date, date, Decimal, Decimal, frozenset[str]]]


def expected_items(world: World, records: list[Sent]) -> Expected:
    """One item per subscription, meter, period and planned date (SPEC §13)."""
    groups: dict[tuple[int, str, tuple[date, date], date], list[Sent]] = defaultdict(list)
    for r in records:
        period = world.subs[r.sub].plan.period_of(r.occurred_on)
        groups[r.sub, r.meter, period, world.planned(r)].append(r)
    expected: Expected = Counter()
    for (sid, meter, (first, end), _), group in groups.items():
        quantity = sum((r.quantity for r in group), D(0))
        amount = money(quantity * world.subs[sid].prices[meter], world.currency)
        ids = frozenset(r.id for r in group)
        expected[sid, meter, first, end - DAY, quantity, amount, ids] += 1
    return expected


def check_step(
    db: Database, world: World, today: date, source: str, records: list[Sent], setups: set[int]
) -> None:
    """(a), (b): the step's new invoices, dated today, hold exactly the model's items."""
    with db.read() as session:
        new = session.execute(
            select(Invoice.id, Invoice.issue_date, Invoice.source).where(
                Invoice.id > world.last_invoice
            )
        ).all()
        setup_items = Counter(
            session.scalars(
                select(InvoiceItem.subscription_id).where(
                    InvoiceItem.invoice_id.in_([i for i, _, _ in new]), InvoiceItem.kind == "setup"
                )
            )
        )
    assert {(day, src) for _, day, src in new} <= {(today, source)}
    issued = Counter(tuple(item[1:]) for item in billed_usage(db, {i for i, _, _ in new}))
    assert issued == expected_items(world, records)
    assert setup_items == Counter(setups)
    world.last_invoice = max([world.last_invoice, *(i for i, _, _ in new)])
    for r in records:
        r.billed = (today, source)
    for sid in setups:
        world.subs[sid].setup_billed = True


def run(db: Database, world: World, today: date) -> None:
    billed = {sid: owed(world, sid, today, manual=False) for sid in world.subs}
    bill(db, today)
    check_step(
        db,
        world,
        today,
        "automatic",
        [r for records, _ in billed.values() for r in records],
        {sid for sid, (_, setup) in billed.items() if setup},
    )


def manual(db: Database, data: st.DataObject, world: World, today: date) -> None:
    billed = {sid: owed(world, sid, today, manual=True) for sid in world.subs}
    for sid, (records, setup) in billed.items():
        # The service's preview has something for a subscription exactly when the model has.
        assert bool(pending_for_subscription(db, sid, today)) == bool(records or setup), sid
    candidates = sorted(sid for sid, (records, setup) in billed.items() if records or setup)
    if not candidates:
        return
    selection = data.draw(
        st.lists(st.sampled_from(candidates), min_size=1, unique=True), label="selection"
    )
    preview = pending_for_account(db, world.account, today).invoices
    shown = [c for inv in preview for c in inv.items if c.subscription_id in selection]
    # (a) the preview shows the records the model bills today, no more.
    assert sorted(i for c in shown if c.usage for i in c.usage.record_ids) == sorted(
        r.id for sid in selection for r in billed[sid][0]
    )
    generated = generate_for_account(db, world.account, selection, today, ACTOR).invoices
    check_generation(preview, selection, [i for inv in generated for i in inv.items])
    for invoice in generated:
        subtotal = sum((i.amount for i in invoice.items), D(0))
        tax = money(
            sum((i.amount for i in invoice.items if i.taxable), D(0)) * world.tax_rate / 100,
            world.currency,
        )
        assert (invoice.subtotal, invoice.tax, invoice.total) == (subtotal, tax, subtotal + tax)
    touched = [p for p in preview if set(p.subscription_ids) & set(selection)]
    if len(touched) == 1 and set(touched[0].subscription_ids) <= set(selection):
        (invoice,) = generated  # exactly the pending invoice the preview showed
        totals = touched[0].totals
        assert (invoice.subtotal, invoice.tax, invoice.total) == (
            totals.subtotal,
            totals.tax,
            totals.total,
        )
    check_step(
        db,
        world,
        today,
        "manual",
        [r for sid in selection for r in billed[sid][0]],
        {sid for sid in selection if billed[sid][1]},
    )


def check_generation(
    preview: list[PendingInvoice], selection: list[int], issued: list[IssuedItem]
) -> None:
    """(c) a manual generation issues exactly the items its preview showed."""
    shown = Counter(
        (
            c.subscription_id,
            str(c.kind),
            c.description,
            c.explanation,
            c.period_start,
            c.period_last_day,
            c.quantity,
            c.unit_price,
            c.amount,
            c.usage and c.usage.meter.code,
            c.usage_quantity,
        )
        for inv in preview
        for c in inv.items
        if c.subscription_id in selection
    )
    made = Counter(
        (
            i.subscription_id,
            i.kind,
            i.description,
            i.explanation,
            i.period_start,
            i.period_end,
            i.quantity,
            i.unit_price,
            i.amount,
            i.meter,
            i.usage_quantity,
        )
        for i in issued
    )
    assert made == shown


def check_next_dates(db: Database, world: World) -> None:
    """(d) no unbilled record waits behind its subscription's next charge date."""
    dates = next_charge_dates(db)
    for sid in world.subs:
        waiting = [world.planned(r) for r in world.unbilled(sid)]
        if waiting:
            next_date = dates[sid]
            assert next_date is not None, sid
            assert next_date <= min(waiting), (sid, next_date, waiting)


def day_st(first: date, last: date) -> st.SearchStrategy[date]:
    return st.integers(0, (last - first).days).map(lambda n: first + timedelta(days=n))


# --- the property ----------------------------------------------------------------------


@settings(
    max_examples=40,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_record_is_billed_once_on_its_item(db: Database, data: st.DataObject) -> None:
    wipe(db)
    currency = data.draw(st.sampled_from(sorted(SETUP)), label="currency")
    billing_day = data.draw(st.none() | st.integers(1, 28), label="billing day")
    tax_rate = data.draw(st.sampled_from(["0", "24", "7.5"]), label="tax rate")
    world = World(
        account(db, currency=currency, billing_day=billing_day, tax_rate=tax_rate),
        currency,
        D(tax_rate),
    )
    events: list[tuple[date, int, str, int]] = []
    for n in range(data.draw(st.integers(1, 2), label="subscriptions")):
        option_id, sub = usage_option(db, data, currency, n)
        start = data.draw(day_st(START, START + timedelta(days=40)), label="start")
        sub.id = subscribe(db, world.account, option_id, start)
        sub.plan.start, sub.plan.billing_day = start, billing_day
        world.subs[sub.id] = sub
        if data.draw(st.booleans(), label="cancel?"):
            day = data.draw(day_st(start + DAY, LAST), label="cancelled on")
            events.append((day, data.draw(st.integers(0, 3)), "cancel", sub.id))
    order = st.integers(0, 3)  # the order of the day's steps
    for _ in range(data.draw(st.integers(6, 18), label="ingestion days")):
        events.append(
            (data.draw(day_st(START, LAST), label="sent on"), data.draw(order), "ingest", 0)
        )
    for _ in range(data.draw(st.integers(2, 8), label="runs")):
        events.append(
            (data.draw(day_st(START, LAST), label="run as of"), data.draw(order), "run", 0)
        )
    for _ in range(data.draw(st.integers(0, 4), label="manual generations")):
        events.append(
            (data.draw(day_st(START, LAST), label="generated on"), data.draw(order), "manual", 0)
        )

    for today, _, what, sid in sorted(events):
        if what == "ingest":
            ingest(db, data, world, today)
            refuse_after_end(db, world, today)
        elif what == "cancel" and not world.subs[sid].cancelled:
            cancel(db, data, world, world.subs[sid], today)
        elif what == "run":
            run(db, world, today)
        elif what == "manual":
            manual(db, data, world, today)
        check_next_dates(db, world)

    run(db, world, FINAL)
    assert all(r.billed is not None for r in world.sent.values())
    assert None not in links(db).values()
    assert issue_dates(db) == {r.id: r.billed for r in world.sent.values()}
    assert bill(db, FINAL) == (0, 0)
