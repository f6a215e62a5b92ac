"""Back-office sessions, found by the SHA-256 hash of their cookie's secret."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from recur.db.models import User as UserRow
from recur.db.models import UserSession as SessionRow
from recur.db.repositories.users import user_record
from recur.db.repositories.utc import as_utc
from recur.domain.users import UserSession


def add_session(
    session: Session, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    session.add(
        SessionRow(
            token_hash=token_hash,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()


def live_session(session: Session, token_hash: str, now: datetime) -> UserSession | None:
    """The session with this hash, with its user, if it is neither expired nor revoked
    and its user is not disabled: one query, the one every back-office request makes."""
    return _session_with_user(
        session,
        (SessionRow.token_hash == token_hash)
        & SessionRow.revoked_at.is_(None)
        & (SessionRow.expires_at > now)
        & UserRow.disabled_at.is_(None),
    )


def unrevoked_session(session: Session, token_hash: str) -> UserSession | None:
    """The session with this hash, with its user, unless it was revoked (signing out
    ends an expired session too)."""
    return _session_with_user(
        session, (SessionRow.token_hash == token_hash) & SessionRow.revoked_at.is_(None)
    )


def _session_with_user(session: Session, where: ColumnElement[bool]) -> UserSession | None:
    found = session.execute(
        select(SessionRow.id, SessionRow.last_seen_at, UserRow)
        .join(UserRow, UserRow.id == SessionRow.user_id)
        .where(where)
    ).one_or_none()
    if found is None:
        return None
    session_id, last_seen_at, user = found
    return UserSession(session_id, user_record(user), as_utc(last_seen_at))


def mark_seen(session: Session, session_id: int, now: datetime, every: timedelta) -> None:
    """Move the session's last sight to `now`, unless another request did less than
    `every` ago."""
    session.execute(
        update(SessionRow)
        .where(SessionRow.id == session_id, SessionRow.last_seen_at < now - every)
        .values(last_seen_at=now)
    )


def revoke_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(SessionRow).where(SessionRow.id == session_id).values(revoked_at=now))


def revoke_sessions_of(
    session: Session, user_id: int, now: datetime, keep_hash: str | None = None
) -> None:
    """Revoke the user's live sessions, but the one whose hash is `keep_hash`."""
    live = (SessionRow.user_id == user_id) & SessionRow.revoked_at.is_(None)
    if keep_hash is not None:
        live &= SessionRow.token_hash != keep_hash
    session.execute(update(SessionRow).where(live).values(revoked_at=now))
