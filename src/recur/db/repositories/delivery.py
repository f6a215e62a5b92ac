"""Delivery by e-mail: the SMTP settings, the templates, the outbox and the delivery
log of each document and of each account's statements."""

import json
from collections.abc import Sequence
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.orm import Session

from recur.db import driver
from recur.db.final_writes import FinalWrites
from recur.db.models import DeliveryAttempt, DeliveryOutbox
from recur.db.models import MailSettings as MailSettingsRow
from recur.db.models import MailTemplate as MailTemplateRow
from recur.db.repositories.utc import as_utc
from recur.domain.delivery import (
    DEFAULT_TEMPLATES,
    DeliveryEvent,
    MailKind,
    MailSettings,
    MailTemplate,
    OutboxEntry,
    Outcome,
    Security,
)


def mail_settings(session: Session) -> MailSettings | None:
    """The saved settings, None until an admin first saves them."""
    row = session.get(MailSettingsRow, 1)
    if row is None:
        return None
    return MailSettings(
        host=row.host,
        port=row.port,
        security=Security(row.security),
        sender=row.sender,
        username=row.username,
        password=row.password,
    )


def save_mail_settings(session: Session, settings: MailSettings) -> None:
    row = session.get(MailSettingsRow, 1, with_for_update=True) or MailSettingsRow(id=1)
    row.host, row.port, row.security = settings.host, settings.port, settings.security.value
    row.sender, row.username, row.password = settings.sender, settings.username, settings.password
    session.add(row)
    session.flush()


def mail_templates(session: Session) -> dict[MailKind, MailTemplate]:
    """Each kind's templates: the saved ones, else the defaults."""
    saved = {
        MailKind(row.kind): MailTemplate(MailKind(row.kind), row.subject, row.body)
        for row in session.scalars(select(MailTemplateRow))
    }
    return DEFAULT_TEMPLATES | saved


def save_mail_template(session: Session, template: MailTemplate) -> None:
    row = session.get(MailTemplateRow, template.kind.value, with_for_update=True)
    row = row or MailTemplateRow(kind=template.kind.value)
    row.subject, row.body = template.subject, template.body
    session.add(row)
    session.flush()


def queue(session: Session, invoice_id: int, requested_by: str, now: datetime) -> int:
    """Queue an e-mail of the document, due now; its outbox id."""
    row = DeliveryOutbox(
        invoice_id=invoice_id, requested_by=requested_by, created_at=now, next_attempt_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def queue_statement(
    session: Session,
    account_id: int,
    period: tuple[date, date],
    requested_by: str,
    now: datetime,
) -> int:
    """Queue an e-mail of the account's statement over `period`, due now; its outbox id."""
    row = DeliveryOutbox(
        account_id=account_id,
        statement_from=period[0],
        statement_to=period[1],
        requested_by=requested_by,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def queue_automatic(writes: FinalWrites, invoice_ids: Sequence[int], requested_by: str) -> None:
    """Queue, among the documents just issued, those of accounts that send automatically:
    one statement for the whole batch, among the issuing transaction's final writes, so
    the e-mail exists exactly when the document does (after the documents' rows)."""
    if not invoice_ids:
        return
    if writes.postgres:
        writes.execute(
            _QUEUE_AUTOMATIC_PG, {"ids": list(invoice_ids), "requested_by": requested_by}
        )
    else:  # SQLite runs each write when given (db/final_writes.py)
        writes.session.execute(
            _QUEUE_AUTOMATIC_SQLITE,
            {"ids": json.dumps(list(invoice_ids)), "requested_by": requested_by},
        )


_QUEUE_AUTOMATIC = (
    "INSERT INTO delivery_outbox (invoice_id, requested_by) "
    "SELECT i.id, :requested_by FROM invoices i "
    "JOIN accounts a ON a.id = i.account_id "
    "WHERE a.auto_send AND i.id {ids} ORDER BY i.id"
)
_QUEUE_AUTOMATIC_PG = text(_QUEUE_AUTOMATIC.format(ids="= ANY(CAST(:ids AS INTEGER[]))"))
_QUEUE_AUTOMATIC_SQLITE = text(
    _QUEUE_AUTOMATIC.format(ids="IN (SELECT value FROM json_each(:ids))")
)


def claim_due(session: Session, now: datetime) -> OutboxEntry | None:
    """The next queued e-mail due by `now`, locked until the transaction ends: a worker
    that claims it is the only one to send it; other workers skip it (PostgreSQL; on
    SQLite a write transaction has the whole database)."""
    row = session.execute(
        select(DeliveryOutbox.id, DeliveryOutbox.invoice_id, DeliveryOutbox.attempts)
        .add_columns(
            DeliveryOutbox.account_id, DeliveryOutbox.statement_from, DeliveryOutbox.statement_to
        )
        .where(DeliveryOutbox.status == "queued", DeliveryOutbox.next_attempt_at <= now)
        .order_by(DeliveryOutbox.next_attempt_at, DeliveryOutbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    return None if row is None else OutboxEntry(*row)


def mark_sent(session: Session, entry: OutboxEntry, now: datetime, recipients: str) -> None:
    session.execute(
        update(DeliveryOutbox)
        .where(DeliveryOutbox.id == entry.id)
        .values(status="sent", sent_at=now, attempts=entry.attempts + 1)
    )
    _log(session, entry, Outcome.SENT, now, recipients, None)


def mark_failed(
    session: Session,
    entry: OutboxEntry,
    now: datetime,
    retry_at: datetime,
    recipients: str | None,
    error: str,
) -> None:
    session.execute(
        update(DeliveryOutbox)
        .where(DeliveryOutbox.id == entry.id)
        .values(attempts=entry.attempts + 1, next_attempt_at=retry_at)
    )
    _log(session, entry, Outcome.FAILED, now, recipients, error)


def _log(
    session: Session,
    entry: OutboxEntry,
    outcome: Outcome,
    now: datetime,
    recipients: str | None,
    error: str | None,
) -> None:
    driver.insert_rows(
        session,
        DeliveryAttempt,
        [
            {
                "outbox_id": entry.id,
                "invoice_id": entry.invoice_id,
                "outcome": outcome.value,
                "at": now,
                "recipients": recipients,
                "error": error,
            }
        ],
    )


def log_of(session: Session, invoice_id: int) -> list[DeliveryEvent]:
    """The document's delivery log, oldest first."""
    return _log_where(session, DeliveryOutbox.invoice_id == invoice_id)


def statement_log(session: Session, account_id: int) -> list[DeliveryEvent]:
    """The delivery log of the account's statements, oldest first."""
    return _log_where(session, DeliveryOutbox.account_id == account_id)


def _log_where(session: Session, chosen: ColumnElement[bool]) -> list[DeliveryEvent]:
    """Each queueing (from the outbox), then each attempt, numbered per queued e-mail."""
    queued = [
        DeliveryEvent(row.id, Outcome.QUEUED, as_utc(row.created_at), None, None)
        for row in session.execute(
            select(DeliveryOutbox.id, DeliveryOutbox.created_at).where(chosen)
        )
    ]
    rows = session.scalars(
        select(DeliveryAttempt)
        .join(DeliveryOutbox, DeliveryOutbox.id == DeliveryAttempt.outbox_id)
        .where(chosen)
        .order_by(DeliveryAttempt.outbox_id, DeliveryAttempt.id)
    )
    attempts = [
        DeliveryEvent(
            row.outbox_id, Outcome(row.outcome), as_utc(row.at), row.recipients, row.error, number
        )
        for _outbox, tries in groupby(rows, key=lambda row: row.outbox_id)
        for number, row in enumerate(tries, start=1)
    ]
    return sorted(
        queued + attempts,
        key=lambda event: (event.at, event.outcome != Outcome.QUEUED, event.attempt or 0),
    )
