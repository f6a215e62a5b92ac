"""The audit trail: every state change records who did it."""

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from recur.db.models import AuditEvent


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **detail: object,
) -> None:
    session.connection().execute(
        _INSERT, event_row(actor, action, subject_type, subject_id, **detail)
    )


def event_row(
    actor: str, action: str, subject_type: str, subject_id: int | None, **detail: object
) -> dict[str, object]:
    """An audit event's row, for `record` or a batch of writes."""
    return {
        "occurred_at": datetime.now(UTC),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "detail": detail,
    }


# Built once: the statement's cache key is computed once too.
_INSERT = insert(AuditEvent)
