"""Timestamps as the records carry them: timezone-aware, in UTC."""

from datetime import UTC, datetime


def aware(value: datetime) -> datetime:
    """A stored timestamp in UTC; SQLite gives it back without its zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
