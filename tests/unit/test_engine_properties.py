"""Invariants of the billing engine over random subscriptions (Hypothesis).

Whatever the terms, the recurring periods tile the service time, prorations are
fractions of one period, billing in any number of steps bills each charge
exactly once, and every amount has the currency's minor-unit places.
"""

import calendar
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from recur.domain.catalogue import (
    BillingCycle,
    BillingType,
    ChargeKind,
    InvoiceGrouping,
    PartialCharges,
)
from recur.domain.charges import (
    BilledState,
    Charge,
    SubscriptionTerms,
    due_charges,
    pending_charges,
    unbilled_charges,
)
from recur.domain.invoices import manual_invoices, pending_invoices
from recur.domain.money import minor_unit

from .factories import account, after_billing, terms

FAST = settings(max_examples=150, deadline=None)
RECURRING_CYCLES: list[BillingCycle] = [c for c in BillingCycle if c is not BillingCycle.ONE_TIME]
HORIZON = timedelta(days=4 * 366)
#: Enough charges to cover any generated end date (at most 60 monthly periods).
MANY = 80


@st.composite
def start_dates(draw: st.DrawFn) -> date:
    """Dates in 2024–2030, month ends and the 29th–31st drawn often."""
    year = draw(st.integers(2024, 2030))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last), st.integers(max(1, last - 3), last)))
    return date(year, month, day)


@st.composite
def prices(draw: st.DrawFn) -> Decimal:
    return Decimal(draw(st.integers(1, 1_000_000))).scaleb(-2)


@st.composite
def subscriptions(
    draw: st.DrawFn, cycles: list[BillingCycle] = RECURRING_CYCLES
) -> SubscriptionTerms:
    start = draw(start_dates())
    ends_after = draw(st.one_of(st.none(), st.integers(0, 5 * 366)))
    return terms(
        currency=draw(st.sampled_from(["EUR", "JPY", "KWD"])),
        cycle=draw(st.sampled_from(cycles)),
        billing_type=draw(st.sampled_from([BillingType.PREPAID, BillingType.POSTPAID])),
        unit_price=draw(prices()),
        setup_fee=draw(st.one_of(st.just(Decimal(0)), prices())),
        quantity=draw(st.integers(1, 50)),
        start_date=start,
        billing_day=draw(st.one_of(st.none(), st.integers(1, 28))),
        partial_charges=draw(st.sampled_from(PartialCharges)),
        end_date=None if ends_after is None else start + timedelta(days=ends_after),
    )


def recurring_until(subscription: SubscriptionTerms, horizon: date) -> list[Charge]:
    """Recurring charges of periods starting before `horizon` (all of them if it ends)."""
    charges = (
        c for c in unbilled_charges(subscription, BilledState()) if c.kind is ChargeKind.RECURRING
    )
    return [c for c in islice(charges, MANY) if c.period_start < horizon]


@FAST
@given(subscriptions())
def test_periods_tile_the_service_time_without_gap_or_overlap(
    subscription: SubscriptionTerms,
) -> None:
    end = subscription.end_date
    horizon = end if end is not None else subscription.start_date + HORIZON
    charges = recurring_until(subscription, horizon)
    if end is not None and end <= subscription.start_date:
        assert charges == []
        return
    assert charges[0].period_start == subscription.start_date
    for before, after in pairwise(charges):
        assert before.period_end == after.period_start
    assert all(c.period_start < c.period_end for c in charges)
    if end is not None:
        assert charges[-1].period_end == end
    else:
        assert charges[-1].period_end >= horizon


@FAST
@given(subscriptions())
def test_proration_is_a_fraction_of_one_period(subscription: SubscriptionTerms) -> None:
    charges = recurring_until(subscription, subscription.start_date + HORIZON)
    end = subscription.end_date
    for index, charge in enumerate(charges):
        assert 0 < charge.proration <= 1
        clipped = end is not None and charge.period_end == end
        if index > 0 and not clipped:
            assert charge.proration == 1
    day = subscription.billing_day
    if charges and day is not None and subscription.start_date.day != day:
        assert charges[0].proration < 1  # a partial first period
    if charges and day is None and charges[0].period_end != end:
        assert charges[0].proration == 1  # anniversary: every period is full


@st.composite
def billing_steps(draw: st.DrawFn, start: date) -> list[tuple[date, bool]]:
    """Increasing dates around the start, each a run (due only) or a manual generation."""
    when = start - timedelta(days=draw(st.integers(0, 60)))
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        when += timedelta(days=draw(st.integers(0, 150)))
        steps.append((when, draw(st.booleans())))
    return steps


@FAST
@given(st.data())
def test_billing_in_steps_bills_each_charge_exactly_once(data: st.DataObject) -> None:
    subscription = data.draw(subscriptions(cycles=list(BillingCycle)))
    billed = BilledState()
    taken: list[Charge] = []
    for as_of, manual in data.draw(billing_steps(subscription.start_date)):
        issue = pending_charges if manual else due_charges
        charges = issue(subscription, billed, as_of)
        taken += charges
        billed = after_billing(billed, charges)

    straight = list(islice(unbilled_charges(subscription, BilledState()), len(taken) + 5))
    assert taken == straight[: len(taken)]
    assert len({c.ledger_key for c in taken}) == len(taken)
    rest = list(islice(unbilled_charges(subscription, billed), 5))
    assert rest == straight[len(taken) :]


@FAST
@given(st.data())
def test_planned_issue_dates_never_go_back(data: st.DataObject) -> None:
    subscription = data.draw(subscriptions(cycles=list(BillingCycle)))
    charges = list(islice(unbilled_charges(subscription, BilledState()), MANY))
    issue_dates = [c.planned_issue_date for c in charges]
    assert issue_dates == sorted(issue_dates)
    assert all(d >= subscription.start_date for d in issue_dates)

    # And from any billed cursor: the end of some recurring period.
    recurring = [c for c in charges if c.kind is ChargeKind.RECURRING]
    if recurring:
        cursor = data.draw(st.sampled_from(recurring)).period_end
        billed = BilledState(cursor, frozenset({ChargeKind.SETUP}))
        resumed = [c.planned_issue_date for c in islice(unbilled_charges(subscription, billed), 30)]
        assert resumed == sorted(resumed)
        assert all(d >= cursor for d in resumed)


@FAST
@given(st.data())
def test_no_charge_covers_a_day_on_or_after_the_end_date(data: st.DataObject) -> None:
    subscription = data.draw(subscriptions(cycles=list(BillingCycle)))
    end = subscription.end_date
    for charge in islice(unbilled_charges(subscription, BilledState()), MANY):
        assert charge.period_start >= subscription.start_date
        if end is not None:
            assert charge.period_end <= end
        if charge.kind is ChargeKind.RECURRING:
            assert charge.planned_issue_date in (charge.period_start, charge.period_end)
        else:
            assert charge.planned_issue_date == subscription.start_date


@FAST
@given(
    st.lists(subscriptions(cycles=list(BillingCycle)), min_size=1, max_size=4),
    st.sampled_from(["EUR", "JPY", "KWD"]),
    st.integers(0, 2500).map(lambda basis_points: Decimal(basis_points).scaleb(-2)),
    st.sampled_from(InvoiceGrouping),
    start_dates(),
)
def test_amounts_and_totals_have_the_currency_places(
    drawn: list[SubscriptionTerms],
    currency: str,
    tax_rate: Decimal,
    grouping: InvoiceGrouping,
    as_of: date,
) -> None:
    places = -minor_unit(currency)
    states = [
        (terms(**{**_fields(s), "subscription_id": i, "currency": currency}), BilledState())
        for i, s in enumerate(drawn, start=1)
    ]
    buyer = account(currency=currency, tax_rate=tax_rate, grouping=grouping)
    preview = pending_invoices(buyer, states, as_of)
    issued = manual_invoices(buyer, states, as_of)
    for invoice in preview + issued:
        for item in invoice.items:
            assert item.amount.as_tuple().exponent == places
        subtotal, tax, total = (invoice.totals.subtotal, invoice.totals.tax, invoice.totals.total)
        for amount in (subtotal, tax, total):
            assert amount.as_tuple().exponent == places
        assert subtotal == sum(item.amount for item in invoice.items)
        assert total == subtotal + tax
    # A manual generation issues exactly the preview's items, whatever its grouping.
    ledger_keys = sorted(c.ledger_key for i in preview for c in i.items)
    assert sorted(c.ledger_key for i in issued for c in i.items) == ledger_keys


def _fields(subscription: SubscriptionTerms) -> dict[str, object]:
    return {name: getattr(subscription, name) for name in SubscriptionTerms.__slots__}
