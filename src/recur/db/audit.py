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
    session.execute(
        insert(AuditEvent).values(
            occurred_at=datetime.now(UTC),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )
