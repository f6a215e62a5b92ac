"""API tokens, found by the SHA-256 hash of their secret."""

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from recur.db.models import ApiToken as TokenRow
from recur.db.repositories.utc import as_utc, as_utc_or_none
from recur.db.rows import Query
from recur.domain.roles import Role
from recur.domain.users import ApiToken, Principal


def _record(row: TokenRow) -> ApiToken:
    return ApiToken(
        row.id,
        row.name,
        Role(row.role),
        as_utc(row.created_at),
        as_utc_or_none(row.last_used_at),
        as_utc_or_none(row.revoked_at),
    )


# Compiled once: every API request runs it (db/loop_reads.py), unless its token is cached.
_LIVE_TOKEN = select(
    TokenRow.id, TokenRow.name, TokenRow.role, TokenRow.token_hash, TokenRow.last_used_at
).where(TokenRow.token_hash == bindparam("token_hash"), TokenRow.revoked_at.is_(None))


def live_token_query(token_hash: str) -> Query:
    """The query of the live (not revoked) token with this hash, for `LoopReads.fetch_rows`;
    `live_principal` reads its rows."""
    return _LIVE_TOKEN, {"token_hash": token_hash}


def live_principal(
    rows: Sequence[Any], token_hash: str
) -> tuple[Principal, datetime | None] | None:
    """The principal of `live_token_query`'s rows, with when its token was last used."""
    # The lookup is by hash; compare again in constant time for good measure.
    if not rows or not hmac.compare_digest(rows[0].token_hash, token_hash):
        return None
    row = rows[0]
    last_used = as_utc_or_none(row.last_used_at)
    return Principal(row.id, row.name, Role(row.role)), last_used


def add_token(session: Session, name: str, token_hash: str, role: Role) -> int:
    """A new live token; its id."""
    row = TokenRow(name=name, token_hash=token_hash, role=role.value)
    session.add(row)
    session.flush()
    return row.id


def token_with_hash(session: Session, token_hash: str) -> ApiToken | None:
    row = session.scalar(select(TokenRow).where(TokenRow.token_hash == token_hash))
    return None if row is None else _record(row)


def first_token_named(session: Session, name: str) -> ApiToken | None:
    row = session.scalar(
        select(TokenRow).where(TokenRow.name == name).order_by(TokenRow.id).limit(1)
    )
    return None if row is None else _record(row)


def lock_token(session: Session, token_id: int) -> ApiToken | None:
    """The token, locked until the transaction ends (SELECT … FOR UPDATE)."""
    row = session.get(TokenRow, token_id, with_for_update=True)
    return None if row is None else _record(row)


def refresh_token(session: Session, token_id: int, token_hash: str, role: Role) -> None:
    """Give a token read in this transaction a new secret and role, live again."""
    row = _row(session, token_id)
    row.token_hash, row.role, row.revoked_at = token_hash, role.value, None


def revoke_token(session: Session, token_id: int, now: datetime) -> None:
    """Revoke a token read (locked) in this transaction."""
    _row(session, token_id).revoked_at = now


def _row(session: Session, token_id: int) -> TokenRow:
    row = session.get(TokenRow, token_id)  # in the identity map: no query
    assert row is not None, f"API token {token_id} was read in this transaction"
    return row


def mark_used(session: Session, token_id: int, now: datetime, every: timedelta) -> None:
    """Move the token's last use to `now`, unless another process did less than `every`
    ago (two that both saw a stale time do not both write)."""
    session.execute(
        update(TokenRow)
        .where(
            TokenRow.id == token_id,
            (TokenRow.last_used_at.is_(None)) | (TokenRow.last_used_at < now - every),
        )
        .values(last_used_at=now)
    )


def all_tokens(session: Session) -> list[ApiToken]:
    """Every token, live ones first, newest first."""
    rows = session.scalars(
        select(TokenRow).order_by(TokenRow.revoked_at.is_not(None), TokenRow.id.desc())
    )
    return [_record(row) for row in rows]
