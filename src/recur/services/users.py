"""Back-office users: who may sign in, with which role, and their passwords.

Disabling a user, or changing or resetting their password, ends their sessions in
the same transaction (`_end_sessions`): a stolen cookie dies with the old password.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recur.clock import utc_now
from recur.db.audit import record
from recur.db.models import User, UserSession
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.services.roles import Role
from recur.services.tokens import hash_token
from recur.services.validation import check_text

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a miss costs as long as a hit.
    Made on first use, not at import: hashing takes a few hundred milliseconds."""
    return _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class UserInfo:
    """A signed-in user as the doors see it (never the password hash)."""

    id: int
    email: str
    role: Role
    disabled: bool = False


def user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, Role(user.role), user.disabled_at is not None)


def normalise_email(email: str) -> str:
    clean = check_text(email, "email", 320).lower()
    if "@" not in clean:
        raise InvalidInput("invalid_email", "email must be an e-mail address")
    return clean


def create_user(db: Database, email: str, role: Role | str, password: str, actor: str) -> UserInfo:
    address = normalise_email(email)
    try:
        user_role = Role(role)
    except ValueError as error:
        raise InvalidInput("invalid_role", "role must be admin, operator or viewer") from error
    password_hash = _new_hash(password)

    def work(session: Session) -> UserInfo:
        taken = session.scalar(select(User.id).where(func.lower(User.email) == address))
        if taken is not None:
            raise Conflict("email_taken", f"a user with e-mail {address} already exists")
        user = User(email=address, role=user_role.value, password_hash=password_hash)
        session.add(user)
        session.flush()
        record(session, actor, "user.created", "user", user.id, email=address, role=user.role)
        return user_info(user)

    return db.run(work)


def _new_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short", f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _hasher.hash(password)


def authenticate(db: Database, email: str, password: str) -> UserInfo | None:
    """The user whose e-mail and password these are, or None (the same for either mistake).
    A disabled user is returned too, marked so: the caller refuses them in words."""
    address = email.strip().lower()
    with db.transaction() as session:  # may re-hash the password
        user = session.scalar(select(User).where(func.lower(User.email) == address))
        if user is None:
            _verify(_dummy_hash(), password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user_info(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def get_user(db: Database, user_id: int) -> UserInfo:
    with db.read() as session:
        return user_info(_user(session, user_id))


def user_by_email(db: Database, email: str) -> UserInfo:
    address = email.strip().lower()
    with db.read() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == address))
        if user is None:
            raise NotFound("user_not_found", f"no user has e-mail {address}")
        return user_info(user)


def _user(session: Session, user_id: int, lock: bool = False) -> User:
    user = session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise NotFound("user_not_found", f"user {user_id} does not exist")
    return user


def set_disabled(db: Database, user_id: int, disabled: bool, actor: str) -> UserInfo:
    """Disable a user (they cannot sign in, their sessions end) or enable them again.
    The last enabled administrator cannot be disabled: someone must be able to undo it."""

    def work(session: Session) -> UserInfo:
        user = _user(session, user_id, lock=True)
        if disabled == (user.disabled_at is not None):
            return user_info(user)  # already so: nothing changes, nothing to record
        if disabled and user.role == Role.ADMIN.value:
            # Lock the enabled administrators, so two admins disabling each other at
            # once cannot both succeed (on SQLite the write lock already serialises).
            admins = session.scalars(
                select(User.id)
                .where(User.role == Role.ADMIN.value, User.disabled_at.is_(None))
                .with_for_update()
            ).all()
            if len(admins) <= 1:
                raise Conflict("last_admin", "the last enabled administrator cannot be disabled")
        now = utc_now()
        user.disabled_at = now if disabled else None
        if disabled:
            _end_sessions(session, user.id, now)
        action = "user.disabled" if disabled else "user.enabled"
        record(session, actor, action, "user", user.id, email=user.email)
        return user_info(user)

    return db.run(work)


def change_password(
    db: Database,
    user_id: int,
    current: str,
    new: str,
    actor: str,
    keep_session: str | None = None,
) -> None:
    """A user changes their own password, proving the current one. Their other sessions
    end; `keep_session` (the secret of the session asking) stays signed in."""
    with db.read() as session:
        stored = _user(session, user_id).password_hash
    if not _verify(stored, current):
        raise InvalidInput("wrong_current_password", "the current password is not correct")
    _store_password(db, user_id, _new_hash(new), actor, "user.password_changed", keep_session)


def reset_password(db: Database, user_id: int, new: str, actor: str) -> None:
    """An administrator sets a user's password; every session of that user ends."""
    _store_password(db, user_id, _new_hash(new), actor, "user.password_reset", None)


def _store_password(
    db: Database,
    user_id: int,
    password_hash: str,
    actor: str,
    action: str,
    keep_session: str | None,
) -> None:
    def work(session: Session) -> None:
        user = _user(session, user_id, lock=True)
        user.password_hash = password_hash
        _end_sessions(session, user.id, utc_now(), keep_session)
        record(session, actor, action, "user", user.id, email=user.email)

    db.run(work)


def _end_sessions(
    session: Session, user_id: int, now: datetime, keep_session: str | None = None
) -> None:
    """Revoke the user's live sessions, but the one whose secret is `keep_session`."""
    live = (UserSession.user_id == user_id) & UserSession.revoked_at.is_(None)
    if keep_session is not None:
        live &= UserSession.token_hash != hash_token(keep_session)
    session.execute(update(UserSession).where(live).values(revoked_at=now))


def list_users(db: Database) -> list[UserInfo]:
    with db.read() as session:
        return [user_info(u) for u in session.scalars(select(User).order_by(User.email))]
