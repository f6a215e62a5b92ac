"""Back-office users: who may sign in, with which role, and their passwords.

Disabling a user, or changing or resetting their password, ends their sessions in
the same transaction (`_store_password`, `set_disabled`): a stolen cookie dies with the old password.
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from recur.clock import utc_now
from recur.db.audit import action, record
from recur.db.repositories import sessions as session_store
from recur.db.repositories import users as store
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.roles import Role
from recur.domain.users import User
from recur.services.tokens import hash_token
from recur.services.validation import check_email

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a miss costs as long as a hit.
    Made on first use, not at import: hashing takes a few hundred milliseconds."""
    return _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return check_email(email, "email").lower()


@action
def create_user(db: Database, email: str, role: Role | str, password: str, actor: str) -> User:
    address = normalise_email(email)
    try:
        user_role = Role(role)
    except ValueError as error:
        raise InvalidInput("invalid_role", "role must be admin, operator or viewer") from error
    password_hash = _new_hash(password)

    def work(session: Session) -> User:
        if store.email_taken(session, address):
            raise Conflict("email_taken", f"a user with e-mail {address} already exists")
        user = store.add_user(session, address, user_role, password_hash)
        record(session, actor, "user.created", "user", user.id, email=address, role=user.role)
        return user

    return db.run(work)


def _new_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short", f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _hasher.hash(password)


def authenticate(db: Database, email: str, password: str) -> User | None:
    """The user whose e-mail and password these are, or None (the same for either mistake).
    A disabled user is returned too, marked so: the caller refuses them in words."""
    address = email.strip().lower()
    with db.transaction() as session:  # may re-hash the password
        found = store.credentials(session, address)
        if found is None:
            _verify(_dummy_hash(), password)
            return None
        user, password_hash = found
        if not _verify(password_hash, password):
            return None
        if _hasher.check_needs_rehash(password_hash):
            store.set_password_hash(session, user.id, _hasher.hash(password))
        return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def get_user(db: Database, user_id: int) -> User:
    with db.read() as session:
        return _found(store.find_user(session, user_id), user_id)


def user_by_email(db: Database, email: str) -> User:
    address = email.strip().lower()
    with db.read() as session:
        user = store.user_with_email(session, address)
    if user is None:
        raise NotFound("user_not_found", f"no user has e-mail {address}")
    return user


def _found(user: User | None, user_id: int) -> User:
    if user is None:
        raise NotFound("user_not_found", f"user {user_id} does not exist")
    return user


@action
def set_disabled(db: Database, user_id: int, disabled: bool, actor: str) -> User:
    """Disable a user (they cannot sign in, their sessions end) or enable them again.
    The last enabled administrator cannot be disabled: someone must be able to undo it."""

    def work(session: Session) -> User:
        user = _found(store.lock_user(session, user_id), user_id)
        if disabled == user.disabled:
            return user  # already so: nothing changes, nothing to record
        if disabled and user.role is Role.ADMIN and store.lock_enabled_admins(session) <= 1:
            raise Conflict("last_admin", "the last enabled administrator cannot be disabled")
        now = utc_now()
        changed = store.set_disabled_at(session, user.id, now if disabled else None)
        if disabled:
            session_store.revoke_sessions_of(session, user.id, now)
        action = "user.disabled" if disabled else "user.enabled"
        record(session, actor, action, "user", user.id, email=user.email)
        return changed

    return db.run(work)


@action
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
        stored = store.password_hash(session, user_id)
    if stored is None:
        raise NotFound("user_not_found", f"user {user_id} does not exist")
    if not _verify(stored, current):
        raise InvalidInput("wrong_current_password", "the current password is not correct")
    keep_hash = None if keep_session is None else hash_token(keep_session)
    _store_password(db, user_id, _new_hash(new), actor, "user.password_changed", keep_hash)


@action
def reset_password(db: Database, user_id: int, new: str, actor: str) -> None:
    """An administrator sets a user's password; every session of that user ends."""
    _store_password(db, user_id, _new_hash(new), actor, "user.password_reset", None)


def _store_password(
    db: Database,
    user_id: int,
    password_hash: str,
    actor: str,
    action: str,
    keep_hash: str | None,
) -> None:
    """Store the new hash and end the user's sessions, but the one hashed `keep_hash`:
    a stolen cookie dies with the old password."""

    def work(session: Session) -> None:
        user = _found(store.lock_user(session, user_id), user_id)
        store.set_password_hash(session, user.id, password_hash)
        session_store.revoke_sessions_of(session, user.id, utc_now(), keep_hash)
        record(session, actor, action, "user", user.id, email=user.email)

    db.run(work)


def list_users(db: Database) -> list[User]:
    with db.read() as session:
        return store.all_users(session)
