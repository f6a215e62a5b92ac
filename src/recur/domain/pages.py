"""Pages of lists: `limit` (1–100) and an opaque `cursor`, with the total."""

import base64
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
