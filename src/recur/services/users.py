"""Back-office users: who may sign in, and with which role."""

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recur.db.audit import record
from recur.db.models import User
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.services.roles import Role
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


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, Role(user.role))


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short", f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    password_hash = _hasher.hash(password)

    def work(session: Session) -> UserInfo:
        taken = session.scalar(select(User.id).where(func.lower(User.email) == address))
        if taken is not None:
            raise Conflict("email_taken", f"a user with e-mail {address} already exists")
        user = User(email=address, role=user_role.value, password_hash=password_hash)
        session.add(user)
        session.flush()
        record(session, actor, "user.created", "user", user.id, email=address, role=user.role)
        return _info(user)

    return db.run(work)


def authenticate(db: Database, email: str, password: str) -> UserInfo | None:
    """The user whose e-mail and password these are, or None (the same for either mistake)."""
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
        return _info(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def get_user(db: Database, user_id: int) -> UserInfo:
    with db.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user_not_found", f"user {user_id} does not exist")
        return _info(user)


def find_user(db: Database, user_id: int) -> UserInfo | None:
    with db.read() as session:
        user = session.get(User, user_id)
        return None if user is None else _info(user)


def list_users(db: Database) -> list[UserInfo]:
    with db.read() as session:
        return [_info(u) for u in session.scalars(select(User).order_by(User.email))]
