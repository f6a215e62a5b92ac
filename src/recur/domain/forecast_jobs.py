"""A whole-book forecast computed in the background (SPEC §19)."""

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class ForecastJob:
    id: int
    as_of: date
    months: int
    requested_by: str
    status: str  # running | done | failed
    started_at: datetime
    finished_at: datetime | None
    documents: int
    error: str | None
