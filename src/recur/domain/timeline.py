"""What is in force on a subscription, day by day (SPEC §10).

A subscription starts with a pricing option and a quantity; each change sets the
quantity and/or the option from its effective date on. The timeline is the result:
segments, each in force from its `since` until the next one's. The engine cuts
periods into runs of days with one option and quantity (SPEC §11) from it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Plan:
    """A pricing option as the engine prices it (its prices never change once used)."""

    option_id: int
    product_id: int
    product_name: str
    taxable: bool
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class InForce:
    """From `since` on (until the next segment), `quantity` units of `plan`."""

    since: date
    plan: Plan
    quantity: int


@dataclass(frozen=True, slots=True)
class ScheduledChange:
    """A change as stored: what it sets from its effective date (None: unchanged)."""

    effective_date: date
    quantity: int | None
    plan: Plan | None


@dataclass(frozen=True, slots=True)
class Run:
    """Days [start, end) with one plan and quantity in force."""

    start: date
    end: date
    plan: Plan
    quantity: int


def segments_of(initial: InForce, changes: Iterable[ScheduledChange]) -> tuple[InForce, ...]:
    """The timeline: `initial`, overridden by each change in order of effective date
    (then of creation: `changes` come in that order). A change on or before the start
    takes effect on the start date. Consecutive equal segments are merged."""
    timeline = [initial]
    for change in changes:
        current = timeline[-1]
        since = max(change.effective_date, initial.since)
        segment = InForce(
            since,
            change.plan if change.plan is not None else current.plan,
            change.quantity if change.quantity is not None else current.quantity,
        )
        if segment.since == current.since:
            timeline[-1] = segment
        else:
            timeline.append(segment)
        if len(timeline) > 1 and _same(timeline[-2], timeline[-1]):
            timeline.pop()
    return tuple(timeline)


def _same(a: InForce, b: InForce) -> bool:
    return (a.plan, a.quantity) == (b.plan, b.quantity)


def runs(timeline: Sequence[InForce], start: date, end: date) -> list[Run]:
    """The runs of [start, end), cut where the timeline changes (none before its start)."""
    found: list[Run] = []
    for i, segment in enumerate(timeline):
        until = timeline[i + 1].since if i + 1 < len(timeline) else end
        first, last = max(start, segment.since), min(end, until)
        if first < last:
            found.append(Run(first, last, segment.plan, segment.quantity))
    return found


def in_force_on(timeline: Sequence[InForce], day: date) -> InForce:
    """The segment in force on `day` (the first one before the start)."""
    current = timeline[0]
    for segment in timeline[1:]:
        if segment.since > day:
            break
        current = segment
    return current
