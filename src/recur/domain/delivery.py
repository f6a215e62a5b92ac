"""Delivery by e-mail, as plain values and rules: the SMTP settings, an account's
delivery options, the outbox's entries and log, the retry rule and the templates.

Templates are written by admins: they are rendered in Jinja's sandbox, with
undefined names refused, and see only the values `template_values` gives them.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jinja2 import StrictUndefined, TemplateError
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


DEFAULT_SUBJECT = "{{ document }} {{ number }} from {{ seller }}"
DEFAULT_BODY = """Dear {{ account_name }},

please find attached {{ document | lower }} {{ number }} of {{ issue_date }} \
for {{ total }}{% if due_date %}, due on {{ due_date }}{% endif %}.

{{ seller }}
"""

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
    subject_template: str
    body_template: str

    def __repr__(self) -> str:  # a repr may reach a log: it never carries the password
        return f"MailSettings({self.host}:{self.port}, {self.security}, from {self.sender})"

    @property
    def has_password(self) -> bool:
        return bool(self.password)


@dataclass(frozen=True, slots=True)
class AccountDelivery:
    """Where an account's documents go: `billing_email` (its e-mail unless set) with
    `cc_emails`; `auto_send` queues every document issued to it."""

    account_id: int
    billing_email: str
    cc_emails: tuple[str, ...]
    auto_send: bool

    @property
    def recipients(self) -> tuple[str, ...]:
        return (self.billing_email, *self.cc_emails)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A queued e-mail of a document, as the worker claimed it."""

    id: int
    invoice_id: int
    attempts: int

    def message_id(self, sender: str) -> str:
        """The same Message-ID for every attempt: a resend after a crash between the
        server's acceptance and the mark is recognisable as the same e-mail."""
        domain = sender.rpartition("@")[2] or "recur.invalid"
        return f"<recur-delivery-{self.id}@{domain}>"


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One line of a document's delivery log."""

    outbox_id: int
    outcome: Outcome
    at: datetime
    recipients: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a delivery worker's pass did."""

    sent: int
    failed: int


_SANDBOX = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def check_template(source: str, field: str) -> str:
    """A template that compiles and uses only the documented values."""
    try:
        _SANDBOX.from_string(source).render(SAMPLE_VALUES)
    except TemplateError as error:
        raise InvalidInput(
            f"invalid_{field}", f"{field} is not a valid template: {error}"
        ) from error
    return source


def render(source: str, values: dict[str, str]) -> str:
    return _SANDBOX.from_string(source).render(values)


# The names a template may use, with an example of each (docs/delivery.md).
SAMPLE_VALUES = {
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
