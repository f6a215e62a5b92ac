"""The billing engine: which charges a subscription owes, and when (SPEC §2–§4, §10–§12).

Pure functions of the subscription's timeline (its terms and changes) and of what is
already billed; the preview, manual generation and the billing run all read their
charges here. What every period owes is recomputed day by day and compared with what
was billed: a period not billed yet is charged in runs of days with one plan and
quantity, and a billed one whose days differ from what is in force is corrected by
adjustments (negative for credits), as Kill Bill's invoice generator does.
"""

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import chain, pairwise, takewhile
from typing import NamedTuple

from recur.domain.catalogue import BillingCycle, BillingType, ChargeKind, PartialCharges
from recur.domain.explanations import explain
from recur.domain.money import prorated_amount, round_money, round_ratio
from recur.domain.periods import BillingPeriod, PeriodSchedule
from recur.domain.timeline import InForce, Plan, ScheduledChange, runs, segments_of
from recur.domain.usage import Meter
from recur.domain.usage_billing import MeteredUsage, UnbilledUsage, usage_owed

ONE_DAY = timedelta(days=1)
PRORATION_PLACES = 6


# HOT_RECORDS: the engine's inputs and outputs are values, never changed once made, but
# not `frozen`: a frozen dataclass sets each field through object.__setattr__, which
# made building them (a run builds one of each per subscription and per item) cost
# several times more (bench/billing_run.py). They stay hashable and compare by value.
@dataclass(slots=True, unsafe_hash=True)  # a value: see HOT_RECORDS
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
    end_date: date | None  # the end of service: cancellation, or term end without renewal
    suspended: bool = False
    option_id: int = 0
    changes: tuple[ScheduledChange, ...] = ()  # by effective date, then creation
    # Usage options (SPEC §13): their meters, the days to wait for late data, and the
    # records received and not billed yet.
    meters: tuple[Meter, ...] = ()
    usage_delay_days: int = 0
    usage: tuple[UnbilledUsage, ...] = ()

    @property
    def plan(self) -> Plan:
        """The plan the subscription started with."""
        return Plan(
            self.option_id, self.product_id, self.product_name, self.taxable, self.unit_price
        )

    @property
    def timeline(self) -> tuple[InForce, ...]:
        return segments_of(InForce(self.start_date, self.plan, self.quantity), self.changes)

    @property
    def schedule(self) -> PeriodSchedule:
        return PeriodSchedule(self.start_date, self.cycle.months, self.billing_day, self.end_date)

    def without_records(self, billed: Iterable[str]) -> "SubscriptionTerms":
        """These terms once the records `billed` are invoiced."""
        gone = set(billed)
        if not gone:
            return self
        return replace(self, usage=tuple(r for r in self.usage if r.id not in gone))

    @property
    def ever_in_service(self) -> bool:
        """False when cancelled before it started: nothing of it is billed."""
        return self.end_date is None or self.end_date > self.start_date


@dataclass(frozen=True, slots=True)
class BilledRun:
    """A fact of the ledger: `quantity` units of `plan` billed for the days [start, end)
    of the period starting `period_start`, by an item of invoice `invoice_id`."""

    period_start: date
    start: date
    end: date
    plan: Plan
    quantity: int
    kind: ChargeKind
    invoice_id: int
    # The rate its invoice applied to taxable lines (None: not issued yet), which a
    # correction of the period repeats (SPEC §17).
    tax_rate: Decimal | None = None


@dataclass(slots=True, unsafe_hash=True)  # a value: see HOT_RECORDS
class BilledState:
    """What the ledger says is already invoiced for one subscription.

    Periods are billed for the first time in order (every issue takes a prefix of
    the unbilled ones), so the end of the last billed period is enough for those.
    `facts` are the billed runs of the periods that may need a correction (those
    after the subscription's first change or cancellation still to reconcile); the
    days of the other billed periods are as billed.
    """

    recurring_until: date | None = None
    once: frozenset[ChargeKind] = frozenset()
    facts: tuple[BilledRun, ...] = ()
    version: int = 0  # how many issuing transactions billed the subscription

    def after(self, issued: Iterable["Charge"]) -> "BilledState":
        """The billed state once `issued` charges are invoiced (in the same version: the
        issuing transaction records the next one)."""
        until, once, facts = self.recurring_until, set(self.once), list(self.facts)
        for charge in issued:
            if charge.kind is ChargeKind.RECURRING:
                until = charge.period_end if until is None else max(until, charge.period_end)
            elif charge.kind is ChargeKind.USAGE:
                continue  # its records are billed: terms.without_records
            elif charge.kind is not ChargeKind.ADJUSTMENT:
                once.add(charge.kind)
                continue
            if facts or charge.kind is ChargeKind.ADJUSTMENT:
                facts.append(charge.billed_run())
        return BilledState(until, frozenset(once), tuple(facts), self.version)


@dataclass(slots=True, unsafe_hash=True)  # a value: see HOT_RECORDS
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
    option_id: int = 0
    billing_period_start: date | None = None  # recurring and adjustments: their period's
    corrects_invoice_id: int | None = None  # adjustments: the invoice that billed the period
    usage: MeteredUsage | None = None  # usage: the meter and the records it sums
    # A correction's: the rate the invoice it corrects applied (None: the account's).
    tax_rate: Decimal | None = None

    @property
    def explanation(self) -> str:
        """The arithmetic of the amount in words a customer understands."""
        return explain(self)

    def billed_run(self) -> BilledRun:
        """This recurring charge or adjustment as a fact of the ledger, once issued (its
        invoice is not known yet: only dates ever follow from such a fact)."""
        plan = Plan(
            self.option_id, self.product_id, self.description, self.taxable, self.unit_price
        )
        period_start = self.billing_period_start or self.period_start
        return BilledRun(
            period_start,
            self.period_start,
            self.period_end,
            plan,
            self.quantity,
            self.kind,
            0,
        )

    @property
    def usage_quantity(self) -> Decimal | None:
        """A usage item's quantity, as an issued item holds it."""
        return None if self.usage is None else self.usage.quantity

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


class _Owed(NamedTuple):
    """A charge before it is priced: what it bills and when it is planned. Callers
    that only need dates never price. (A named tuple: the engine makes one per period
    it looks at, and a tuple is made several times faster than a frozen dataclass.)"""

    planned: date
    kind: ChargeKind
    start: date
    end: date
    plan: Plan
    quantity: int
    period: BillingPeriod | None = None  # recurring, adjustments, usage: the period of the days
    corrects_invoice_id: int | None = None
    usage: MeteredUsage | None = None
    tax_rate: Decimal | None = None  # a correction's: see Charge.tax_rate


def _owed(terms: SubscriptionTerms, billed: BilledState) -> Iterator[_Owed]:
    """Every charge not yet billed, unpriced, in order of planned issue date: setup and
    one-time charges, the adjustments of billed periods, and the runs of the periods
    not billed yet. (An iterator built here, not a generator of its own: in the common
    case it is `_fresh_runs` itself, with no layer between it and its consumer.)"""
    if terms.suspended:
        return iter(())
    once: list[_Owed] = []
    plan = terms.plan
    if terms.ever_in_service and terms.setup_fee > 0 and ChargeKind.SETUP not in billed.once:
        once.append(
            _Owed(terms.start_date, ChargeKind.SETUP, terms.start_date, terms.start_date, plan, 1)
        )
    if terms.cycle is BillingCycle.ONE_TIME:
        if terms.ever_in_service and ChargeKind.ONE_TIME not in billed.once:
            start = terms.start_date
            once.append(_Owed(start, ChargeKind.ONE_TIME, start, start, plan, terms.quantity))
        return iter(once)
    if terms.billing_type is BillingType.USAGE:
        usage = _usage_owed(terms, plan)
        return chain(once, usage) if once else usage
    runs_owed: Iterator[_Owed] = _fresh_runs(terms, plan, billed)
    if billed.facts:  # billed periods under correction
        adjustments = sorted(_adjustments(terms, billed), key=lambda owed: owed.planned)
        runs_owed = heapq.merge(adjustments, runs_owed, key=lambda owed: owed.planned)
    # A setup or one-time charge is planned on the start date, before any period's.
    return chain(once, runs_owed) if once else runs_owed


def _fresh_runs(terms: SubscriptionTerms, plan: Plan, billed: BilledState) -> Iterator[_Owed]:
    """The periods not billed yet, each as its runs of days with one plan and quantity,
    all planned on the period's planned issue date (SPEC §11); `plan` is the one the
    subscription started with."""
    periods = terms.schedule.periods(billed.recurring_until)
    if not terms.changes:  # one run a period: no timeline to cut it (the common case)
        quantity = terms.quantity
        for period in periods:
            planned = planned_issue_date(terms, period)
            yield _Owed(
                planned, ChargeKind.RECURRING, period.start, period.end, plan, quantity, period
            )
        return
    timeline = terms.timeline
    for period in periods:
        planned = planned_issue_date(terms, period)
        for run in runs(timeline, period.start, period.end):
            yield _Owed(
                planned,
                ChargeKind.RECURRING,
                run.start,
                run.end,
                run.plan,
                run.quantity,
                period,
            )


def _usage_owed(terms: SubscriptionTerms, plan: Plan) -> Iterator[_Owed]:
    """The usage items of the records received and not billed yet (SPEC §13)."""
    for owed in usage_owed(terms.schedule, terms.usage_delay_days, terms.meters, terms.usage):
        period = owed.period
        yield _Owed(
            owed.planned,
            ChargeKind.USAGE,
            period.start,
            period.end,
            plan,
            1,
            period,
            None,
            owed.usage,
        )


def _adjustments(terms: SubscriptionTerms, billed: BilledState) -> Iterator[_Owed]:
    """Corrections of billed periods: per plan, each run of days where the quantity in
    force differs from the quantity billed (SPEC §11)."""
    facts_by_period: dict[date, list[BilledRun]] = defaultdict(list)
    for fact in billed.facts:
        facts_by_period[fact.period_start].append(fact)
    # Billed periods keep their regular bounds, whatever happened to the service since.
    regular = PeriodSchedule(terms.start_date, terms.cycle.months, terms.billing_day, None)
    for period_start, facts in sorted(facts_by_period.items()):
        period = next(regular.periods(period_start))
        corrects = min(
            (f.invoice_id for f in facts if f.kind is ChargeKind.RECURRING),
            default=min(f.invoice_id for f in facts),
        )
        rate = next(f.tax_rate for f in facts if f.invoice_id == corrects)
        for start, end, plan, difference in _differences(terms, period, facts):
            planned = _adjustment_planned(terms, period, start)
            yield _Owed(
                planned,
                ChargeKind.ADJUSTMENT,
                start,
                end,
                plan,
                difference,
                period,
                corrects,
                tax_rate=rate,
            )


def _differences(
    terms: SubscriptionTerms, period: BillingPeriod, facts: list["BilledRun"]
) -> list[tuple[date, date, Plan, int]]:
    """Runs of days of `period` where, for a plan, in force − billed is the same non-zero
    quantity: (start, end, plan, in force − billed)."""
    service_end = period.end if terms.end_date is None else min(period.end, terms.end_date)
    in_force = runs(terms.timeline, period.start, service_end)
    cuts = {period.start, period.end}
    for start, end in [(r.start, r.end) for r in in_force] + [(f.start, f.end) for f in facts]:
        cuts.update((min(max(start, period.start), period.end), min(end, period.end)))
    # A plan no longer in force is priced as billed; its prices never change.
    plans = {f.plan.option_id: f.plan for f in facts}
    plans.update((run.plan.option_id, run.plan) for run in in_force)
    found: list[tuple[date, date, Plan, int]] = []
    points = sorted(cuts)
    for start, end in pairwise(points):
        wanted = {r.plan.option_id: r.quantity for r in in_force if r.start <= start < r.end}
        for option_id, plan in sorted(plans.items()):
            have = sum(
                f.quantity
                for f in facts
                if f.plan.option_id == option_id and f.start <= start < f.end
            )
            difference = wanted.get(option_id, 0) - have
            if not difference:
                continue
            last = next((d for d in reversed(found) if d[2].option_id == option_id), None)
            if last is not None and last[1] == start and last[3] == difference:
                found[found.index(last)] = (last[0], end, plan, difference)
            else:
                found.append((start, end, plan, difference))
    return found


def _adjustment_planned(terms: SubscriptionTerms, period: BillingPeriod, start: date) -> date:
    """SPEC §11: prepaid on the run's first day (under `next_billing_day`, a run that
    starts inside its period waits for the period's end), postpaid on the period's end;
    never after the end of service, when a cancellation's credit is due."""
    waits = terms.partial_charges is PartialCharges.NEXT_BILLING_DAY and start > period.start
    planned = period.end if terms.billing_type is BillingType.POSTPAID or waits else start
    return planned if terms.end_date is None else min(planned, terms.end_date)


def unbilled_charges(terms: SubscriptionTerms, billed: BilledState) -> Iterator[Charge]:
    """Every charge not yet billed, in order of planned issue date (infinite if renewing)."""
    price = _Pricing(terms)
    for owed in _owed(terms, billed):
        yield price(owed)


def next_planned_issue_date(terms: SubscriptionTerms, billed: BilledState) -> date | None:
    """When the first unbilled charge is planned; None when nothing is left to bill."""
    first = next(_owed(terms, billed), None)
    return None if first is None else first.planned


def due_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Unbilled charges planned on or before `as_of`: what a billing run issues."""
    price = _Pricing(terms)
    return [price(owed) for owed in takewhile(lambda o: o.planned <= as_of, _owed(terms, billed))]


def pending_charges(terms: SubscriptionTerms, billed: BilledState, as_of: date) -> list[Charge]:
    """Due charges plus all those on the first planned issue date after `as_of` (SPEC §5)."""
    return list(each_pending_charge(terms, billed, as_of))


def each_pending_charge(
    terms: SubscriptionTerms, billed: BilledState, as_of: date
) -> Iterator[Charge]:
    """`pending_charges` one at a time, so that a caller can stop early. Every record a
    usage subscription has received is pending, whatever its date: a manual generation
    bills the records received so far (SPEC §13)."""
    price = _Pricing(terms)
    if terms.billing_type is BillingType.USAGE:
        yield from map(price, _owed(terms, billed))  # finite: its records and setup fee
        return
    next_date: date | None = None
    for owed in _owed(terms, billed):
        if owed.planned > as_of:
            if next_date is None:
                next_date = owed.planned
            elif owed.planned != next_date:
                return
        yield price(owed)


def period_start_of(terms: SubscriptionTerms, day: date) -> date:
    """The start of the regular billing period that contains `day` (the first period's
    for a day before the start): where a correction of the days from `day` on begins."""
    regular = PeriodSchedule(terms.start_date, terms.cycle.months, terms.billing_day, None)
    period = regular.period_containing(max(day, terms.start_date))
    return terms.start_date if period is None else period.start


def first_period_to_correct(terms: SubscriptionTerms, billed: BilledState) -> date | None:
    """The start of the first billed period that still needs a correction, if any."""
    if terms.suspended or not billed.facts:
        return None
    return min(
        (owed.period.start for owed in _adjustments(terms, billed) if owed.period), default=None
    )


class _Pricing:
    """Turns owed charges of one subscription into priced `Charge`s."""

    def __init__(self, terms: SubscriptionTerms) -> None:
        self.terms = terms
        self.cycle = terms.cycle.value

    def __call__(self, owed: _Owed) -> Charge:
        terms, plan = self.terms, owed.plan
        if owed.period is None:
            setup = owed.kind is ChargeKind.SETUP
            return self._charge(
                owed,
                f"{plan.product_name} — setup fee" if setup else plan.product_name,
                owed.start + ONE_DAY,
                terms.setup_fee if setup else plan.unit_price,
                1,
                1,
            )
        period = owed.period
        if owed.usage is not None:
            meter = owed.usage.meter
            return self._charge(
                owed,
                f"{plan.product_name} — {meter.name}",
                owed.end,
                meter.unit_price,
                1,
                1,
                round_money(owed.usage.quantity * meter.unit_price, terms.currency),
            )
        return self._charge(
            owed,
            f"{plan.product_name} ({self.cycle})",
            owed.end,
            plan.unit_price,
            (owed.end - owed.start).days,
            (period.full_end - period.full_start).days,
        )

    def _charge(
        self,
        owed: _Owed,
        description: str,
        end: date,
        price: Decimal,
        days: int,
        full_days: int,
        amount: Decimal | None = None,
    ) -> Charge:
        terms = self.terms
        if amount is None:
            amount = prorated_amount(price, owed.quantity, days, full_days, terms.currency)
        return Charge(
            subscription_id=terms.subscription_id,
            account_id=terms.account_id,
            product_id=owed.plan.product_id,
            kind=owed.kind,
            description=description,
            period_start=owed.start,
            period_end=end,
            planned_issue_date=owed.planned,
            quantity=owed.quantity,
            unit_price=price,
            days=days,
            full_days=full_days,
            amount=amount,
            taxable=owed.plan.taxable,
            currency=terms.currency,
            option_id=owed.plan.option_id,
            billing_period_start=owed.period.start if owed.period else owed.start,
            corrects_invoice_id=owed.corrects_invoice_id,
            usage=owed.usage,
            tax_rate=owed.tax_rate,
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
