"""What is in force on many subscriptions at once (SPEC §10), for the doors' lists.

`subscriptions.in_force` answers for one subscription; a list of 100 (or the
subscriptions behind a large account's preview) reads them here in one go instead.
"""

from collections.abc import Sequence
from datetime import date

from recur.db.billing_store import states_by_id
from recur.db.session import Database
from recur.domain.timeline import in_force_on


def in_force_of(
    db: Database, subscription_ids: Sequence[int], today: date
) -> dict[int, tuple[int, int]]:
    """(quantity, pricing option) in force on `today` by subscription id; the start
    date's for one not started. Ids that do not exist are left out."""
    if not subscription_ids:
        return {}
    with db.read() as session:
        states = states_by_id(session, subscription_ids)
    found = {}
    for subscription_id, (terms, _) in states.items():
        segment = in_force_on(terms.timeline, today)
        found[subscription_id] = (segment.quantity, segment.plan.option_id)
    return found
