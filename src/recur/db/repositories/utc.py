"""Timestamps as records hold them: aware, in UTC. SQLite returns the UTC instants it
was given without their zone."""

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def as_utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
