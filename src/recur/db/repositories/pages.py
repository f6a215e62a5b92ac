"""One page of an ordered query, as domain records."""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from recur.domain.pages import Page, check_limit, decode_cursor, encode_cursor

T = TypeVar("T")


def paginate(
    session: Session,
    query: Select[Any],
    limit: int,
    cursor: str | None,
    record: Callable[[Any], T],
) -> Page[T]:
    """Run `query` (already ordered) for one page, each row made a record by
    `record`; the total counts the whole filter."""
    check_limit(limit)
    offset = decode_cursor(cursor)
    total = session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = session.execute(query.limit(limit).offset(offset)).scalars()
    items = [record(row) for row in rows]
    more = offset + len(items) < total
    return Page(items, total, encode_cursor(offset + limit) if more else None)
