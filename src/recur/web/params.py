"""The ids in the back office's addresses and links, read by the rules every door uses."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Path

from recur.services.validation import MAX_ID, id_named_by

# An id beyond the 32-bit keys names no page: a 404 page, not a database error.
PageId = Annotated[int, Path(ge=1, le=MAX_ID)]


def ids_named_by(texts: list[str]) -> list[int]:
    """The ids among a form's or a link's values; the others name nothing and are dropped."""
    return [number for text in texts if (number := id_named_by(text)) is not None]


def id_filter(text: str | None) -> int | None:
    """A list's filter by id; a value that names no id filters nothing."""
    return None if text is None else id_named_by(text)


def date_or_none(raw: str | None) -> date | None:
    """A list's filter by day; a value that is not a day filters nothing."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# The page size a back-office list shows unless its link asks for another (1–100).
PAGE_SIZE = 25


@dataclass(frozen=True)
class ListView:
    """How a back-office list is asked for in its address: sort, cursor, page size,
    and `format=csv` for every row as a file. The services check them, as for the API."""

    sort: str | None
    cursor: str | None
    limit: int
    csv: bool


def list_view(
    sort: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    format: str | None = None,
) -> ListView:
    return ListView(sort or None, cursor or None, limit, format == "csv")


ListQuery = Annotated[ListView, Depends(list_view)]
