"""Delivery by e-mail against a real SMTP server (tests/smtp.py): an issued document
is sent once, after its transaction commits; a refused e-mail is retried and logged;
a process killed between the commit and the send loses nothing and sends nothing
twice; bad settings and addresses are refused and change nothing."""

import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from recur.db.models import DeliveryOutbox
from recur.db.session import Database
from recur.domain.catalogue import CancelAt
from recur.domain.delivery import Outcome
from recur.domain.errors import InvalidInput
from recur.services import accounts, delivery, invoicing, subscriptions
from recur.services.billing_run import run_billing
from recur.services.delivery import MailSettingsSpec
from tests.integration.factories import account, product, subscribe
from tests.smtp import ENV, MailServer

T = date(2027, 3, 1)
ACTOR = "test"


def _automatic(db: Database, name: str = "Acme Ltd") -> int:
    acme = account(db, name)
    options = {
        "billing_email": "ap@acme.example.com",
        "cc_emails": ["cfo@acme.example.com"],
        "auto_send": True,
    }
    accounts.update_account(db, acme, options, ACTOR)
    return acme


def _outbox_rows(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(DeliveryOutbox)) or 0)


def test_an_issued_document_is_sent_once_after_its_transaction_commits(
    db: Database, mail_server: MailServer
) -> None:
    mail_server.use_it(db)
    acme = _automatic(db)
    sub = subscribe(db, acme, product(db, unit_price="100.00"), T)

    [issued] = invoicing.generate_for_account(db, acme, [sub], T, ACTOR).invoices

    assert mail_server.received == []  # issuing only queued it
    assert [e.outcome for e in delivery.deliveries(db, issued.id)] == [Outcome.QUEUED]
    assert delivery.deliver_due(db, ENV).sent == 1
    assert delivery.deliver_due(db, ENV).sent == 0  # a second pass sends nothing again
    [mail] = mail_server.received
    assert mail.sender == "billing@seller.example.com"
    assert mail.recipients == ["ap@acme.example.com", "cfo@acme.example.com"]
    assert mail.message["Subject"] == f"Invoice {issued.number} for Acme Ltd"
    assert mail.message["Message-ID"].startswith("<recur-delivery-")
    assert f"Total €{issued.total:,.2f}, due" in mail.message.get_body(("plain",)).get_content()
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{issued.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    log = delivery.deliveries(db, issued.id)
    assert [e.outcome for e in log] == [Outcome.QUEUED, Outcome.SENT]
    assert log[1].recipients == "ap@acme.example.com, cfo@acme.example.com"


def test_the_billing_run_queues_only_accounts_that_send_automatically(
    db: Database, mail_server: MailServer
) -> None:
    mail_server.use_it(db)
    option = product(db)
    sending = [_automatic(db, f"Auto {n}") for n in range(3)]
    silent = [account(db, f"Manual {n}") for n in range(2)]
    for acc in sending + silent:
        subscribe(db, acc, option, T)

    run = run_billing(db, T, T, ACTOR, batch_size=2)

    assert run.invoices_issued == 5
    assert _outbox_rows(db) == 3
    assert delivery.deliver_due(db, ENV).sent == 3
    assert sorted(m.recipients[0] for m in mail_server.received) == ["ap@acme.example.com"] * 3


def test_a_refused_email_is_retried_later_and_logged_and_the_invoice_stays(
    db: Database, mail_server: MailServer
) -> None:
    mail_server.use_it(db)
    acme = _automatic(db)
    [issued] = invoicing.generate_for_account(
        db, acme, [subscribe(db, acme, product(db), T)], T, ACTOR
    ).invoices
    mail_server.refusing = True
    now = datetime.now(UTC)

    assert delivery.deliver_due(db, ENV, now).failed == 1
    assert delivery.deliver_due(db, ENV, now + timedelta(seconds=30)).failed == 0  # backing off
    mail_server.refusing = False
    assert delivery.deliver_due(db, ENV, now + timedelta(seconds=61)).sent == 1

    assert invoicing.get_invoice(db, issued.id).number == issued.number
    assert len(mail_server.received) == 1
    log = delivery.deliveries(db, issued.id)
    assert [e.outcome for e in log] == [Outcome.QUEUED, Outcome.FAILED, Outcome.SENT]
    assert log[1].error is not None
    assert "refused by the test" in log[1].error
    # The log numbers the tries of the e-mail: the send after the failure is a retry.
    assert [(e.attempt, e.retry) for e in log] == [(None, False), (1, False), (2, True)]


KILLED_BEFORE_SENDING = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date

    from recur import mail
    from recur.db.session import Database
    from recur.services.billing_run import run_billing
    from recur.services.delivery import deliver_due
    from recur.settings import Settings

    db = Database(sys.argv[1])
    run_billing(db, date(2027, 3, 1), date(2027, 3, 1), "doomed")

    def die(*_args):  # the documents are committed; the process dies before any send
        os.kill(os.getpid(), signal.SIGKILL)

    mail.send = die
    deliver_due(db, Settings(database_url=sys.argv[1], secret_key="doomed"))
    """
)


def test_a_process_killed_between_commit_and_send_loses_no_email_and_sends_none_twice(
    db: Database, db_url: str, mail_server: MailServer, tmp_path: Path
) -> None:
    mail_server.use_it(db)
    option = product(db)
    accounts = [_automatic(db, f"Auto {n}") for n in range(4)]
    for acc in accounts:
        subscribe(db, acc, option, T)
    script = tmp_path / "doomed.py"
    script.write_text(KILLED_BEFORE_SENDING)

    doomed = subprocess.run(
        [sys.executable, str(script), db_url], capture_output=True, text=True, timeout=120
    )

    assert doomed.returncode == -signal.SIGKILL, doomed.stderr
    assert mail_server.received == []
    assert _outbox_rows(db) == 4
    assert delivery.deliver_due(db, ENV).sent == 4
    assert delivery.deliver_due(db, ENV).sent == 0
    assert len(mail_server.received) == 4
    assert len({m.message["Message-ID"] for m in mail_server.received}) == 4


def test_send_and_resend_queue_one_email_each(db: Database, mail_server: MailServer) -> None:
    mail_server.use_it(db)
    acme = account(db)  # no automatic sending
    [issued] = invoicing.generate_for_account(
        db, acme, [subscribe(db, acme, product(db), T)], T, ACTOR
    ).invoices
    assert _outbox_rows(db) == 0

    delivery.send_document(db, issued.id, ACTOR)
    delivery.deliver_due(db, ENV)
    delivery.send_document(db, issued.id, ACTOR)
    delivery.deliver_due(db, ENV)

    first, second = mail_server.received
    assert first.recipients == second.recipients == [accounts.get_account(db, acme).email]
    assert first.message["Message-ID"] != second.message["Message-ID"]
    outcomes = [e.outcome for e in delivery.deliveries(db, issued.id)]
    assert outcomes == [Outcome.QUEUED, Outcome.SENT, Outcome.QUEUED, Outcome.SENT]


def _spec(**changes: object) -> MailSettingsSpec:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 2525,
        "security": "starttls",
        "sender": "billing@seller.example.com",
        "username": "relay",
        "password": "s3cret-password",
    }
    return MailSettingsSpec(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"host": " "}, "missing_host"),
        ({"host": "mail server"}, "invalid_host"),
        ({"port": 0}, "invalid_port"),
        ({"port": 70000}, "invalid_port"),
        ({"security": "ssl"}, "invalid_security"),
        ({"sender": "billing"}, "invalid_sender"),
        ({"sender": "a@b.c, evil@x.y"}, "invalid_sender"),
        ({"password": "x" * 501}, "invalid_password"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    db: Database, changes: dict[str, object], code: str
) -> None:
    delivery.update_mail_settings(db, _spec(), ACTOR, ENV)
    before = delivery.mail_settings(db, ENV)

    with pytest.raises(InvalidInput) as refused:
        delivery.update_mail_settings(db, _spec(**changes), ACTOR, ENV)

    assert refused.value.code == code
    assert delivery.mail_settings(db, ENV) == before


def test_the_password_is_kept_unless_given_and_never_shown(db: Database) -> None:
    delivery.update_mail_settings(db, _spec(), ACTOR, ENV)
    delivery.update_mail_settings(db, _spec(password=None, host="localhost"), ACTOR, ENV)

    kept = delivery.mail_settings(db, ENV)
    assert (kept.host, kept.password) == ("localhost", "s3cret-password")
    assert "s3cret" not in repr(kept)
    delivery.update_mail_settings(db, _spec(password=""), ACTOR, ENV)
    assert delivery.mail_settings(db, ENV).password is None


@pytest.mark.parametrize(
    ("billing_email", "cc", "code"),
    [
        ("not-an-address", [], "invalid_billing_email"),
        ("ap@acme.example.com", ["cfo@acme"], "invalid_cc_emails"),
        ("ap@acme.example.com", ["a@b.example.com\nBcc: x@y.z"], "invalid_cc_emails"),
        ("ap@acme.example.com", [f"p{n}@acme.example.com" for n in range(11)], "invalid_cc_emails"),
    ],
)
def test_bad_addresses_are_refused_and_change_nothing(
    db: Database, billing_email: str, cc: list[str], code: str
) -> None:
    acme = _automatic(db)
    before = accounts.get_account(db, acme)

    changes = {"billing_email": billing_email, "cc_emails": cc, "auto_send": False}
    with pytest.raises(InvalidInput) as refused:
        accounts.update_account(db, acme, changes, ACTOR)

    assert refused.value.code == code
    assert accounts.get_account(db, acme) == before


def test_each_kind_of_document_is_sent_with_its_own_templates(
    db: Database, mail_server: MailServer
) -> None:
    mail_server.use_it(db)
    delivery.update_mail_template(
        db, "credit_note", "Credit {{ number }}", "You are owed {{ total }}.", ACTOR
    )
    acme = _automatic(db)
    sub = subscribe(db, acme, product(db, unit_price="31.00"), date(2027, 1, 1))
    invoicing.generate_for_account(db, acme, [sub], date(2027, 1, 1), ACTOR)
    subscriptions.cancel_subscription(db, sub, CancelAt.NOW, date(2027, 1, 11), ACTOR)
    [note] = invoicing.generate_for_account(db, acme, [sub], date(2027, 1, 11), ACTOR).invoices

    assert delivery.deliver_due(db, ENV).sent == 2

    invoice_mail, note_mail = mail_server.received
    assert invoice_mail.message["Subject"].startswith("Invoice INV-")
    assert note_mail.message["Subject"] == f"Credit {note.number}"
    body = note_mail.message.get_body(("plain",)).get_content()
    assert body.strip() == f"You are owed -€{-note.total:,.2f}."


@pytest.mark.parametrize(
    ("kind", "subject", "body", "code", "words"),
    [
        ("invoice", "{{ number", "x", "invalid_subject", "not a valid template"),
        ("invoice", "{{ number }}", "{{ unknown_name }}", "invalid_body", "unknown placeholder"),
        ("invoice", "{{ number }}", "{{ ''.__class__.__mro__ }}", "invalid_body", "template"),
        ("statement", "{{ number }}", "x", "invalid_subject", "'number' is undefined"),
        ("credit_note", " ", "x", "missing_subject", "must not be empty"),
        ("invoice", "x", "y" * 10_001, "invalid_body", "at most 10000"),
        ("receipt", "x", "y", "invalid_kind", "kind"),
    ],
)
def test_bad_templates_are_refused_with_a_clear_error_and_change_nothing(
    db: Database, kind: str, subject: str, body: str, code: str, words: str
) -> None:
    delivery.update_mail_template(db, "invoice", "Saved {{ number }}", "Saved body", ACTOR)
    before = delivery.mail_templates(db)

    with pytest.raises(InvalidInput) as refused:
        delivery.update_mail_template(db, kind, subject, body, ACTOR)

    assert refused.value.code == code
    assert words in refused.value.message
    assert delivery.mail_templates(db) == before
