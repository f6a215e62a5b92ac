"""The billing engine: which charges a subscription owes, and when (SPEC §2–§4).

Pure functions of the subscription's terms and of what is already billed; the
preview, manual generation and the billing run all read their charges here.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import takewhile

from recur.domain.catalogue import BillingCycle, BillingType, ChargeKind, PartialCharges
from recur.domain.money import exact_product, round_money
from recur.domain.periods import BillingPeriod, PeriodSchedule

ONE_DAY = timedelta(days=1)


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
    proration: Fraction
    amount: Decimal
    taxable: bool
    currency: str

    @property
    def period_last_day(self) -> date:
        return self.period_end - ONE_DAY

    @property
    def ledger_key(self) -> tuple[int, ChargeKind, date]:
        """The database's exactly-once key: (subscription, kind, period start)."""
        return (self.subscription_id, self.kind, self.period_start)


def unbilled_charges(terms: SubscriptionTerms, billed: BilledState) -> Iterator[Charge]:
    """Every charge not yet billed, in order of planned issue date (infinite if renewing)."""
    if terms.suspended or not terms.ever_in_service:
        return
    if terms.setup_fee > 0 and ChargeKind.SETUP not in billed.once:
        yield _on_start(
            terms, ChargeKind.SETUP, f"{terms.product_name} — setup fee", 1, terms.setup_fee
        )
    if terms.cycle is BillingCycle.ONE_TIME:
        if ChargeKind.ONE_TIME not in billed.once:
            yield _on_start(
                terms, ChargeKind.ONE_TIME, terms.product_name, terms.quantity, terms.unit_price
            )
        return
    for period in terms.schedule.periods(billed.recurring_until):
        yield _recurring(terms, period)


def due_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Unbilled charges planned on or before `as_of`: what a billing run issues."""
    return list(takewhile(lambda c: c.planned_issue_date <= as_of, unbilled_charges(terms, billed)))


def pending_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Due charges plus all those on the first planned issue date after `as_of` (SPEC §5)."""
    pending: list[Charge] = []
    next_date: date | None = None
    for charge in unbilled_charges(terms, billed):
        if charge.planned_issue_date > as_of:
            if next_date is None:
                next_date = charge.planned_issue_date
            elif charge.planned_issue_date != next_date:
                break
        pending.append(charge)
    return pending


def _on_start(
    terms: SubscriptionTerms, kind: ChargeKind, description: str, quantity: int, price: Decimal
) -> Charge:
    return Charge(
        subscription_id=terms.subscription_id,
        account_id=terms.account_id,
        product_id=terms.product_id,
        kind=kind,
        description=description,
        period_start=terms.start_date,
        period_end=terms.start_date + ONE_DAY,
        planned_issue_date=terms.start_date,
        quantity=quantity,
        unit_price=price,
        proration=Fraction(1),
        amount=round_money(exact_product(price, quantity, Fraction(1)), terms.currency),
        taxable=terms.taxable,
        currency=terms.currency,
    )


def _recurring(terms: SubscriptionTerms, period: BillingPeriod) -> Charge:
    ratio = period.proration
    return Charge(
        subscription_id=terms.subscription_id,
        account_id=terms.account_id,
        product_id=terms.product_id,
        kind=ChargeKind.RECURRING,
        description=f"{terms.product_name} ({terms.cycle.value})",
        period_start=period.start,
        period_end=period.end,
        planned_issue_date=planned_issue_date(terms, period),
        quantity=terms.quantity,
        unit_price=terms.unit_price,
        proration=ratio,
        amount=round_money(exact_product(terms.unit_price, terms.quantity, ratio), terms.currency),
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
