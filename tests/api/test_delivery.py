"""The delivery endpoints: send and resend (202), the delivery log with its attempts,
accounts' delivery fields (SPEC §17: `cc_emails`, `auto_send` on the account), the
e-mail templates, statements of account, and the SMTP settings, whose password is never
answered back. Bad input is refused with a clear error and changes nothing."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from recur.domain.roles import Role
from recur.services.delivery import deliver_due
from tests.api.conftest import bearer
from tests.api.factories import account_body, created, option_id, subscription
from tests.smtp import ENV, MailServer

API = "/api/v1"


def _settings(port: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "billing@seller.example.com",
        "username": "relay",
        "password": "s3cret-password",
    }
    return {**body, **changes}


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_send_queues_an_email_that_the_worker_sends_and_logs(
    client: TestClient, app: FastAPI, mail_server: MailServer
) -> None:
    plain = _settings(mail_server.port, username=None, password=None)  # the test server has no AUTH
    assert client.put(f"{API}/mail-settings", json=plain).status_code == 200
    template = {"subject": "{{ document }} {{ number }}", "body": "Due {{ due_date }}"}
    assert client.put(f"{API}/mail-templates/invoice", json=template).status_code == 200
    options = {"billing_email": "ap@acme.example.com", "cc_emails": ["cfo@acme.example.com"]}
    acme = created(client, "/accounts", account_body() | options)
    assert {key: acme[key] for key in ("billing_email", "cc_emails", "auto_send")} == {
        **options,
        "auto_send": False,
    }
    sub = subscription(client, acme["id"], option_id(client), "2027-01-11")
    [invoice] = created(client, f"/subscriptions/{sub['id']}/invoices/generate", {})["invoices"]

    sent = client.post(f"{API}/invoices/{invoice['id']}/send")
    assert sent.status_code == 202
    assert sent.json()["status"] == "queued"
    assert deliver_due(app.state.ctx.db, ENV).sent == 1

    [mail] = mail_server.received
    assert mail.recipients == ["ap@acme.example.com", "cfo@acme.example.com"]
    assert mail.message["Subject"] == f"Invoice {invoice['number']}"
    log = client.get(f"{API}/invoices/{invoice['id']}/deliveries").json()
    assert [(e["outcome"], e["attempt"], e["retry"]) for e in log] == [
        ("queued", None, False),
        ("sent", 1, False),
    ]
    assert client.post(f"{API}/invoices/999/send").status_code == 404


def test_an_account_sends_automatically_once_patched_so(
    client: TestClient, app: FastAPI, mail_server: MailServer
) -> None:
    client.put(f"{API}/mail-settings", json=_settings(mail_server.port, username=None))
    acme = created(client, "/accounts", account_body())
    patched = client.patch(
        f"{API}/accounts/{acme['id']}", json={"auto_send": True, "cc_emails": ["cc@acme.example"]}
    )
    assert patched.status_code == 200, patched.text
    assert client.get(f"{API}/accounts/{acme['id']}").json()["auto_send"] is True
    sub = subscription(client, acme["id"], option_id(client), "2027-01-11")

    created(client, f"/subscriptions/{sub['id']}/invoices/generate", {})

    assert deliver_due(app.state.ctx.db, ENV).sent == 1
    assert mail_server.received[0].recipients == ["billing@acme.example", "cc@acme.example"]


def test_the_smtp_password_is_never_answered_and_only_admins_see_the_settings(
    client: TestClient, token_for: Callable[[Role], str]
) -> None:
    saved = client.put(f"{API}/mail-settings", json=_settings(2525))
    shown = client.get(f"{API}/mail-settings")

    assert saved.json()["password_set"] is True
    assert "s3cret" not in saved.text
    assert "s3cret" not in shown.text
    operator = bearer(token_for(Role.OPERATOR))
    assert client.get(f"{API}/mail-settings", headers=operator).status_code == 403
    assert (
        client.put(f"{API}/mail-settings", json=_settings(25), headers=operator).status_code == 403
    )
    assert client.get(f"{API}/mail-templates", headers=operator).status_code == 403
    template = {"subject": "x", "body": "y"}
    refused = client.put(f"{API}/mail-templates/invoice", json=template, headers=operator)
    assert refused.status_code == 403


def test_bad_settings_and_addresses_are_refused_and_change_nothing(client: TestClient) -> None:
    client.put(f"{API}/mail-settings", json=_settings(2525))
    before = client.get(f"{API}/mail-settings").json()
    acme = created(client, "/accounts", account_body())
    path = f"{API}/accounts/{acme['id']}"
    account_before = client.get(path).json()

    _refused(
        client.put(f"{API}/mail-settings", json=_settings(2525, security="ssl")), "invalid_security"
    )
    _refused(client.put(f"{API}/mail-settings", json=_settings(2525, sender="x")), "invalid_sender")
    assert client.put(f"{API}/mail-settings", json=_settings("25")).status_code == 422
    _refused(client.patch(path, json={"cc_emails": ["nobody"]}), "invalid_cc_emails")
    _refused(client.patch(path, json={"billing_email": "a@b"}), "invalid_billing_email")
    assert client.patch(path, json={"auto_send": "yes"}).status_code == 422
    _refused(client.patch(path, json={"cc_emails": None}), "null_field")
    _refused(client.patch(path, json={"auto_send": None}), "null_field")
    many = [f"p{n}@acme.example" for n in range(11)]
    assert client.patch(path, json={"cc_emails": many}).status_code == 422
    _refused(
        client.post(f"{API}/accounts", json=account_body(name="B") | {"cc_emails": ["x"]}),
        "invalid_cc_emails",
    )

    assert client.get(f"{API}/mail-settings").json() == before
    assert client.get(path).json() == account_before
    assert [a["name"] for a in client.get(f"{API}/accounts").json()["data"]] == [acme["name"]]
    assert (account_before["cc_emails"], account_before["auto_send"]) == ([], False)
    assert client.get(f"{API}/accounts/{acme['id']}/delivery").status_code == 404  # gone


def test_templates_are_edited_per_kind_and_a_bad_one_changes_nothing(client: TestClient) -> None:
    kinds = client.get(f"{API}/mail-templates").json()
    assert [t["kind"] for t in kinds] == ["invoice", "credit_note", "statement"]
    assert "closing_balance" in kinds[2]["placeholders"]

    saved = client.put(
        f"{API}/mail-templates/statement",
        json={"subject": "Your statement, {{ period_to }}", "body": "{{ closing_balance }}"},
    )
    assert saved.status_code == 200
    before = client.get(f"{API}/mail-templates").json()
    unknown = client.put(
        f"{API}/mail-templates/statement", json={"subject": "{{ number }}", "body": "x"}
    )
    _refused(unknown, "invalid_subject")
    assert "unknown placeholder" in unknown.json()["error"]["message"]
    _refused(
        client.put(f"{API}/mail-templates/invoice", json={"subject": "x", "body": "{% if %}"}),
        "invalid_body",
    )
    _refused(
        client.put(f"{API}/mail-templates/receipt", json={"subject": "x", "body": "y"}),
        "invalid_kind",
    )
    assert client.put(f"{API}/mail-templates/invoice", json={"subject": "x"}).status_code == 422
    assert client.get(f"{API}/mail-templates").json() == before
    assert before[2]["subject"] == "Your statement, {{ period_to }}"


def test_a_statement_is_served_as_pdf_and_emailed(
    client: TestClient, app: FastAPI, mail_server: MailServer, tmp_path: Path
) -> None:
    client.put(f"{API}/mail-settings", json=_settings(mail_server.port, username=None))
    acme = created(client, "/accounts", account_body())
    sub = subscription(client, acme["id"], option_id(client), "2027-01-11")
    [invoice] = created(client, f"/subscriptions/{sub['id']}/invoices/generate", {})["invoices"]
    path = f"{API}/accounts/{acme['id']}/statement"

    pdf = client.get(path, params={"from": "2027-01-01", "to": "2027-01-31"})

    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        f'inline; filename="statement-{acme["id"]}-2027-01-01-2027-01-31.pdf"'
    )
    file = tmp_path / "s.pdf"
    file.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(file), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert invoice["number"] in text
    assert f"Closing balance €{invoice['total']}" in " ".join(text.split())
    _refused(client.get(path, params={"from": "2027-02-01", "to": "2027-01-01"}), "invalid_period")
    assert client.get(path, params={"from": "soon", "to": "2027-01-01"}).status_code == 422
    assert (
        client.get(f"{API}/accounts/999/statement?from=2027-01-01&to=2027-01-31").status_code == 404
    )

    _refused(
        client.post(f"{path}/send", json={"from": "2027-02-01", "to": "2027-01-01"}),
        "invalid_period",
    )
    assert client.get(f"{path}/deliveries").json() == []
    sent = client.post(f"{path}/send", json={"from": "2027-01-01", "to": "2027-01-31"})
    assert sent.status_code == 202
    assert deliver_due(app.state.ctx.db, ENV).sent == 1
    [mail] = mail_server.received
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")
    log = client.get(f"{path}/deliveries").json()
    assert [(e["outcome"], e["outbox_id"]) for e in log] == [
        ("queued", sent.json()["outbox_id"]),
        ("sent", sent.json()["outbox_id"]),
    ]
