"""API bearer tokens: random secrets stored only as their SHA-256 hash."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recur.db.audit import record
from recur.db.models import ApiToken
from recur.db.session import Database
from recur.domain.errors import InvalidInput
from recur.services.roles import Role
from recur.services.validation import check_text

ENV_TOKEN_NAME = "env"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    token_id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, role: Role, name: str, actor: str) -> tuple[Principal, str]:
    """A new random token; the secret is returned once and never stored."""
    name = check_text(name, "name", 200)
    try:
        role = Role(role)
    except ValueError as error:
        raise InvalidInput("invalid_role", "role must be admin, operator or viewer") from error
    secret = "rk_" + secrets.token_urlsafe(32)

    def work(session: Session) -> Principal:
        row = ApiToken(name=name, token_hash=hash_token(secret), role=role.value)
        session.add(row)
        session.flush()
        record(session, actor, "api_token.created", "api_token", row.id, name=name, role=role)
        return Principal(row.id, row.name, role)

    return db.run(work), secret


def ensure_token(db: Database, name: str, secret: str, role: Role, actor: str) -> Principal:
    """Create the named token or refresh its secret and role (RECUR_API_TOKEN at start-up)."""
    digest = hash_token(secret)

    def work(session: Session) -> Principal:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None:
            row = session.scalar(
                select(ApiToken).where(ApiToken.name == name).order_by(ApiToken.id).limit(1)
            )
        if row is None:
            row = ApiToken(name=name, token_hash=digest, role=role.value)
            session.add(row)
        elif row.token_hash != digest or row.role != role.value:
            row.token_hash, row.role = digest, role.value
        else:
            return Principal(row.id, row.name, Role(row.role))
        session.flush()
        record(session, actor, "api_token.refreshed", "api_token", row.id, name=row.name)
        return Principal(row.id, row.name, Role(row.role))

    return db.run(work)


def authenticate(db: Database, secret: str) -> Principal | None:
    """The token's principal, or None if no token has this secret."""
    digest = hash_token(secret)
    with db.read() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        # The lookup is by hash; compare again in constant time for good measure.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return Principal(row.id, row.name, Role(row.role))
