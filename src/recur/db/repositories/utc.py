"""Timestamps as records hold them: aware, in UTC (SQLite gives them back naive)."""

from datetime import UTC, datetime


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)
