"""What the engine will issue over a horizon if nothing changes (SPEC §19).

The forecast plays the billing service forward: a run on every planned issue date,
from today on, each issuing what `due_invoices` issues as of that date, and the
billed state moved on as issuing it would (`BilledState.after`). Nothing is
written: the same engine as the preview and the run, on states kept in memory.
"""

import heapq
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date

from recur.domain.charges import ONE_DAY, Charge, next_planned_issue_date
from recur.domain.invoices import AccountTerms, PendingInvoice, SubscriptionState, due_invoices


def forecast_invoices(
    account: AccountTerms, states: Sequence[SubscriptionState], today: date, until: date
) -> list[PendingInvoice]:
    """Every document runs on time would issue from `today` to before `until`, in the
    order they would be issued (what is already due goes out today)."""
    return list(_each_run(account, states, today, until))


def _each_run(
    account: AccountTerms, states: Sequence[SubscriptionState], today: date, until: date
) -> Iterator[PendingInvoice]:
    current = {terms.subscription_id: (terms, billed) for terms, billed in states}
    # Each subscription's next planned issue date: a run on that date bills it.
    waiting: list[tuple[date, int]] = [
        (max(when, today), sid) for when, sid in _next_dates(current)
    ]
    heapq.heapify(waiting)
    while waiting and waiting[0][0] < until:
        day = waiting[0][0]
        due: list[int] = []
        while waiting and waiting[0][0] == day:
            due.append(heapq.heappop(waiting)[1])
        drafts = due_invoices(account, [current[sid] for sid in due], day)
        yield from drafts
        issued: dict[int, list[Charge]] = defaultdict(list)
        for draft in drafts:
            for item in draft.items:
                issued[item.subscription_id].append(item)
        for sid in due:
            current[sid] = _after(current[sid], issued[sid])
            when = next_planned_issue_date(*current[sid])
            if when is not None:
                heapq.heappush(waiting, (max(when, day + ONE_DAY), sid))


def _next_dates(current: dict[int, SubscriptionState]) -> Iterator[tuple[date, int]]:
    for sid, state in current.items():
        when = next_planned_issue_date(*state)
        if when is not None:
            yield when, sid


def _after(state: SubscriptionState, charges: list[Charge]) -> SubscriptionState:
    """The subscription's engine inputs once `charges` are issued (as issuing records
    them: db/billing_store._advanced_cursors)."""
    terms, billed = state
    records = [record for c in charges if c.usage for record in c.usage.record_ids]
    return terms.without_records(records), billed.after(charges)
