"""Pages of lists: a sort (a field of the list's whitelist, `-` before it for
descending), `limit` (1–100) and opaque cursors, with the total.

A cursor is keyset, not offset: it carries the sort value and id of the row a page
continues from (after it, or before it for the previous page), so a page far into
a list costs what the first does and rows added meanwhile shift nothing. It names
the sort it was made for: a cursor of another sort is refused, never misread.
"""

import base64
import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from recur.domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100

# A sort value as stored: what a cursor carries (None: a row without one).
KeyValue = str | int | bool | Decimal | date | datetime | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None
    prev_cursor: str | None = None
    sort: str = ""  # the sort the page is in, as `sort` takes it (`-total`)


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool

    @property
    def text(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def parse_sort(raw: str | None, fields: Collection[str], default: str) -> Sort:
    """The sort `raw` names (`name`, `-total`), or `default`; a field outside the
    list's whitelist is refused with the fields it takes."""
    text = raw or default
    field = text.removeprefix("-")
    if field not in fields:
        choices = ", ".join(sorted(fields))
        raise InvalidInput(
            "invalid_sort",
            f"cannot sort by “{field[:40]}”: sort takes one of {choices}"
            " (with - before it for descending order)",
        )
    return Sort(field, text.startswith("-"))


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (or `before`) the row of sort value `value` and `id`
    (an integer, or the text key of a usage record)."""

    sort: str
    value: KeyValue
    id: KeyValue
    before: bool = False


# Each value travels tagged with its type, so it comes back as exactly the value
# the database compared (a Decimal stays exact, a datetime keeps its offset).
_TAGS: tuple[tuple[str, type, Callable[[str], KeyValue]], ...] = (
    ("b", bool, lambda text: text == "1"),
    ("i", int, int),
    ("d", Decimal, Decimal),
    ("t", datetime, datetime.fromisoformat),
    ("D", date, date.fromisoformat),
    ("s", str, str),
)

_INVALID = (
    "this page link is out of date or damaged (unknown cursor); start again from the first page"
)


def _tagged(value: KeyValue) -> list[str] | None:
    if value is None:
        return None
    for tag, kind, _ in _TAGS:
        if isinstance(value, kind):
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            return [tag, value.isoformat() if isinstance(value, date) else text]
    raise TypeError(f"a sort value of type {type(value).__name__} cannot be kept in a cursor")


def _untagged(raw: object) -> KeyValue:
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw)):
        raise ValueError("not a tagged value")
    tag, text = raw
    read = next((read for t, _, read in _TAGS if t == tag), None)
    if read is None:
        raise ValueError(f"unknown tag {tag}")
    return read(text)


def encode_cursor(cursor: Cursor) -> str:
    body = [cursor.sort, _tagged(cursor.value), _tagged(cursor.id), cursor.before]
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def decode_cursor(token: str | None, sort: Sort) -> Cursor | None:
    """The cursor `token` carries, None for the first page; a damaged token, an old
    offset one or one of another sort is refused in words."""
    if not token:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        made_for, raw, raw_id, before = body
        value, row_id = _untagged(raw), _untagged(raw_id)
        if not (isinstance(made_for, str) and row_id is not None and isinstance(before, bool)):
            raise ValueError("malformed cursor")
    except (ValueError, TypeError, InvalidOperation) as error:
        raise InvalidInput("invalid_cursor", _INVALID) from error
    if made_for != sort.text:
        raise InvalidInput(
            "invalid_cursor",
            f"this page link belongs to the list sorted by {made_for[:40]}, not {sort.text};"
            " start again from the first page",
        )
    return Cursor(made_for, value, row_id, before)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")


def every_item(first: Page[T], fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a list from its `first` page on, page after page (`fetch` reads
    the page at a cursor): what an export streams, each page read on its own."""
    page = first
    while True:
        yield from page.items
        if page.next_cursor is None:
            return
        page = fetch(page.next_cursor)
