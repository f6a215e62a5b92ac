"""Delivery by e-mail: the SMTP settings, accounts' delivery options, the outbox and
each document's delivery log."""

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from recur.db import driver
from recur.db.final_writes import FinalWrites
from recur.db.models import Account as AccountRow
from recur.db.models import AccountDelivery as AccountDeliveryRow
from recur.db.models import DeliveryAttempt, DeliveryOutbox
from recur.db.models import MailSettings as MailSettingsRow
from recur.db.repositories.utc import as_utc
from recur.domain.delivery import (
    AccountDelivery,
    DeliveryEvent,
    MailSettings,
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
        subject_template=row.subject_template,
        body_template=row.body_template,
    )


def save_mail_settings(session: Session, settings: MailSettings) -> None:
    row = session.get(MailSettingsRow, 1, with_for_update=True) or MailSettingsRow(id=1)
    row.host, row.port, row.security = settings.host, settings.port, settings.security.value
    row.sender, row.username, row.password = settings.sender, settings.username, settings.password
    row.subject_template, row.body_template = settings.subject_template, settings.body_template
    session.add(row)
    session.flush()


def account_delivery(session: Session, account_id: int) -> AccountDelivery | None:
    """The account's delivery options (its own e-mail until set); None: no such account."""
    found = session.execute(
        select(AccountRow.email, AccountDeliveryRow)
        .outerjoin(AccountDeliveryRow, AccountDeliveryRow.account_id == AccountRow.id)
        .where(AccountRow.id == account_id)
    ).first()
    if found is None:
        return None
    email, row = found
    if row is None:
        return AccountDelivery(account_id, email, (), False)
    return AccountDelivery(
        account_id, row.billing_email or email, tuple(row.cc_emails), row.auto_send
    )


def save_account_delivery(
    session: Session, account_id: int, billing_email: str | None, cc: Sequence[str], auto: bool
) -> None:
    """Write validated options (`billing_email` None: the account's own e-mail)."""
    row = session.get(AccountDeliveryRow, account_id, with_for_update=True)
    if row is None:
        row = AccountDeliveryRow(account_id=account_id)
    row.billing_email, row.cc_emails, row.auto_send = billing_email, list(cc), auto
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
    "JOIN account_delivery d ON d.account_id = i.account_id "
    "WHERE d.auto_send AND i.id {ids} ORDER BY i.id"
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
        .where(DeliveryOutbox.status == "queued", DeliveryOutbox.next_attempt_at <= now)
        .order_by(DeliveryOutbox.next_attempt_at, DeliveryOutbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    return None if row is None else OutboxEntry(row.id, row.invoice_id, row.attempts)


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
    """The document's delivery log, oldest first: each queueing (from the outbox), then
    each attempt."""
    queued = [
        DeliveryEvent(row.id, Outcome.QUEUED, as_utc(row.created_at), None, None)
        for row in session.execute(
            select(DeliveryOutbox.id, DeliveryOutbox.created_at).where(
                DeliveryOutbox.invoice_id == invoice_id
            )
        )
    ]
    attempts = [
        DeliveryEvent(
            row.outbox_id, Outcome(row.outcome), as_utc(row.at), row.recipients, row.error
        )
        for row in session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.invoice_id == invoice_id)
        )
    ]
    return sorted(queued + attempts, key=lambda event: (event.at, event.outcome != Outcome.QUEUED))
