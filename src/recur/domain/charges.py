"""The billing engine: which charges a subscription owes, and when (SPEC §2–§4).

Pure functions of the subscription's terms and of what is already billed; the
preview, manual generation and the billing run all read their charges here.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import takewhile

from recur.domain.catalogue import BillingCycle, BillingType, ChargeKind, PartialCharges
from recur.domain.money import prorated_amount, round_ratio
from recur.domain.periods import BillingPeriod, PeriodSchedule

ONE_DAY = timedelta(days=1)
PRORATION_PLACES = 6


@dataclass(frozen=True, slots=True)
class SubscriptionTerms:
    """Everything the engine needs to know about one subscription.

    `billing_day` is already resolved: the pricing option's, else the account's.
    """

    subscription_id: int
    account_id: int
    product_id: int
    product_name: str
    taxable: bool
    currency: str
    cycle: BillingCycle
    billing_type: BillingType
    unit_price: Decimal
    setup_fee: Decimal
    quantity: int
    start_date: date
    billing_day: int | None
    partial_charges: PartialCharges
    end_date: date | None
    suspended: bool = False

    @property
    def schedule(self) -> PeriodSchedule:
        return PeriodSchedule(self.start_date, self.cycle.months, self.billing_day, self.end_date)

    @property
    def ever_in_service(self) -> bool:
        """False when cancelled before it started: nothing of it is billed."""
        return self.end_date is None or self.end_date > self.start_date


@dataclass(frozen=True, slots=True)
class BilledState:
    """What the ledger says is already invoiced for one subscription.

    Recurring periods are always billed in order (every issue takes a prefix
    of the unbilled charges), so the end of the last billed period is enough.
    """

    recurring_until: date | None = None
    once: frozenset[ChargeKind] = frozenset()

    def after(self, issued: Iterable["Charge"]) -> "BilledState":
        """The billed state once `issued` charges are invoiced."""
        until, once = self.recurring_until, set(self.once)
        for charge in issued:
            if charge.kind is ChargeKind.RECURRING:
                until = charge.period_end if until is None else max(until, charge.period_end)
            else:
                once.add(charge.kind)
        return BilledState(until, frozenset(once))


@dataclass(frozen=True, slots=True)
class Charge:
    """One invoice item to be: the same object whether previewed or issued."""

    subscription_id: int
    account_id: int
    product_id: int
    kind: ChargeKind
    description: str
    period_start: date
    period_end: date  # exclusive
    planned_issue_date: date
    quantity: int
    unit_price: Decimal
    days: int  # billed days of the period …
    full_days: int  # … out of the full period's: the proration's terms
    amount: Decimal
    taxable: bool
    currency: str

    @property
    def proration(self) -> Fraction:
        return Fraction(self.days, self.full_days)

    @property
    def proration_shown(self) -> Decimal:
        """The proration as invoices show it: to 6 decimals, for reading only (SPEC §3)."""
        return round_ratio(self.days, self.full_days, PRORATION_PLACES)

    @property
    def period_last_day(self) -> date:
        return self.period_end - ONE_DAY

    @property
    def ledger_key(self) -> tuple[int, ChargeKind, date]:
        """The database's exactly-once key: (subscription, kind, period start)."""
        return (self.subscription_id, self.kind, self.period_start)


# What is owed, before it is priced: a kind, a planned issue date and, for a
# recurring charge, its period. Callers that only need dates never price.
_Owed = tuple[ChargeKind, date, BillingPeriod | None]


def _owed(terms: SubscriptionTerms, billed: BilledState) -> Iterator[_Owed]:
    """Every charge not yet billed, unpriced, in order of planned issue date."""
    if terms.suspended or not terms.ever_in_service:
        return
    if terms.setup_fee > 0 and ChargeKind.SETUP not in billed.once:
        yield ChargeKind.SETUP, terms.start_date, None
    if terms.cycle is BillingCycle.ONE_TIME:
        if ChargeKind.ONE_TIME not in billed.once:
            yield ChargeKind.ONE_TIME, terms.start_date, None
        return
    for period in terms.schedule.periods(billed.recurring_until):
        yield ChargeKind.RECURRING, planned_issue_date(terms, period), period


def unbilled_charges(terms: SubscriptionTerms, billed: BilledState) -> Iterator[Charge]:
    """Every charge not yet billed, in order of planned issue date (infinite if renewing)."""
    price = _Pricing(terms)
    for kind, planned, period in _owed(terms, billed):
        yield price(kind, planned, period)


def next_planned_issue_date(terms: SubscriptionTerms, billed: BilledState) -> date | None:
    """When the first unbilled charge is planned; None when nothing is left to bill."""
    first = next(_owed(terms, billed), None)
    return None if first is None else first[1]


def due_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Unbilled charges planned on or before `as_of`: what a billing run issues."""
    price = _Pricing(terms)
    return [price(*owed) for owed in takewhile(lambda o: o[1] <= as_of, _owed(terms, billed))]


def pending_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Due charges plus all those on the first planned issue date after `as_of` (SPEC §5)."""
    return list(each_pending_charge(terms, billed, as_of))


def each_pending_charge(
    terms: SubscriptionTerms, billed: BilledState, as_of: date
) -> Iterator[Charge]:
    """`pending_charges` one at a time, so that a caller can stop early."""
    price = _Pricing(terms)
    next_date: date | None = None
    for kind, planned, period in _owed(terms, billed):
        if planned > as_of:
            if next_date is None:
                next_date = planned
            elif planned != next_date:
                return
        yield price(kind, planned, period)


class _Pricing:
    """Turns owed charges of one subscription into priced `Charge`s."""

    def __init__(self, terms: SubscriptionTerms) -> None:
        self.terms = terms
        self.recurring = f"{terms.product_name} ({terms.cycle.value})"

    def __call__(self, kind: ChargeKind, planned: date, period: BillingPeriod | None) -> Charge:
        terms = self.terms
        if period is None:
            setup = kind is ChargeKind.SETUP
            price = terms.setup_fee if setup else terms.unit_price
            return self._charge(
                kind,
                f"{terms.product_name} — setup fee" if setup else terms.product_name,
                terms.start_date,
                terms.start_date + ONE_DAY,
                planned,
                1 if setup else terms.quantity,
                price,
                1,
                1,
            )
        return self._charge(
            kind,
            self.recurring,
            period.start,
            period.end,
            planned,
            terms.quantity,
            terms.unit_price,
            (period.end - period.start).days,
            (period.full_end - period.full_start).days,
        )

    def _charge(
        self,
        kind: ChargeKind,
        description: str,
        start: date,
        end: date,
        planned: date,
        quantity: int,
        price: Decimal,
        days: int,
        full_days: int,
    ) -> Charge:
        terms = self.terms
        return Charge(
            subscription_id=terms.subscription_id,
            account_id=terms.account_id,
            product_id=terms.product_id,
            kind=kind,
            description=description,
            period_start=start,
            period_end=end,
            planned_issue_date=planned,
            quantity=quantity,
            unit_price=price,
            days=days,
            full_days=full_days,
            amount=prorated_amount(price, quantity, days, full_days, terms.currency),
            taxable=terms.taxable,
            currency=terms.currency,
        )


def planned_issue_date(terms: SubscriptionTerms, period: BillingPeriod) -> date:
    """SPEC §4: prepaid on the start, postpaid on the (exclusive) end.

    Under `next_billing_day`, a partial first period waits for its own end,
    the next billing day, and goes out with the first full period.
    """
    if terms.billing_type is BillingType.POSTPAID:
        return period.end
    deferred = (
        terms.partial_charges is PartialCharges.NEXT_BILLING_DAY
        and period.start == terms.start_date
        and period.full_start < period.start
    )
    return period.end if deferred else period.start
