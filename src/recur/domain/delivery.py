"""Delivery by e-mail, as plain values and rules: the SMTP settings, the outbox's
entries and log, the retry rule and the templates.

Templates are written by admins: they are rendered in Jinja's sandbox, with
undefined names refused, and see only the values of their kind (`PLACEHOLDERS`).
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from recur.domain.backoff import Backoff
from recur.domain.errors import InvalidInput


class Security(StrEnum):
    NONE = "none"  # plain SMTP (a relay on the same host)
    STARTTLS = "starttls"  # plain, then upgraded to TLS before credentials
    TLS = "tls"  # TLS from the first byte (SMTPS, usually port 465)


class Outcome(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class MailKind(StrEnum):
    """What an e-mail carries; each kind has its own subject and body templates."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class MailTemplate:
    kind: MailKind
    subject: str
    body: str

    @property
    def placeholders(self) -> list[str]:
        return list(PLACEHOLDERS[self.kind])


_DOCUMENT_SUBJECT = "{{ document }} {{ number }} from {{ seller }}"
DEFAULT_TEMPLATES = {
    MailKind.INVOICE: MailTemplate(
        MailKind.INVOICE,
        _DOCUMENT_SUBJECT,
        """Dear {{ account_name }},

please find attached invoice {{ number }} of {{ issue_date }} for {{ total }}, \
due on {{ due_date }}.

{{ seller }}
""",
    ),
    MailKind.CREDIT_NOTE: MailTemplate(
        MailKind.CREDIT_NOTE,
        _DOCUMENT_SUBJECT,
        """Dear {{ account_name }},

please find attached credit note {{ number }} of {{ issue_date }} for {{ total }}.

{{ seller }}
""",
    ),
    MailKind.STATEMENT: MailTemplate(
        MailKind.STATEMENT,
        "Statement of account from {{ seller }}, {{ period_from }} to {{ period_to }}",
        """Dear {{ account_name }},

please find attached your statement of account from {{ period_from }} to \
{{ period_to }}: closing balance {{ closing_balance }}.

{{ seller }}
""",
    ),
}

# A failed e-mail is tried again after 1 minute, then 2, 4, … up to an hour, until sent.
RETRY = Backoff(threshold=0, first_wait=60.0, longest_wait=3600.0)


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str
    port: int
    security: Security
    sender: str
    username: str | None
    password: str | None  # never shown back (see `shown`) nor logged

    def __repr__(self) -> str:  # a repr may reach a log: it never carries the password
        return f"MailSettings({self.host}:{self.port}, {self.security}, from {self.sender})"

    @property
    def has_password(self) -> bool:
        return bool(self.password)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A queued e-mail, as the worker claimed it: of a document (`invoice_id`), or of
    a statement of account (`account_id` over `statement_from`..`statement_to`)."""

    id: int
    invoice_id: int | None
    attempts: int
    account_id: int | None = None
    statement_from: date | None = None
    statement_to: date | None = None

    def message_id(self, sender: str) -> str:
        """The same Message-ID for every attempt: a resend after a crash between the
        server's acceptance and the mark is recognisable as the same e-mail."""
        domain = sender.rpartition("@")[2] or "recur.invalid"
        return f"<recur-delivery-{self.id}@{domain}>"


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One line of a document's delivery log; `attempt` numbers the tries of one
    queued e-mail (None for the queueing itself), so a try after a failure is a retry."""

    outbox_id: int
    outcome: Outcome
    at: datetime
    recipients: str | None
    error: str | None
    attempt: int | None = None

    @property
    def retry(self) -> bool:
        return self.attempt is not None and self.attempt > 1


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a delivery worker's pass did."""

    sent: int
    failed: int


_SANDBOX = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def check_template(source: str, field: str, kind: MailKind) -> str:
    """A template that compiles and uses only the placeholders of its kind."""
    try:
        _SANDBOX.from_string(source).render(PLACEHOLDERS[kind])
    except UndefinedError as error:
        names = ", ".join(PLACEHOLDERS[kind])
        raise InvalidInput(
            f"invalid_{field}", f"{field} uses an unknown placeholder ({error}); use {names}"
        ) from error
    except TemplateError as error:
        raise InvalidInput(
            f"invalid_{field}", f"{field} is not a valid template: {error}"
        ) from error
    return source


def render(source: str, values: dict[str, str]) -> str:
    return _SANDBOX.from_string(source).render(values)


_DOCUMENT_VALUES = {
    "document": "Invoice",
    "number": "INV-2026-000001",
    "issue_date": "1 Feb 2026",
    "due_date": "3 Mar 2026",
    "subtotal": "€100.00",
    "tax": "€20.00",
    "total": "€120.00",
    "currency": "EUR",
    "account_name": "Acme",
    "seller": "Recur Cloud Services",
}
# The names each kind's templates may use, with an example of each (docs/delivery.md).
PLACEHOLDERS: dict[MailKind, dict[str, str]] = {
    MailKind.INVOICE: _DOCUMENT_VALUES,
    MailKind.CREDIT_NOTE: _DOCUMENT_VALUES | {"document": "Credit note", "total": "-€120.00"},
    MailKind.STATEMENT: {
        "account_name": "Acme",
        "seller": "Recur Cloud Services",
        "period_from": "1 Jan 2026",
        "period_to": "31 Mar 2026",
        "closing_balance": "€120.00",
    },
}
