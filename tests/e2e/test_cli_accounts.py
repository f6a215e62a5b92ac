"""`recur account create|update|statement`, `recur invoice send|deliveries` and
`recur payment apply-credit|refund|uses|undo-application|undo-refund` (issue 14). Bad
input exits with the input status and changes nothing."""

import subprocess
from decimal import Decimal
from pathlib import Path

from recur.db.session import Database
from recur.services import accounts, delivery, invoicing
from tests.e2e.test_cli import acme_url, recur
from tests.integration.factories import account
from tests.integration.test_payments import credit_note, issue
from tests.smtp import ENV, MailServer

__all__ = ["acme_url"]  # the fixture, shared


def test_create_and_update_an_account_with_its_identity_and_delivery(acme_url: str) -> None:
    created = recur(
        acme_url,
        "account",
        "create",
        "Beta SARL",
        "--email=compta@beta.example",
        "--currency=eur",
        "--tax-id=FR40303265045",
        "--tax-treatment=reverse_charge",
        "--address-line=1 Rue de Rivoli",
        "--postcode=75001",
        "--city=Paris",
        "--country=FR",
        "--cc=cfo@beta.example",
        "--cc=boss@beta.example",
        "--auto-send",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines() == [
        "account #2 Beta SARL created (EUR)",
        "documents go to compta@beta.example, cfo@beta.example, boss@beta.example",
        "every document is e-mailed when issued",
    ]
    db = Database(acme_url)
    beta = accounts.get_account(db, 2)
    assert (beta.tax_treatment, beta.billing_address.city, beta.auto_send) == (
        "reverse_charge",
        "Paris",
        True,
    )

    for args, words in [
        (["--cc=nobody"], "cc_emails must be an e-mail address"),
        (["--country=UK"], "country"),
    ]:
        refused = recur(acme_url, "account", "update", "Beta SARL", *args)
        assert refused.returncode == 2, refused.stderr
        assert words in refused.stderr
    refused = recur(acme_url, "account", "create", "Gamma", "--email=g", "--currency=EUR")
    assert refused.returncode == 2
    assert accounts.get_account(db, 2) == beta
    assert accounts.list_accounts(db).total == 2

    updated = recur(acme_url, "account", "update", "2", "--no-cc", "--no-auto-send", "--city=Lyon")
    assert updated.returncode == 0, updated.stderr
    after = accounts.get_account(db, 2)
    assert (after.cc_emails, after.auto_send, after.billing_address.city) == ((), False, "Lyon")
    assert after.billing_address.postcode == "75001"  # the parts not given stay


def test_send_an_invoice_and_read_its_delivery_log(acme_url: str, mail_server: MailServer) -> None:
    db = Database(acme_url)
    mail_server.use_it(db)
    assert recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes").returncode == 0

    sent = recur(acme_url, "invoice", "send", "INV-2027-000001")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "INV-2027-000001 is queued to be e-mailed (outbox #1)"
    mail_server.refusing = True
    delivery.deliver_due(db, ENV)

    log = recur(acme_url, "invoice", "deliveries", "INV-2027-000001").stdout
    rows = [" ".join(line.split()) for line in log.splitlines()]
    assert rows[0].startswith("When (UTC) E-mail Attempt Status To Reason")
    assert rows[-2].endswith("#1 queued")
    assert "#1 1 failed ap@acme.test" in rows[-1]
    assert "refused by the test" in rows[-1]
    assert recur(acme_url, "invoice", "send", "INV-2099-000001").returncode == 3
    assert len(delivery.deliveries(db, 1)) == 2  # nothing queued for the unknown number


def test_apply_refund_and_undo_a_credit_note_from_the_terminal(acme_url: str) -> None:
    db = Database(acme_url)
    beta = account(db, "Beta Ltd")
    note = credit_note(db, beta)  # -52.00
    invoice = issue(db, beta, "15.00")

    applied = recur(
        acme_url, "payment", "apply-credit", note.number, invoice.number, "--amount=15.00"
    )
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == (
        f"€15.00 of {note.number} applied to {invoice.number}; €37.00 left"
    )
    too_much = recur(acme_url, "payment", "refund", note.number, "--amount=37.01")
    assert (too_much.returncode, "exceeds the 37.00 left" in too_much.stderr) == (4, True)
    bad = recur(acme_url, "payment", "refund", note.number, "--amount=1,5")
    assert bad.returncode == 2
    refunded = recur(
        acme_url, "payment", "refund", note.number, "--amount=30.00", "--reference=R-1"
    )
    assert refunded.stdout.strip() == f"refund of €30.00 recorded on {note.number}; €7.00 left"

    listed = recur(acme_url, "payment", "uses", note.number).stdout.splitlines()
    uses = [" ".join(line.split()) for line in listed]
    assert uses[0] == "Kind Id Date Invoice / reference Amount"
    assert uses[2].startswith("application 1 ")  # dated when it was applied
    assert uses[2].endswith(f"{invoice.number} €15.00")
    assert uses[3] == "refund 1 15 Jan 2027 R-1 €30.00"
    undone = recur(acme_url, "payment", "undo-application", "1")
    assert undone.stdout.strip() == f"application #1 of {note.number} is undone"
    assert recur(acme_url, "payment", "undo-refund", "1").returncode == 0
    assert recur(acme_url, "payment", "undo-refund", "1").returncode == 3
    assert invoicing.get_invoice(db, note.id).amount_remaining == Decimal("52.00")


def test_an_accounts_statement_printed_written_and_queued(acme_url: str, tmp_path: Path) -> None:
    assert recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes").returncode == 0
    pdf = tmp_path / "statement.pdf"

    shown = recur(
        acme_url,
        "account",
        "statement",
        "Acme Ltd",
        "--from=2027-01-01",
        "--to=2027-01-31",
        f"--output={pdf}",
        "--send",
    )

    assert shown.returncode == 0, shown.stderr
    rows = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert rows[0] == "statement of Acme Ltd, 1 Jan 2027 to 31 Jan 2027"
    assert "1 Jan 2027 Opening balance €0.00" in rows
    assert "11 Jan 2027 INV-2027-000001 Invoice €155.00 €155.00" in rows
    assert "31 Jan 2027 Closing balance €155.00" in rows
    assert rows[-1] == "queued to be e-mailed to ap@acme.test (outbox #1)"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Closing balance €155.00" in " ".join(text.split())
    refused = recur(
        acme_url, "account", "statement", "1", "--from=2027-02-01", "--to=2027-01-01", "--send"
    )
    assert (refused.returncode, "from must be on or before to" in refused.stderr) == (2, True)
    assert len(delivery.statement_deliveries(Database(acme_url), 1)) == 1
