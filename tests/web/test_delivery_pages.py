"""Delivery in the back office: Send and Resend on a document's page with its delivery
log, an account's delivery fields on its form, the SMTP settings and the e-mail
templates (admins only), statements of account, and undoing a credit note's uses. A
refused form changes nothing."""

import re
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.domain.delivery import MailKind
from recur.domain.receivables import RefundSpec
from recur.services import accounts, delivery, invoicing, payments
from tests.integration.factories import account
from tests.integration.test_payments import credit_note, issue
from tests.smtp import ENV, MailServer
from tests.web.acme import ADMIN, Acme, account_form
from tests.web.conftest import TODAY, sign_in


def _error(html: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    assert match, f"no error next to {name}"
    return match.group(1)


def _settings_form(csrf: str, port: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "billing@seller.example.com",
        "username": "",
        "password": "",
        **changes,
    }


def test_an_admin_sets_smtp_and_bad_values_change_nothing(
    app_client: TestClient, database: Database
) -> None:
    csrf = sign_in(app_client, ADMIN)
    saved = app_client.post(
        "/settings/mail", data=_settings_form(csrf, "2525", password="pw-123456")
    )
    assert saved.status_code == 303
    before = delivery.mail_settings(database, ENV)

    refused = app_client.post("/settings/mail", data=_settings_form(csrf, "25x"))
    assert refused.status_code == 422
    refused = app_client.post("/settings/mail", data=_settings_form(csrf, "25", sender="nobody"))
    assert refused.status_code == 422
    assert "e-mail address like name@example.com" in refused.text

    assert delivery.mail_settings(database, ENV) == before
    page = app_client.get("/settings/mail").text
    assert "A password is saved" in page
    assert "pw-123456" not in page


def test_an_operator_sends_and_resends_and_sees_the_log(
    operator: tuple[TestClient, str], database: Database, acme: Acme, mail_server: MailServer
) -> None:
    client, csrf = operator
    mail_server.use_it(database)
    path = f"/accounts/{acme.account_id}/edit"
    before = accounts.get_account(database, acme.account_id)
    for changes, name, words in [
        ({"cc_emails": "x@y"}, "cc_emails", "e-mail address like name@example.com"),
        ({"billing_email": "ap"}, "billing_email", "e-mail address like name@example.com"),
        ({"cc_emails": ",".join(f"p{n}@a.example" for n in range(11))}, "cc_emails", "at most 10"),
    ]:
        refused = client.post(path, data=account_form(csrf, **changes))
        assert refused.status_code == 422
        assert words in _error(refused.text, name)
    assert accounts.get_account(database, acme.account_id) == before
    cc = "cfo@acme.example.com, boss@acme.example.com"
    saved = account_form(csrf, billing_email="ap@acme.example.com", cc_emails=cc)
    assert client.post(path, data=saved).status_code == 303
    edited = client.get(path).text
    assert 'value="cfo@acme.example.com, boss@acme.example.com"' in edited
    assert "ap@acme.example.com, cfo@acme.example.com, boss@acme.example.com" in (
        client.get(f"/accounts/{acme.account_id}").text
    )
    [invoice] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1], TODAY, "test"
    ).invoices

    assert "Send by e-mail" in client.get(f"/invoices/{invoice.id}").text
    sent = client.post(f"/invoices/{invoice.id}/send", data={"csrf_token": csrf})
    assert sent.status_code == 303
    delivery.deliver_due(database, ENV)

    [mail] = mail_server.received
    assert mail.recipients == [
        "ap@acme.example.com",
        "cfo@acme.example.com",
        "boss@acme.example.com",
    ]
    page = client.get(f"/invoices/{invoice.id}").text
    assert "Resend by e-mail" in page
    log = re.search(r'<table class="data" id="deliveries">.*?</table>', page, re.S)
    assert log is not None
    assert "queued" in log.group(0)
    assert "sent" in log.group(0)
    assert '<th scope="col">Attempt</th>' in log.group(0)


def test_a_viewer_cannot_send(
    viewer: tuple[TestClient, str], acme: Acme, database: Database
) -> None:
    client, csrf = viewer
    [invoice] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1], TODAY, "test"
    ).invoices
    assert client.post(f"/invoices/{invoice.id}/send", data={"csrf_token": csrf}).status_code == 403
    assert delivery.deliveries(database, invoice.id) == []


def test_an_admin_edits_a_template_and_a_bad_one_changes_nothing(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, csrf = admin
    page = client.get("/settings/mail/templates")
    assert page.status_code == 200
    assert "{{ closing_balance }}" in page.text
    form = {"csrf_token": csrf, "subject": "Statement {{ period_to }}", "body": "Hi"}
    assert client.post("/settings/mail/templates/statement", data=form).status_code == 303
    before = delivery.mail_templates(database)

    refused = client.post(
        "/settings/mail/templates/statement", data=form | {"body": "{{ number }} due"}
    )

    assert refused.status_code == 422
    assert "unknown placeholder" in refused.text
    assert "{{ number }} due" in refused.text  # shown again to correct
    assert delivery.mail_templates(database) == before
    assert before[MailKind.STATEMENT].subject == "Statement {{ period_to }}"


def test_an_operator_cannot_edit_templates(operator: tuple[TestClient, str]) -> None:
    client, csrf = operator
    form = {"csrf_token": csrf, "subject": "x", "body": "y"}
    assert client.post("/settings/mail/templates/invoice", data=form).status_code == 403


def test_an_account_page_shows_downloads_and_emails_its_statement(
    operator: tuple[TestClient, str], database: Database, acme: Acme, mail_server: MailServer
) -> None:
    client, csrf = operator
    mail_server.use_it(database)
    [invoice] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1], TODAY, "test"
    ).invoices
    path = f"/accounts/{acme.account_id}/statement"
    query = {"from": "2027-01-01", "to": "2027-01-31"}

    page = client.get(path, params=query)

    assert page.status_code == 200
    table = re.search(
        r'<table class="data statement" id="statement-EUR">.*?</table>', page.text, re.S
    )
    assert table is not None
    assert invoice.number in table.group(0)
    assert "Closing balance" in table.group(0)
    pdf = client.get(f"{path}.pdf", params=query)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    refused = client.get(path, params={"from": "2027-02-01", "to": "2027-01-01"})
    assert refused.status_code == 422
    assert "From must be on or before to." in refused.text
    assert client.get(path, params={"from": "soon"}).status_code == 422

    bad = client.post(f"{path}/send", data={"csrf_token": csrf, "from": "x", "to": "2027-01-31"})
    assert bad.status_code == 303
    assert delivery.statement_deliveries(database, acme.account_id) == []
    sent = client.post(f"{path}/send", data={"csrf_token": csrf, **query})
    assert sent.status_code == 303
    delivery.deliver_due(database, ENV)
    [mail] = mail_server.received
    assert [a.get_filename() for a in mail.message.iter_attachments()] == [
        "statement-2027-01-01-2027-01-31.pdf"
    ]
    log = re.search(
        r'<table class="data" id="statement-deliveries">.*?</table>',
        client.get(path, params=query).text,
        re.S,
    )
    assert log is not None
    assert "sent" in log.group(0)


def test_an_operator_undoes_a_credit_notes_application_and_refund(
    operator: tuple[TestClient, str], database: Database
) -> None:
    client, csrf = operator
    acme = account(database, "Undo Ltd")
    note = credit_note(database, acme)
    invoice = issue(database, acme, "15.00")
    payments.apply_credit_note(database, note.id, invoice.id, Decimal("15.00"), "test")
    refund = RefundSpec(Decimal("30.00"), date(2027, 1, 11), "R-1")
    payments.refund_credit_note(database, note.id, refund, "test", date(2027, 1, 11))
    page = client.get(f"/invoices/{note.id}").text
    assert "Undo application" in page
    assert "Undo refund" in page
    _note, [application], [refunded] = payments.credit_note_uses(database, note.id)

    undone = client.post(
        f"/credit-applications/{application.id}/undo",
        data={"csrf_token": csrf, "invoice_id": str(note.id)},
    )
    assert undone.status_code == 303
    again = client.post(
        f"/credit-applications/{application.id}/undo",
        data={"csrf_token": csrf, "invoice_id": str(note.id)},
    )
    assert again.status_code == 404
    assert (
        client.post(
            f"/refunds/{refunded.id}/undo", data={"csrf_token": csrf, "invoice_id": str(note.id)}
        ).status_code
        == 303
    )
    assert invoicing.get_invoice(database, note.id).amount_remaining == Decimal("52.00")
    assert invoicing.get_invoice(database, invoice.id).status == "unpaid"
