"""The audit trail's records: who did what, when, and from which door (SPEC §19)."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Door(StrEnum):
    """Where a state change came in."""

    API = "api"
    WEB = "web"
    CLI = "cli"
    SCHEDULER = "scheduler"  # the billing and delivery workers, on their own


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    occurred_at: datetime  # aware (UTC)
    actor: str
    door: Door
    action: str
    subject_type: str
    subject_id: int | None
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events a list shows; None: any. `occurred_from` and `occurred_to` are whole
    days (UTC), both included."""

    subject_type: str | None = None
    subject_id: int | None = None
    actor: str | None = None
    action: str | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    # An account's activity takes in its subscriptions' and invoices' events too.
    with_account_documents: bool = False
