"""Users, sessions and API tokens come out of the services as domain records
(recur.domain.users), never as ORM rows, and without their secrets."""

from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import select

from recur.db.models import AuditEvent
from recur.db.models import User as UserRow
from recur.db.session import Database
from recur.domain.roles import Role
from recur.domain.users import ApiToken, User
from recur.services import sessions, tokens, users
from recur.services.sign_in import sign_in, throttle

PASSWORD = "correct horse battery"


def test_users_are_records_without_their_password_hash(db: Database) -> None:
    created = users.create_user(db, "Ann@Example.com", Role.ADMIN, PASSWORD, actor="test")
    assert created == User(created.id, "ann@example.com", Role.ADMIN, disabled=False)
    assert users.list_users(db) == [created]
    assert users.authenticate(db, "ann@example.com", PASSWORD) == created
    assert not hasattr(created, "password_hash")
    users.create_user(db, "bob@example.com", Role.VIEWER, PASSWORD, actor="test")
    bob = users.user_by_email(db, "BOB@example.com")
    assert users.set_disabled(db, bob.id, True, actor="test") == User(
        bob.id, "bob@example.com", Role.VIEWER, disabled=True
    )


def test_a_session_gives_its_user_as_a_record(db: Database) -> None:
    users.create_user(db, "ann@example.com", Role.OPERATOR, PASSWORD, actor="test")
    signed_in = sign_in(db, "ann@example.com", PASSWORD, "127.0.0.1", throttle(1.0))
    assert isinstance(signed_in.user, User)
    assert sessions.session_user(db, signed_in.secret) == signed_in.user
    sessions.end(db, signed_in.secret)
    assert sessions.session_user(db, signed_in.secret) is None


def test_a_stale_password_hash_is_upgraded_on_sign_in(db: Database) -> None:
    """The sign-in check reads the hash and writes its upgrade through the repository."""
    user = users.create_user(db, "ann@example.com", Role.VIEWER, PASSWORD, actor="test")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with db.transaction() as session:
        row = session.get(UserRow, user.id)
        assert row is not None
        row.password_hash = weak
    assert users.authenticate(db, "ann@example.com", PASSWORD) == user
    with db.read() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.id == user.id))
    assert stored is not None
    assert stored != weak
    assert not PasswordHasher().check_needs_rehash(stored)
    assert users.authenticate(db, "ann@example.com", PASSWORD) == user


def test_tokens_are_listed_as_records_with_utc_times(db: Database) -> None:
    principal, _ = tokens.create_token(db, Role.OPERATOR, "ci", actor="test")
    tokens.revoke_token(db, principal.token_id, actor="test")
    [token] = tokens.list_tokens(db)
    assert isinstance(token, ApiToken)
    assert (token.id, token.name, token.role) == (principal.token_id, "ci", Role.OPERATOR)
    assert token.created_at.utcoffset() == timedelta(0)
    assert token.revoked_at is not None
    assert token.revoked_at.utcoffset() == timedelta(0)
    assert not hasattr(token, "token_hash")


def _refreshes(db: Database) -> int:
    with db.read() as session:
        actions = session.scalars(select(AuditEvent.action))
        return sum(action == "api_token.refreshed" for action in actions)


def test_the_env_token_is_created_then_refreshed_only_when_it_changes(db: Database) -> None:
    first, second = "a" * 32, "b" * 32
    tokens.ensure_token(db, "env", first, Role.ADMIN, "system")
    [created] = tokens.list_tokens(db)
    tokens.ensure_token(db, "env", first, Role.ADMIN, "system")  # a restart: nothing changes
    assert _refreshes(db) == 1
    tokens.ensure_token(db, "env", first, Role.VIEWER, "system")  # the same secret, a new role
    tokens.ensure_token(db, "env", second, Role.VIEWER, "system")  # a new secret for the name
    [refreshed] = tokens.list_tokens(db)
    assert (refreshed.id, refreshed.role, refreshed.revoked_at) == (created.id, Role.VIEWER, None)
    assert _refreshes(db) == 3
    live = {t.id for t in tokens.list_tokens(db) if t.revoked_at is None}
    assert live == {created.id}
