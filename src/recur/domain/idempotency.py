"""What an `Idempotency-Key` keeps: the request it was first sent with, and its answer."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class KeptRequest:
    """A reserved key: the first request's fingerprint, and its answer once known."""

    fingerprint: str
    answer: StoredResponse | None  # None while the first request is running
    created_at: datetime  # aware (UTC)
