"""Delivery by e-mail of invoices, credit notes and statements (docs/delivery.md).

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
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from recur import mail
from recur import presentation as fmt
from recur.db.audit import action, record
from recur.db.repositories import accounts as stored_accounts
from recur.db.repositories import delivery as stored
from recur.db.repositories import identity as stored_identity
from recur.db.repositories import invoices as stored_invoices
from recur.db.session import Database
from recur.domain.accounts import Account
from recur.domain.catalogue import InvoiceType
from recur.domain.delivery import (
    RETRY,
    Delivered,
    DeliveryEvent,
    MailKind,
    MailSettings,
    MailTemplate,
    OutboxEntry,
    Security,
    check_template,
    render,
)
from recur.domain.errors import InvalidInput, NotFound
from recur.domain.identity import NO_SELLER
from recur.domain.issued import Invoice
from recur.services import documents, statements
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


def mail_templates(db: Database) -> dict[MailKind, MailTemplate]:
    """Each kind of e-mail's subject and body: the saved ones, else the defaults."""
    with db.read() as session:
        return stored.mail_templates(session)


@action
def update_mail_template(
    db: Database, kind: str, subject: str, body: str, actor: str
) -> MailTemplate:
    """Check both templates first (only the kind's placeholders): a refused edit changes
    nothing."""
    checked = MailKind(check_choice(kind, MailKind, "kind"))
    template = MailTemplate(
        checked, _template(subject, "subject", checked), _template(body, "body", checked)
    )

    def work(session: Session) -> MailTemplate:
        stored.save_mail_template(session, template)
        record(session, actor, "mail_template.updated", "mail_template", 0, kind=checked.value)
        return template

    return db.run(work)


def _template(source: str, field: str, kind: MailKind) -> str:
    if not source.strip():
        raise InvalidInput(f"missing_{field}", f"{field} must not be empty")
    if len(source) > TEMPLATE_LENGTH:
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be at most {TEMPLATE_LENGTH} characters"
        )
    return check_template(source, field, kind)


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


def statement_deliveries(db: Database, account_id: int) -> list[DeliveryEvent]:
    """The delivery log of the account's statements, oldest first."""
    with db.read() as session:
        if stored_accounts.get_account(session, account_id) is None:
            raise NotFound("account_not_found", f"account {account_id} does not exist")
        return stored.statement_log(session, account_id)


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
        contents = _contents(session, entry, env.seller_name)
        recipients = ", ".join(contents.account.recipients)
        mail.send(settings, _message(session, settings, entry, contents))
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


@dataclass(frozen=True)
class Contents:
    """What an e-mail carries: to whom, its kind's template values, its PDF."""

    account: Account
    kind: MailKind
    values: dict[str, str]
    pdf: bytes
    filename: str


def _contents(session: Session, entry: OutboxEntry, seller: str) -> Contents:
    if entry.invoice_id is None:
        return _statement_contents(session, entry, seller)
    invoice = stored_invoices.by_id(session, entry.invoice_id)
    assert invoice is not None  # the outbox row refers to it
    account = stored_accounts.get_account(session, invoice.account.id)
    assert account is not None
    pdf = documents.render(documents.printed(session, invoice, seller))
    kind = MailKind.CREDIT_NOTE if invoice.type == InvoiceType.CREDIT else MailKind.INVOICE
    return Contents(
        account, kind, _document_values(invoice, account, seller), pdf, f"{invoice.number}.pdf"
    )


def _document_values(invoice: Invoice, account: Account, seller: str) -> dict[str, str]:
    return {
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


def _statement_contents(session: Session, entry: OutboxEntry, seller: str) -> Contents:
    from recur.pdf.statement import render_statement_pdf  # loading WeasyPrint takes a while

    # A statement's row names its account and period (the table's CHECK).
    assert entry.account_id is not None
    assert entry.statement_from is not None
    assert entry.statement_to is not None
    account = stored_accounts.get_account(session, entry.account_id)
    assert account is not None
    period = (entry.statement_from, entry.statement_to)
    found = statements.statement_in(session, account, period)
    named = statements.named(stored_identity.seller(session) or NO_SELLER, seller)
    closing = ", ".join(fmt.money(part.closing, part.currency) for part in found.currencies)
    values = {
        "account_name": account.name,
        "seller": named.legal_name,
        "period_from": fmt.day(period[0]),
        "period_to": fmt.day(period[1]),
        "closing_balance": closing or fmt.money(0, account.currency),
    }
    pdf = render_statement_pdf(found, account, named)
    filename = f"statement-{period[0].isoformat()}-{period[1].isoformat()}.pdf"
    return Contents(account, MailKind.STATEMENT, values, pdf, filename)


def _message(
    session: Session, settings: MailSettings, entry: OutboxEntry, contents: Contents
) -> EmailMessage:
    template = stored.mail_templates(session)[contents.kind]
    account = contents.account
    message = EmailMessage()
    # One line: a template's line break must not start a header of its own.
    message["Subject"] = " ".join(render(template.subject, contents.values).split())
    message["From"] = settings.sender
    message["To"] = account.send_to
    if account.cc_emails:
        message["Cc"] = ", ".join(account.cc_emails)
    message["Message-ID"] = entry.message_id(settings.sender)
    message.set_content(render(template.body, contents.values))
    message.add_attachment(
        contents.pdf, maintype="application", subtype="pdf", filename=contents.filename
    )
    return message
