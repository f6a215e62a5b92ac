"""API bearer tokens: random secrets stored only as their SHA-256 hash.

A revoked token is refused on its next request, in every server process. On SQLite
every request reads its token's row (in the thread pool; `recur token revoke` may run
in another process). On PostgreSQL a server process keeps the live tokens it has seen
(`TokenCache`) only while it is listening to `recur_tokens`: every revocation NOTIFYs
that channel in its own transaction, and each process forgets every token the moment
it hears it (the revoking process at once, the others within milliseconds); if the
listening connection is lost, the cache is off until it is back. A read costs a round
trip per request, a tenth of the API's throughput (docs/performance.md). The time of
last use is written at most once a minute per token, not on every request.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from recur.clock import as_utc, utc_now
from recur.db import driver
from recur.db.audit import record
from recur.db.loop_reads import LoopReads
from recur.db.models import ApiToken
from recur.db.session import Database
from recur.domain.errors import InvalidInput, NotFound
from recur.services.roles import Role
from recur.services.validation import check_text

ENV_TOKEN_NAME = "env"
# last_used_at is written at most this often per token.
USED_EVERY = timedelta(minutes=1)

log = logging.getLogger("recur.tokens")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    token_id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


@dataclass(frozen=True)
class TokenInfo:
    """A token as the lists show it (never its secret or hash)."""

    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A random secret (256 bits), its kind told by `prefix`."""
    return prefix + secrets.token_urlsafe(32)


def create_token(db: Database, role: Role, name: str, actor: str) -> tuple[Principal, str]:
    """A new random token; the secret is returned once and never stored."""
    name = check_text(name, "name", 200)
    try:
        role = Role(role)
    except ValueError as error:
        raise InvalidInput("invalid_role", "role must be admin, operator or viewer") from error
    secret = new_secret("rk_")

    def work(session: Session) -> Principal:
        row = ApiToken(name=name, token_hash=hash_token(secret), role=role.value)
        session.add(row)
        session.flush()
        record(session, actor, "api_token.created", "api_token", row.id, name=name, role=role)
        return Principal(row.id, row.name, role)

    return db.run(work), secret


def ensure_token(db: Database, name: str, secret: str, role: Role, actor: str) -> None:
    """Create the named token or refresh its secret and role (RECUR_API_TOKEN at start-up).

    A secret that was revoked stays revoked: a restart must not bring it back. A new
    secret under the same name is a new credential, live again.
    """
    digest = hash_token(secret)

    def work(session: Session) -> None:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is not None and row.revoked_at is not None:
            log.warning("RECUR_API_TOKEN was revoked: it stays refused; set a new one")
            return
        if row is None:
            row = session.scalar(
                select(ApiToken).where(ApiToken.name == name).order_by(ApiToken.id).limit(1)
            )
        if row is None:
            row = ApiToken(name=name, token_hash=digest, role=role.value)
            session.add(row)
        elif row.token_hash != digest or row.role != role.value:
            row.token_hash, row.role, row.revoked_at = digest, role.value, None
        else:
            return
        session.flush()
        record(session, actor, "api_token.refreshed", "api_token", row.id, name=row.name)
        driver.notify(session, TOKENS_CHANNEL)  # the old secret of the name is refused

    db.run(work)


# Where revocations are announced (PostgreSQL's NOTIFY), see TokenCache.
TOKENS_CHANNEL = "recur_tokens"


class TokenCache:
    """The live tokens a server process has seen, by hash, with their last use; used
    only while `listening` (every change of a token is heard, see the module docstring)."""

    def __init__(self) -> None:
        self.listening = False
        self.generation = 0  # moves on every forgetting: a read from before is not kept
        self.live: dict[str, tuple[Principal, datetime | None]] = {}

    def forget(self) -> None:
        self.generation += 1
        self.live.clear()

    def listen(self, on: bool) -> None:
        self.forget()
        self.listening = on

    async def watch(self, reads: LoopReads) -> None:
        """Listen for revocations (PostgreSQL), until cancelled."""
        await reads.listen(TOKENS_CHANNEL, self.forget, self.listen)


_LIVE_TOKEN = select(
    ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.token_hash, ApiToken.last_used_at
).where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))


async def authenticate_on_loop(
    reads: LoopReads, cache: TokenCache, secret: str
) -> Principal | None:
    """The principal of the live (not revoked) token with this secret, or None."""
    digest = hash_token(secret)
    known = cache.live.get(digest) if cache.listening else None
    generation = cache.generation
    if known is None:
        [rows] = await reads.fetch_rows((_LIVE_TOKEN, {"token_hash": digest}))
        found, last_used = _principal(rows, digest)
        if found is None:
            return None
        principal = found
    else:
        principal, last_used = known
    now = utc_now()
    if last_used is None or now - as_utc(last_used) >= USED_EVERY:
        await to_thread.run_sync(_mark_used, reads.db, principal.token_id, now)
        last_used = now
    if cache.listening and generation == cache.generation:
        cache.live[digest] = (principal, last_used)
    return principal


def _principal(rows: Sequence[Any], digest: str) -> tuple[Principal | None, datetime | None]:
    # The lookup is by hash; compare again in constant time for good measure.
    if not rows or not hmac.compare_digest(rows[0].token_hash, digest):
        return None, None
    row = rows[0]
    return Principal(row.id, row.name, Role(row.role)), row.last_used_at


def _mark_used(db: Database, token_id: int, now: datetime) -> None:
    """Bookkeeping, not a change of state: no audit event. The condition keeps two
    processes that both saw a stale time from writing twice."""

    def work(session: Session) -> None:
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - USED_EVERY),
            )
            .values(last_used_at=now)
        )

    db.run(work)


def list_tokens(db: Database) -> list[TokenInfo]:
    """Every token, live ones first, newest first."""
    with db.read() as session:
        rows = session.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
        return [
            TokenInfo(
                row.id,
                row.name,
                Role(row.role),
                as_utc(row.created_at),
                None if row.last_used_at is None else as_utc(row.last_used_at),
                None if row.revoked_at is None else as_utc(row.revoked_at),
            )
            for row in rows
        ]


def revoke_token(db: Database, token_id: int, actor: str, cache: TokenCache | None = None) -> None:
    """Revoke a token: its next request is refused, in every server process (this
    process's `cache` forgets at once, the others when they hear the NOTIFY)."""

    def work(session: Session) -> None:
        row = session.get(ApiToken, token_id, with_for_update=True)
        if row is None:
            raise NotFound("api_token_not_found", f"API token {token_id} does not exist")
        if row.revoked_at is not None:
            return  # already revoked: nothing changes
        row.revoked_at = utc_now()
        record(session, actor, "api_token.revoked", "api_token", row.id, name=row.name)
        driver.notify(session, TOKENS_CHANNEL)

    db.run(work)
    if cache is not None:
        cache.forget()
