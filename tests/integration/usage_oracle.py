"""The usage tests' own reading of SPEC §13, independent of the engine, and readers of
what was billed.

- `UsagePlan` lays out a usage subscription's periods (§2, clipped at the end of
  service) and plans a record: its period's end plus the delay if it arrived by
  then, else the first later period planned on or after its arrival, else its arrival;
- `billed_usage` reads back each issued usage item with the records linked to it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from recur.db.models import Invoice, InvoiceItem, Subscription, UsageRecord
from recur.db.session import Database

from .lifecycle import full_period


@dataclass
class UsagePlan:
    """A usage subscription as the test ordered it."""

    start: date
    months: int
    billing_day: int | None
    delay: int
    end: date | None = None  # end of service (exclusive), once cancelled

    def period_of(self, day: date) -> tuple[date, date]:
        """The usage period [start, end) holding `day`, clipped at the end of service; a
        day on the end itself (a record of the day a cancellation `now` ended service)
        goes with the last period."""
        if self.end is not None and day >= self.end:
            day = self.end - timedelta(days=1)
        begin, end = full_period(self.start, self.months, self.billing_day, day)
        begin = max(begin, self.start)
        return begin, end if self.end is None else min(end, self.end)

    def planned(self, occurred_on: date, received_on: date) -> date:
        _, end = self.period_of(occurred_on)
        if received_on <= self._due(end):
            return self._due(end)
        while self.end is None or end < self.end:
            _, end = self.period_of(end)
            if self._due(end) >= received_on:
                return self._due(end)
        return received_on

    def _due(self, end: date) -> date:
        return end + timedelta(days=self.delay)


# An issued usage item: (invoice id, subscription, meter, first day, last day, quantity,
# amount, the ids of the records linked to it).
BilledItem = tuple[int, int, str, date, date, Decimal, Decimal, frozenset[str]]


def billed_usage(db: Database, invoice_ids: set[int] | None = None) -> list[BilledItem]:
    """Every issued usage item (of `invoice_ids`, if given) with the records it billed."""
    with db.read() as session:
        query = select(InvoiceItem).where(InvoiceItem.kind == "usage")
        if invoice_ids is not None:
            query = query.where(InvoiceItem.invoice_id.in_(invoice_ids))
        found = list(session.scalars(query))
        linked: dict[int, set[str]] = defaultdict(set)
        rows = session.execute(
            select(UsageRecord.id, UsageRecord.invoice_item_id).where(
                UsageRecord.invoice_item_id.in_([i.id for i in found])
            )
        )
        for record_id, item_id in rows:
            linked[item_id].add(record_id)
    return [
        (
            i.invoice_id,
            i.subscription_id,
            str(i.meter),
            i.period_start,
            i.period_end,
            Decimal(i.usage_quantity or 0),
            Decimal(i.amount),
            frozenset(linked[i.id]),
        )
        for i in found
    ]


def links(db: Database) -> dict[str, int | None]:
    """Each stored record's item (None: not billed yet)."""
    with db.read() as session:
        return dict(session.execute(select(UsageRecord.id, UsageRecord.invoice_item_id)).all())


def issue_dates(db: Database) -> dict[str, tuple[date, str]]:
    """Each billed record's (issue date, source) of the invoice that billed it."""
    with db.read() as session:
        rows = session.execute(
            select(UsageRecord.id, Invoice.issue_date, Invoice.source)
            .join(InvoiceItem, InvoiceItem.id == UsageRecord.invoice_item_id)
            .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        )
        return {record_id: (day, source) for record_id, day, source in rows}


def next_charge_dates(db: Database) -> dict[int, date | None]:
    with db.read() as session:
        return dict(session.execute(select(Subscription.id, Subscription.next_charge_date)).all())
