"""Delivery of invoices and credit notes by e-mail (docs/delivery.md).

Issuing a document for an account that sends automatically, or asking to send one,
writes a row in the outbox in the same transaction. The delivery worker
(`deliver_due`, a thread of the scheduler's process and of `recur worker`) claims one
row at a time, sends it, and marks it sent in the transaction that claimed it: a
failure leaves it queued for a later try, and no two workers send the same row.

The one window left is a crash after the SMTP server has accepted the e-mail and
before the mark commits: the row is still queued and is sent again (at least once),
with the same Message-ID, so the copy is recognisable as the same e-mail.
"""

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from recur import mail
from recur import presentation as fmt
from recur.db.audit import action, record
from recur.db.repositories import accounts as stored_accounts
from recur.db.repositories import delivery as stored
from recur.db.repositories import invoices as stored_invoices
from recur.db.session import Database
from recur.domain.delivery import (
    DEFAULT_BODY,
    DEFAULT_SUBJECT,
    RETRY,
    AccountDelivery,
    Delivered,
    DeliveryEvent,
    MailSettings,
    OutboxEntry,
    Security,
    check_template,
    render,
)
from recur.domain.errors import InvalidInput, NotFound
from recur.domain.issued import Invoice
from recur.services import documents
from recur.services.validation import (
    EMAIL_LENGTH,
    check_choice,
    check_email,
    check_text,
    check_whole_number,
)
from recur.settings import Settings

log = logging.getLogger("recur.delivery")

HOST_LENGTH = 253
PASSWORD_LENGTH = 500
TEMPLATE_LENGTH = 10_000
MAX_CC = 10


@dataclass(frozen=True)
class MailSettingsSpec:
    """An admin's edit of the SMTP settings; `password` None keeps the stored one,
    "" removes it."""

    host: str
    port: int
    security: str
    sender: str
    username: str | None
    password: str | None
    subject_template: str
    body_template: str


def mail_settings(db: Database, env: Settings) -> MailSettings:
    """The settings in force: the saved ones, else `env`'s (RECUR_SMTP_*)."""
    with db.read() as session:
        return stored.mail_settings(session) or _defaults(env)


def _defaults(settings: Settings) -> MailSettings:
    password = settings.smtp_password
    return MailSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=Security(settings.smtp_security),
        sender=settings.mail_from,
        username=settings.smtp_user,
        password=password.get_secret_value() if password is not None else None,
        subject_template=DEFAULT_SUBJECT,
        body_template=DEFAULT_BODY,
    )


@action
def update_mail_settings(
    db: Database, spec: MailSettingsSpec, actor: str, env: Settings
) -> MailSettings:
    """Check every field first: a refused edit changes nothing."""
    host = check_text(spec.host, "host", HOST_LENGTH)
    if any(char.isspace() or char in "/@" for char in host):
        raise InvalidInput("invalid_host", "host must be a host name or an IP address")
    username = check_text(spec.username, "username", EMAIL_LENGTH) if spec.username else None
    if spec.password is not None and len(spec.password) > PASSWORD_LENGTH:
        raise InvalidInput(
            "invalid_password", f"password must be at most {PASSWORD_LENGTH} characters"
        )
    checked = {
        "host": host,
        "port": check_whole_number(spec.port, "port", 1, 65535),
        "security": Security(check_choice(spec.security, Security, "security")),
        "sender": check_email(spec.sender, "sender"),
        "username": username,
        "subject_template": _template(spec.subject_template, "subject_template"),
        "body_template": _template(spec.body_template, "body_template"),
    }

    def work(session: Session) -> MailSettings:
        kept = stored.mail_settings(session) or _defaults(env)
        password = kept.password if spec.password is None else (spec.password or None)
        settings = MailSettings(**checked, password=password)  # type: ignore[arg-type]
        stored.save_mail_settings(session, settings)
        # The audit says whether the password changed, never what it is.
        record(
            session,
            actor,
            "mail_settings.updated",
            "mail_settings",
            1,
            host=host,
            port=settings.port,
            security=settings.security.value,
            sender=settings.sender,
            password_changed=spec.password is not None,
        )
        return settings

    return db.run(work)


def _template(source: str, field: str) -> str:
    if not source.strip():
        raise InvalidInput(f"missing_{field}", f"{field} must not be empty")
    if len(source) > TEMPLATE_LENGTH:
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be at most {TEMPLATE_LENGTH} characters"
        )
    return check_template(source, field)


def account_delivery(db: Database, account_id: int) -> AccountDelivery:
    with db.read() as session:
        return _options(session, account_id)


def _options(session: Session, account_id: int) -> AccountDelivery:
    options = stored.account_delivery(session, account_id)
    if options is None:
        raise NotFound("account_not_found", f"account {account_id} does not exist")
    return options


@action
def update_account_delivery(
    db: Database,
    account_id: int,
    billing_email: str | None,
    cc_emails: Sequence[str],
    auto_send: bool,
    actor: str,
) -> AccountDelivery:
    """`billing_email` None or blank: the account's own e-mail."""
    email = check_email(billing_email, "billing_email") if billing_email else None
    if len(cc_emails) > MAX_CC:
        raise InvalidInput("invalid_cc_emails", f"cc_emails must hold at most {MAX_CC} addresses")
    cc = tuple(dict.fromkeys(check_email(address, "cc_emails") for address in cc_emails))

    def work(session: Session) -> AccountDelivery:
        if stored_accounts.lock_account(session, account_id) is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        stored.save_account_delivery(session, account_id, email, cc, auto_send)
        record(
            session,
            actor,
            "account.delivery_updated",
            "account",
            account_id,
            billing_email=email,
            cc_emails=list(cc),
            auto_send=auto_send,
        )
        return _options(session, account_id)

    return db.run(work)


@action
def send_document(db: Database, invoice_id: int, actor: str) -> int:
    """Queue an e-mail of the invoice or credit note (Send and Resend); its outbox id."""

    def work(session: Session) -> int:
        invoice = stored_invoices.by_id(session, invoice_id)
        if invoice is None:
            raise NotFound("invoice_not_found", f"invoice {invoice_id} does not exist")
        queued = stored.queue(session, invoice_id, actor, datetime.now(UTC))
        record(session, actor, "invoice.send_queued", "invoice", invoice_id, outbox_id=queued)
        return queued

    return db.run(work)


def deliveries(db: Database, invoice_id: int) -> list[DeliveryEvent]:
    """The document's delivery log, oldest first."""
    with db.read() as session:
        if stored_invoices.by_id(session, invoice_id) is None:
            raise NotFound("invoice_not_found", f"invoice {invoice_id} does not exist")
        return stored.log_of(session, invoice_id)


def deliver_due(
    db: Database, env: Settings, now: datetime | None = None, limit: int = 100
) -> Delivered:
    """Send up to `limit` queued e-mails due by `now`, one transaction each; `env` gives
    the seller's name and the SMTP settings until an admin saves some."""
    sent = failed = 0
    for _ in range(limit):
        outcome = db.run(lambda session: _deliver_one(session, env, now or datetime.now(UTC)))
        if outcome is None:
            break
        sent, failed = (sent + 1, failed) if outcome else (sent, failed + 1)
    return Delivered(sent, failed)


def _deliver_one(session: Session, env: Settings, now: datetime) -> bool | None:
    """Claim, send and mark one e-mail: True sent, False failed, None nothing due."""
    entry = stored.claim_due(session, now)
    if entry is None:
        return None
    settings = stored.mail_settings(session) or _defaults(env)
    recipients: str | None = None
    try:
        invoice = stored_invoices.by_id(session, entry.invoice_id)
        assert invoice is not None  # the outbox row refers to it
        options = _options(session, invoice.account.id)
        recipients = ", ".join(options.recipients)
        message = _message(session, settings, entry, invoice, options, env.seller_name)
        mail.send(settings, message)
    except (smtplib.SMTPException, OSError, InvalidInput) as error:
        reason = str(error) or type(error).__name__
        retry_at = now + RETRY.wait_after(entry.attempts)
        stored.mark_failed(session, entry, now, retry_at, recipients, reason)
        log.warning(
            "e-mail not sent", extra={"outbox_id": entry.id, "error": reason, "retry_at": retry_at}
        )
        return False
    stored.mark_sent(session, entry, now, recipients)
    return True


def _message(
    session: Session,
    settings: MailSettings,
    entry: OutboxEntry,
    invoice: Invoice,
    options: AccountDelivery,
    seller: str,
) -> EmailMessage:
    account = stored_accounts.get_account(session, invoice.account.id)
    assert account is not None
    values = {
        "document": fmt.document_type(invoice.type),
        "number": invoice.number,
        "issue_date": fmt.day(invoice.issue_date),
        "due_date": fmt.day(invoice.due_date),
        "subtotal": fmt.money(invoice.subtotal, invoice.currency),
        "tax": fmt.money(invoice.tax, invoice.currency),
        "total": fmt.money(invoice.total, invoice.currency),
        "currency": invoice.currency,
        "account_name": account.name,
        "seller": seller,
    }
    message = EmailMessage()
    # One line: a template's line break must not start a header of its own.
    message["Subject"] = " ".join(render(settings.subject_template, values).split())
    message["From"] = settings.sender
    message["To"] = options.billing_email
    if options.cc_emails:
        message["Cc"] = ", ".join(options.cc_emails)
    message["Message-ID"] = entry.message_id(settings.sender)
    message.set_content(render(settings.body_template, values))
    pdf = documents.render(documents.printed(session, invoice, seller))
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{invoice.number}.pdf"
    )
    return message
