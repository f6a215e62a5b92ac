"""The ids in the back office's addresses and links, read by the rules every door uses."""

from datetime import date
from typing import Annotated

from fastapi import Path

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
