"""Back-office sessions kept on the server, so that they can be ended.

The session cookie (signed by Starlette) carries a random secret; the table keeps
only its SHA-256 hash, whose user, when it expires and whether it was revoked.
Every request looks the row up with its user, so signing out, disabling the user or
changing their password refuses the cookie at once, in every server process.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from recur.clock import utc_now
from recur.db.audit import action, record
from recur.db.repositories import sessions as store
from recur.db.session import Database
from recur.domain.users import User
from recur.services.tokens import hash_token, new_secret

LIFETIME = timedelta(hours=12)  # a working day; then sign in again
# last_seen_at is written at most this often per session, not on every request.
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """A live session: who it is for, and the secret its cookie carries."""

    user: User
    secret: str


def start(session: Session, user: User, client: str, now: datetime) -> SignedIn:
    """A new session for `user`, in the caller's transaction (services/sign_in.py)."""
    secret = new_secret("rs_")
    store.add_session(session, hash_token(secret), user.id, now, now + LIFETIME)
    record(session, user.actor, "user.signed_in", "user", user.id, client=client)
    return SignedIn(user, secret)


def session_user(db: Database, secret: str) -> User | None:
    """The user of the live session with this secret: None if it is unknown, expired
    or revoked, or its user is disabled."""
    now = utc_now()
    with db.read() as session:
        found = store.live_session(session, hash_token(secret), now)
    if found is None:
        return None
    if now - found.last_seen_at >= SEEN_EVERY:
        # Bookkeeping, not a change of state: no audit event.
        db.run(lambda s: store.mark_seen(s, found.id, now, SEEN_EVERY))
    return found.user


@action
def end(db: Database, secret: str) -> None:
    """Sign out: the session is revoked, and its cookie no longer works anywhere."""

    def work(session: Session) -> None:
        found = store.unrevoked_session(session, hash_token(secret))
        if found is None:
            return  # already ended (another tab signed out): nothing changes
        store.revoke_session(session, found.id, utc_now())
        record(session, found.user.actor, "user.signed_out", "user", found.user.id)

    db.run(work)
