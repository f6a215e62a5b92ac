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
import logging
import secrets
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy.orm import Session

from recur.clock import utc_now
from recur.db import driver
from recur.db.audit import action, record
from recur.db.loop_reads import LoopReads
from recur.db.repositories import tokens as store
from recur.db.session import Database
from recur.domain.errors import InvalidInput, NotFound
from recur.domain.roles import Role
from recur.domain.users import ApiToken, Principal
from recur.services.validation import check_text

ENV_TOKEN_NAME = "env"
# last_used_at is written at most this often per token.
USED_EVERY = timedelta(minutes=1)

log = logging.getLogger("recur.tokens")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A random secret (256 bits), its kind told by `prefix`."""
    return prefix + secrets.token_urlsafe(32)


@action
def create_token(db: Database, role: Role, name: str, actor: str) -> tuple[Principal, str]:
    """A new random token; the secret is returned once and never stored."""
    name = check_text(name, "name", 200)
    try:
        role = Role(role)
    except ValueError as error:
        raise InvalidInput("invalid_role", "role must be admin, operator or viewer") from error
    secret = new_secret("rk_")

    def work(session: Session) -> Principal:
        token_id = store.add_token(session, name, hash_token(secret), role)
        record(session, actor, "api_token.created", "api_token", token_id, name=name, role=role)
        return Principal(token_id, name, role)

    return db.run(work), secret


@action
def ensure_token(db: Database, name: str, secret: str, role: Role, actor: str) -> None:
    """Create the named token or refresh its secret and role (RECUR_API_TOKEN at start-up).

    A secret that was revoked stays revoked: a restart must not bring it back. A new
    secret under the same name is a new credential, live again.
    """
    digest = hash_token(secret)

    def work(session: Session) -> None:
        same = store.token_with_hash(session, digest)
        if same is not None and same.revoked_at is not None:
            log.warning("RECUR_API_TOKEN was revoked: it stays refused; set a new one")
            return
        if same is not None and same.role == role:
            return  # already so
        # A new secret: the name's first token (if any) takes it.
        known = same or store.first_token_named(session, name)
        if known is None:
            token_id, token_name = store.add_token(session, name, digest, role), name
        else:
            store.refresh_token(session, known.id, digest, role)
            token_id, token_name = known.id, known.name
        record(session, actor, "api_token.refreshed", "api_token", token_id, name=token_name)
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


async def authenticate_on_loop(
    reads: LoopReads, cache: TokenCache, secret: str
) -> Principal | None:
    """The principal of the live (not revoked) token with this secret, or None."""
    digest = hash_token(secret)
    known = cache.live.get(digest) if cache.listening else None
    generation = cache.generation
    if known is None:
        [rows] = await reads.fetch_rows(store.live_token_query(digest))
        known = store.live_principal(rows, digest)
        if known is None:
            return None
    principal, last_used = known
    now = utc_now()
    if last_used is None or now - last_used >= USED_EVERY:
        await to_thread.run_sync(_mark_used, reads.db, principal.token_id, now)
        last_used = now
    if cache.listening and generation == cache.generation:
        cache.live[digest] = (principal, last_used)
    return principal


def _mark_used(db: Database, token_id: int, now: datetime) -> None:
    """Bookkeeping, not a change of state: no audit event."""
    db.run(lambda session: store.mark_used(session, token_id, now, USED_EVERY))


def list_tokens(db: Database) -> list[ApiToken]:
    """Every token, live ones first, newest first."""
    with db.read() as session:
        return store.all_tokens(session)


@action
def revoke_token(db: Database, token_id: int, actor: str, cache: TokenCache | None = None) -> None:
    """Revoke a token: its next request is refused, in every server process (this
    process's `cache` forgets at once, the others when they hear the NOTIFY)."""

    def work(session: Session) -> None:
        token = store.lock_token(session, token_id)
        if token is None:
            raise NotFound("api_token_not_found", f"API token {token_id} does not exist")
        if token.revoked_at is not None:
            return  # already revoked: nothing changes
        store.revoke_token(session, token.id, utc_now())
        record(session, actor, "api_token.revoked", "api_token", token.id, name=token.name)
        driver.notify(session, TOKENS_CHANNEL)

    db.run(work)
    if cache is not None:
        cache.forget()
