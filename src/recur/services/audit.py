"""Reading the audit trail: a subject's activity and the global log (SPEC §19).

Writing it is db/audit.py's: every state-changing service is an `@action`."""

from dataclasses import replace

from recur.db.repositories import audit as stored
from recur.db.session import Database
from recur.domain.audit import AuditEvent, AuditFilter
from recur.domain.errors import InvalidInput
from recur.domain.pages import Page
from recur.services.validation import check_day, check_text

# The columns' widths (db/models.py AuditEvent).
_WIDTHS = {"subject_type": 32, "actor": 200, "action": 64}


def audit_events(
    db: Database, where: AuditFilter, limit: int = 50, cursor: str | None = None
) -> Page[AuditEvent]:
    """Events newest first, as filtered by `where`."""
    checked = _checked(where)
    with db.read() as session:
        return stored.page(session, checked, limit, cursor)


def activity(
    db: Database, subject_type: str, subject_id: int, limit: int = 50, cursor: str | None = None
) -> Page[AuditEvent]:
    """What was done to one subject, newest first; an account's activity takes in its
    subscriptions', invoices' and payments' events."""
    where = AuditFilter(subject_type, subject_id, with_account_documents=True)
    return audit_events(db, where, limit, cursor)


def _checked(where: AuditFilter) -> AuditFilter:
    for field, named in (("occurred_from", "from"), ("occurred_to", "to")):
        day = getattr(where, field)
        if day is not None:
            check_day(day, named)
    if where.occurred_from and where.occurred_to and where.occurred_from > where.occurred_to:
        raise InvalidInput("invalid_date_range", "from must be on or before to")
    return replace(
        where,
        subject_type=_text(where.subject_type, "subject_type"),
        actor=_text(where.actor, "actor"),
        action=_text(where.action, "action"),
    )


def _text(value: str | None, field: str) -> str | None:
    return None if value is None else check_text(value, field, _WIDTHS[field])
