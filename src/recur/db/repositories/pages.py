"""One page of a list in the sort asked for, by keyset, as domain records: the one
place every list is sorted and paged (domain/pages.py: sorts and cursors)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from recur.domain.pages import (
    Cursor,
    KeyValue,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    parse_sort,
)

T = TypeVar("T")


@dataclass(frozen=True)
class SortField:
    """A column a list sorts by; `nullable`: rows without a value come last (first
    in descending order) on both databases; `join`: the (table, on clause) it needs."""

    column: Any
    nullable: bool = False
    join: tuple[Any, Any] | None = None


@dataclass(frozen=True)
class Sorting:
    """A list's whitelist of sort fields, its default sort, and its id column: the
    tiebreaker that makes every order total, so keyset pages never skip or repeat."""

    fields: Mapping[str, SortField]
    default: str
    id: Any


def paginate(
    session: Session,
    query: Select[Any],
    limit: int,
    cursor: str | None,
    record: Callable[[Any], T],
    sorting: Sorting,
    sort: str | None = None,
) -> Page[T]:
    """Run `query` (unordered) for the page at `cursor` in `sort` (default: the
    list's), each row's first column made a record by `record`; the total counts
    the whole filter."""
    check_limit(limit)
    chosen = parse_sort(sort, sorting.fields.keys(), sorting.default)
    at = decode_cursor(cursor, chosen)
    field = sorting.fields[chosen.field]
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if field.join is not None:
        query = query.join(*field.join)
    keys = _keys(field, sorting.id)
    backwards = at is not None and at.before
    descending = chosen.descending != backwards  # a previous page is read in reverse
    query = query.add_columns(field.column, sorting.id).order_by(
        *(key.desc() if descending else key.asc() for key in keys)
    )
    if at is not None:
        query = query.where(_beyond(keys, _values(field, at), descending))
    rows = list(session.execute(query.limit(limit + 1)).all())
    more = len(rows) > limit  # another page lies beyond, in the direction read
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    def link(row: Any, before: bool) -> str:
        return encode_cursor(Cursor(chosen.text, row[-2], row[-1], before))

    has_next = bool(rows) and (backwards or more)
    has_prev = bool(rows) and (more if backwards else at is not None)
    return Page(
        [record(row[0]) for row in rows],
        total,
        link(rows[-1], False) if has_next else None,
        link(rows[0], True) if has_prev else None,
        chosen.text,
    )


def _keys(field: SortField, id_column: Any) -> list[ColumnElement[Any]]:
    """What the rows are ordered by: for a nullable column, whether it is null first
    (the databases disagree on where NULL sorts), then the column, then the id."""
    keys: list[ColumnElement[Any]] = [field.column, id_column]
    if field.nullable:
        keys.insert(0, case((field.column.is_(None), 1), else_=0))
    return keys


def _values(field: SortField, at: Cursor) -> list[KeyValue]:
    values: list[KeyValue] = [at.value, at.id]
    if field.nullable:
        values.insert(0, 1 if at.value is None else 0)
    return values


def _beyond(
    keys: Sequence[ColumnElement[Any]], values: Sequence[KeyValue], descending: bool
) -> ColumnElement[bool]:
    """Rows after `values` in the order of `keys`: (k1, k2, …) > (v1, v2, …) spelled
    out term by term (row-value comparison would not mix directions or NULLs). A null
    value is skipped: its null flag, before it, already holds the rows to nulls."""
    terms: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        if value is None:
            continue
        terms.append(and_(*equal, key < value if descending else key > value))
        equal.append(key == value)
    return or_(*terms)
