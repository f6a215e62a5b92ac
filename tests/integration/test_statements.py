"""Statements of account (issue 14): opening balance, the period's documents, payments,
refunds and credit notes applied with the running balance, and the closing balance, per
currency, to the cent on both databases; as a PDF read back with pdftotext, and e-mailed
through the outbox to a real SMTP server."""

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from recur.db.models import Allocation, AuditEvent
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.issued import InvoiceFilter
from recur.domain.receivables import RefundSpec
from recur.domain.statement import EntryKind
from recur.services import accounts, delivery, invoicing, payments, receivables, statements
from tests.integration.factories import ACTOR, account
from tests.integration.test_payments import credit_note, issue, pay
from tests.smtp import ENV, MailServer

D = Decimal
FEB_1, FEB_28 = date(2027, 2, 1), date(2027, 2, 28)


def _books(db: Database) -> tuple[int, str, str, str]:
    """An account whose January leaves 10.00 owed, and whose February invoices 100.00,
    receives 40.00, applies 15.00 of a credit note and refunds its other 37.00; a USD
    payment arrives on 20 Feb and 5.00 more EUR in March. (account, INV1, CN1, INV2)"""
    acme = account(db)
    note = credit_note(db, acme)  # INV1 62.00 on 1 Jan, CN1 -52.00 on 11 Jan
    [first] = invoicing.list_invoices(db, InvoiceFilter(account_id=acme), 50).items[1:]
    second = issue(db, acme, "100.00", FEB_1)
    pay(db, acme, "40.00", (second.id, "40.00"), day=date(2027, 2, 5))
    payments.apply_credit_note(db, note.id, second.id, D("15.00"), ACTOR)
    with db.transaction() as session:  # applied on 10 Feb
        session.execute(
            update(Allocation)
            .where(Allocation.credit_note_id == note.id)
            .values(created_at=datetime(2027, 2, 10, 9, tzinfo=UTC))
        )
    refund = RefundSpec(D("37.00"), date(2027, 2, 12), "R-9")
    payments.refund_credit_note(db, note.id, refund, ACTOR, date(2027, 2, 12))
    pay(db, acme, "20.00", day=date(2027, 2, 20), currency="USD")
    pay(db, acme, "5.00", day=date(2027, 3, 3))
    return acme, first.number, note.number, second.number


def test_a_statement_lists_the_period_with_its_running_and_closing_balance(
    db: Database,
) -> None:
    acme, _first, note, second = _books(db)

    shown = statements.statement(db, acme, FEB_1, FEB_28)

    eur, usd = shown.currencies
    assert (eur.currency, eur.opening, eur.closing) == ("EUR", D("10.00"), D("107.00"))
    assert [
        (line.entry.day, line.entry.kind, line.entry.amount, line.balance) for line in eur.lines
    ] == [
        (FEB_1, EntryKind.INVOICE, D("100.00"), D("110.00")),
        (date(2027, 2, 5), EntryKind.PAYMENT, D("-40.00"), D("70.00")),
        (date(2027, 2, 10), EntryKind.CREDIT_APPLIED, None, D("70.00")),
        (date(2027, 2, 12), EntryKind.REFUND, D("37.00"), D("107.00")),
    ]
    assert [line.entry.reference for line in eur.lines] == [second, "REF-1", note, "R-9"]
    assert eur.lines[2].entry.applied == D("15.00")
    assert eur.lines[2].entry.description == f"Applied to {second}"
    assert (usd.currency, usd.opening, usd.closing) == ("USD", D(0), D("-20.00"))
    assert [line.balance for line in usd.lines] == [D("-20.00")]


def test_the_closing_balance_up_to_today_is_the_accounts_balance(db: Database) -> None:
    acme = _books(db)[0]

    shown = statements.statement(db, acme, date(2026, 1, 1), date(2027, 3, 31))

    assert [(part.currency, part.opening) for part in shown.currencies] == [
        ("EUR", D(0)),
        ("USD", D(0)),
    ]
    assert [(part.currency, part.closing) for part in shown.currencies] == [
        (b.currency, b.balance) for b in receivables.account_balance(db, acme)
    ]
    assert [p.closing for p in shown.currencies] == [D("102.00"), D("-20.00")]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_statement_pdf_reads_back_to_the_cent(db: Database, tmp_path: Path) -> None:
    acme, _first, note, second = _books(db)

    text = _pdf_text(statements.statement_pdf(db, acme, FEB_1, FEB_28, "Recur Test"), tmp_path)

    assert "Statement of account" in text
    assert "1 Feb 2027 – 28 Feb 2027" in text
    assert "Acme Ltd" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for expected in (
        "1 Feb 2027 Opening balance €10.00",
        f"1 Feb 2027 {second} Invoice €100.00 €110.00",
        "5 Feb 2027 REF-1 Payment (bank transfer) -€40.00 €70.00",
        f"10 Feb 2027 {note} Applied to {second} (€15.00) €70.00",
        f"12 Feb 2027 R-9 Refund of credit note {note} €37.00 €107.00",
        "28 Feb 2027 Closing balance €107.00",
        "20 Feb 2027 REF-1 Payment (bank transfer) -$20.00 -$20.00",
        "28 Feb 2027 Closing balance -$20.00",
    ):
        assert expected in lines, "\n".join(lines)
    assert "€5.00" not in text  # the March payment is after the period


def test_a_statement_is_emailed_once_with_its_pdf(
    db: Database, mail_server: MailServer, tmp_path: Path
) -> None:
    mail_server.use_it(db)
    acme = _books(db)[0]
    options = {"billing_email": "ap@acme.example.com", "cc_emails": ["cfo@acme.example.com"]}
    accounts.update_account(db, acme, options, ACTOR)

    queued = statements.send_statement(db, acme, FEB_1, FEB_28, ACTOR)

    assert mail_server.received == []  # only queued
    assert delivery.deliver_due(db, ENV).sent == 1
    assert delivery.deliver_due(db, ENV).sent == 0
    [mail] = mail_server.received
    assert mail.recipients == ["ap@acme.example.com", "cfo@acme.example.com"]
    assert " ".join(mail.message["Subject"].split()) == (  # a long subject is folded
        f"Statement of account from {ENV.seller_name}, 1 Feb 2027 to 28 Feb 2027"
    )
    body = mail.message.get_body(("plain",)).get_content()
    assert "closing balance €107.00, -$20.00" in " ".join(body.split())
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_filename() == "statement-2027-02-01-2027-02-28.pdf"
    assert "Closing balance €107.00" in " ".join(
        _pdf_text(attachment.get_content(), tmp_path).split()
    )
    log = delivery.statement_deliveries(db, acme)
    assert [(e.outbox_id, e.outcome.value, e.attempt) for e in log] == [
        (queued, "queued", None),
        (queued, "sent", 1),
    ]


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (date(2027, 3, 1), date(2027, 2, 1), "invalid_period"),
        (date(1900, 1, 1), date(2027, 2, 1), "invalid_from"),
        (date(2027, 1, 1), date(2300, 1, 1), "invalid_to"),
    ],
)
def test_a_bad_period_is_refused_and_queues_nothing(
    db: Database, first: date, last: date, code: str
) -> None:
    acme = account(db)

    with pytest.raises(InvalidInput) as refused:
        statements.send_statement(db, acme, first, last, ACTOR)

    assert refused.value.code == code
    assert delivery.statement_deliveries(db, acme) == []
    with pytest.raises(NotFound):
        statements.statement(db, 999, FEB_1, FEB_28)


def _actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_undo_a_credit_notes_application_and_refund_with_audit_entries(db: Database) -> None:
    acme = account(db)
    note = credit_note(db, acme)
    invoice = issue(db, acme, "15.00")
    payments.apply_credit_note(db, note.id, invoice.id, D("15.00"), ACTOR)
    refunded = RefundSpec(D("30.00"), date(2027, 1, 11), "")
    payments.refund_credit_note(db, note.id, refunded, ACTOR, date(2027, 1, 11))
    _note, [application], [refund] = payments.credit_note_uses(db, note.id)

    after = payments.undo_credit_application(db, application.id, ACTOR)

    assert after.amount_remaining == D("22.00")
    reopened = payments.credit_note_uses(db, note.id)
    assert (reopened[1], len(reopened[2])) == ([], 1)
    assert invoicing.get_invoice(db, invoice.id).status == "unpaid"
    assert payments.undo_refund(db, refund.id, ACTOR).amount_remaining == D("52.00")
    assert _actions(db)[-2:] == ["credit_note.application_undone", "credit_note.refund_undone"]
    with pytest.raises(NotFound):
        payments.undo_credit_application(db, application.id, ACTOR)
    with pytest.raises(NotFound):
        payments.undo_refund(db, refund.id, ACTOR)


def test_the_application_of_a_voids_credit_note_cannot_be_undone(db: Database) -> None:
    acme = account(db)
    invoice = issue(db, acme, "10.00")
    voided = payments.void_invoice(db, invoice.id, ACTOR, date(2027, 1, 12))
    [application] = payments.credit_note_uses(db, voided.credit_note.id)[1]
    before = _actions(db)

    with pytest.raises(Conflict) as refused:
        payments.undo_credit_application(db, application.id, ACTOR)

    assert refused.value.code == "invoice_void"
    assert _actions(db) == before
