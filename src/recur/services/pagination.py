"""Pages of lists: `limit` (1–100) and an opaque `cursor`, with the total."""

import base64
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from recur.domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1  # what every database accepts in OFFSET


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "invalid_cursor",
            "this page link is out of date or damaged (unknown cursor); start again from the first page",
        ) from error
    if kind != "o" or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(
            "invalid_cursor",
            "this page link is out of date or damaged (unknown cursor); start again from the first page",
        )
    return offset


def paginate(session: Session, query: Select[Any], limit: int, cursor: str | None) -> Page[Any]:
    """Run `query` (already ordered) for one page; the total counts the whole filter."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
    offset = decode_cursor(cursor)
    total = session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = list(session.execute(query.limit(limit).offset(offset)).scalars())
    more = offset + len(items) < total
    return Page(items, total, encode_cursor(offset + limit) if more else None)
