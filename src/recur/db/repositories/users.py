"""Back-office users. Only `credentials` and `password_hash` read a password hash."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recur.db.models import User as UserRow
from recur.domain.roles import Role
from recur.domain.users import User


def user_record(row: UserRow) -> User:
    return User(row.id, row.email, Role(row.role), row.disabled_at is not None)


def email_taken(session: Session, address: str) -> bool:
    """Whether a user has this (lower-case) e-mail, whatever its case in the table."""
    return (
        session.scalar(select(UserRow.id).where(func.lower(UserRow.email) == address)) is not None
    )


def add_user(session: Session, email: str, role: Role, password_hash: str) -> User:
    row = UserRow(email=email, role=role.value, password_hash=password_hash)
    session.add(row)
    session.flush()
    return user_record(row)


def user_with_email(session: Session, address: str) -> User | None:
    found = credentials(session, address)
    return None if found is None else found[0]


def credentials(session: Session, address: str) -> tuple[User, str] | None:
    """The user with this (lower-case) e-mail and their password hash: for the sign-in check."""
    row = session.scalar(select(UserRow).where(func.lower(UserRow.email) == address))
    return None if row is None else (user_record(row), row.password_hash)


def password_hash(session: Session, user_id: int) -> str | None:
    """The user's password hash (None: no such user), for the check of their current one."""
    row = session.get(UserRow, user_id)
    return None if row is None else row.password_hash


def find_user(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    return None if row is None else user_record(row)


def lock_user(session: Session, user_id: int) -> User | None:
    """The user, locked until the transaction ends (SELECT … FOR UPDATE)."""
    row = session.get(UserRow, user_id, with_for_update=True)
    return None if row is None else user_record(row)


def lock_enabled_admins(session: Session) -> int:
    """How many administrators may sign in, all locked: two administrators disabling
    each other at once cannot both see the other still enabled (on SQLite the write
    lock already serialises)."""
    admins = session.scalars(
        select(UserRow.id)
        .where(UserRow.role == Role.ADMIN.value, UserRow.disabled_at.is_(None))
        .with_for_update()
    ).all()
    return len(admins)


def set_disabled_at(session: Session, user_id: int, moment: datetime | None) -> User:
    row = _row(session, user_id)
    row.disabled_at = moment
    return user_record(row)


def set_password_hash(session: Session, user_id: int, new_hash: str) -> None:
    _row(session, user_id).password_hash = new_hash


def _row(session: Session, user_id: int) -> UserRow:
    # Read (or locked) earlier in the transaction: the session's identity map has it.
    row = session.get(UserRow, user_id)
    assert row is not None, f"user {user_id} was read in this transaction"
    return row


def all_users(session: Session) -> list[User]:
    """Every user, by e-mail."""
    return [user_record(row) for row in session.scalars(select(UserRow).order_by(UserRow.email))]
