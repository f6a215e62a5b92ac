"""Back-office sessions kept on the server, so that they can be ended.

The session cookie (signed by Starlette) carries a random secret; the table keeps
only its SHA-256 hash, whose user, when it expires and whether it was revoked.
Every request looks the row up with its user, so signing out, disabling the user or
changing their password refuses the cookie at once, in every server process.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recur.clock import as_utc, utc_now
from recur.db.audit import record
from recur.db.models import User, UserSession
from recur.db.session import Database
from recur.services.tokens import hash_token, new_secret
from recur.services.users import UserInfo, user_info

LIFETIME = timedelta(hours=12)  # a working day; then sign in again
# last_seen_at is written at most this often per session, not on every request.
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """A live session: who it is for, and the secret its cookie carries."""

    user: UserInfo
    secret: str


def start(session: Session, user: UserInfo, client: str, now: datetime) -> SignedIn:
    """A new session for `user`, in the caller's transaction (services/sign_in.py)."""
    secret = new_secret("rs_")
    row = UserSession(
        token_hash=hash_token(secret),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(row)
    session.flush()
    record(session, f"user:{user.email}", "user.signed_in", "user", user.id, client=client)
    return SignedIn(user, secret)


def session_user(db: Database, secret: str) -> UserInfo | None:
    """The user of the live session with this secret: None if it is unknown, expired
    or revoked, or its user is disabled."""
    now = utc_now()
    with db.read() as session:
        found = session.execute(
            select(UserSession.id, UserSession.last_seen_at, User)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.token_hash == hash_token(secret),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                User.disabled_at.is_(None),
            )
        ).one_or_none()
        if found is None:
            return None
        session_id, last_seen, user = found
        info = user_info(user)
    if now - as_utc(last_seen) >= SEEN_EVERY:
        db.run(lambda s: _seen(s, session_id, now))
    return info


def _seen(session: Session, session_id: int, now: datetime) -> None:
    """Bookkeeping, not a change of state: no audit event."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < now - SEEN_EVERY)
        .values(last_seen_at=now)
    )


def end(db: Database, secret: str) -> None:
    """Sign out: the session is revoked, and its cookie no longer works anywhere."""

    def work(session: Session) -> None:
        found = session.execute(
            select(UserSession, User.email)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == hash_token(secret), UserSession.revoked_at.is_(None))
        ).one_or_none()
        if found is None:
            return  # already ended (another tab signed out): nothing changes
        row, email = found
        row.revoked_at = utc_now()
        record(session, f"user:{email}", "user.signed_out", "user", row.user_id)

    db.run(work)
