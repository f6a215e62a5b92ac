"""Billing runs as the services hand them to the doors: what a run did, and where it failed."""

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class BillingRunError:
    """One account a run could not bill, and why."""

    account_id: int | None
    code: str
    message: str
    occurred_at: datetime  # aware (UTC)


@dataclass(frozen=True, slots=True)
class BillingRun:
    id: int
    as_of: date
    worker: str
    triggered_by: str
    status: str  # running, completed, failed or interrupted, as stored
    started_at: datetime  # aware (UTC), as every timestamp here
    finished_at: datetime | None
    heartbeat_at: datetime | None
    accounts_processed: int
    invoices_issued: int
    charges_issued: int
    errors_count: int
    errors: tuple[BillingRunError, ...]
