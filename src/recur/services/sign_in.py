"""Signing in to the back office, throttled per account and per client address.

Failed sign-ins are counted in the database (`sign_in_failures`), so the backoff
holds across server processes and restarts. Past a threshold each failure makes
that key wait, doubling up to 15 minutes (`domain/backoff.py`); while it waits, an
attempt is refused before any password is hashed, and does not count. A key's count
is forgotten a day after its last failure; a successful sign-in clears the
account's count (not the address's: one good password must not buy an address more
guesses at other accounts).
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from recur.clock import utc_now
from recur.db.audit import action, record
from recur.db.repositories import sign_in as store
from recur.db.session import Database
from recur.domain.backoff import Backoff
from recur.domain.errors import Conflict, InvalidInput, TooManyAttempts
from recur.services import sessions, users
from recur.services.sessions import SignedIn

LONGEST_WAIT = 15 * 60.0  # seconds
FORGET_AFTER = timedelta(days=1)
KEY_LENGTH = 400  # the column's width: longer input cannot be a user's e-mail anyway


@dataclass(frozen=True)
class Throttle:
    """The backoff rules: an address is shared (an office behind one NAT), so it is
    allowed more failures than one account."""

    account: Backoff
    client: Backoff


def throttle(first_wait: float) -> Throttle:
    """Five failures per account, twenty per address, then `first_wait` seconds, doubling."""
    return Throttle(
        account=Backoff(threshold=5, first_wait=first_wait, longest_wait=LONGEST_WAIT),
        client=Backoff(threshold=20, first_wait=first_wait, longest_wait=LONGEST_WAIT),
    )


@action
def sign_in(db: Database, email: str, password: str, client: str, rules: Throttle) -> SignedIn:
    """A new session for the user with this e-mail and password.

    Raises TooManyAttempts while the account or the address must wait, InvalidInput
    for a wrong e-mail or password (counted), Conflict for a disabled user.
    """
    account_key = f"account:{email.strip().lower()}"[:KEY_LENGTH]
    keys = {account_key: rules.account, f"client:{client}"[:KEY_LENGTH]: rules.client}
    _refuse_if_waiting(db, list(keys), utc_now())
    user = users.authenticate(db, email, password)
    if user is None:
        db.run(lambda session: _failed(session, keys, email, client, utc_now()))
        raise InvalidInput(
            "wrong_credentials",
            "That e-mail address and password do not match a user. Check both and try again.",
        )
    if user.disabled:
        raise Conflict("user_disabled", "This user is disabled; ask an administrator.")

    def work(session: Session) -> SignedIn:
        store.forget_failures_of(session, account_key)
        return sessions.start(session, user, client, utc_now())

    return db.run(work)


def _refuse_if_waiting(db: Database, keys: list[str], now: datetime) -> None:
    with db.read() as session:
        until = store.blocked_until(session, keys, now)
    if until:
        seconds = math.ceil((max(until) - now).total_seconds())
        wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
        raise TooManyAttempts(
            "too_many_sign_ins",
            f"Too many failed sign-ins. Wait {wait} and try again.",
            retry_after=max(seconds, 1),
        )


def _failed(
    session: Session, keys: dict[str, Backoff], email: str, client: str, now: datetime
) -> None:
    # The keys in one order in every transaction: no deadlock.
    for counted in store.lock_failures(session, list(keys), now):
        failures = 1 if now - counted.last_failure_at > FORGET_AFTER else counted.failures + 1
        wait = keys[counted.key].wait_after(failures)
        store.save_failures(
            session,
            replace(
                counted,
                failures=failures,
                last_failure_at=now,
                blocked_until=now + wait if wait else None,
            ),
        )
    store.forget_failures_before(session, now - FORGET_AFTER)
    record(session, f"client:{client}", "user.sign_in_failed", "user", None, email=email[:320])
