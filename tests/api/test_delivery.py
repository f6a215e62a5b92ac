"""The delivery endpoints: send and resend (202), the delivery log, accounts' delivery
options and the SMTP settings, whose password is never answered back. Bad input is
refused with a clear error and changes nothing."""

from collections.abc import Callable
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
        "subject_template": "{{ document }} {{ number }}",
        "body_template": "Due {{ due_date }}: {{ total }}",
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
    acme = created(client, "/accounts", account_body())
    options = {"billing_email": "ap@acme.example.com", "cc_emails": ["cfo@acme.example.com"]}
    answer = client.put(f"{API}/accounts/{acme['id']}/delivery", json=options)
    assert answer.json() == {"account_id": acme["id"], **options, "auto_send": False}
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
    assert [entry["outcome"] for entry in log] == ["queued", "sent"]
    assert client.post(f"{API}/invoices/999/send").status_code == 404


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


def test_bad_settings_and_addresses_are_refused_and_change_nothing(client: TestClient) -> None:
    client.put(f"{API}/mail-settings", json=_settings(2525))
    before = client.get(f"{API}/mail-settings").json()
    acme = created(client, "/accounts", account_body())
    path = f"{API}/accounts/{acme['id']}/delivery"
    options_before = client.get(path).json()

    _refused(
        client.put(f"{API}/mail-settings", json=_settings(2525, security="ssl")), "invalid_security"
    )
    _refused(client.put(f"{API}/mail-settings", json=_settings(2525, sender="x")), "invalid_sender")
    assert client.put(f"{API}/mail-settings", json=_settings("25")).status_code == 422
    _refused(
        client.put(f"{API}/mail-settings", json=_settings(2525, body_template="{% for %}")),
        "invalid_body_template",
    )
    _refused(client.put(path, json={"cc_emails": ["nobody"]}), "invalid_cc_emails")
    _refused(client.put(path, json={"billing_email": "a@b"}), "invalid_billing_email")
    assert client.put(path, json={"auto_send": "yes"}).status_code == 422

    assert client.get(f"{API}/mail-settings").json() == before
    assert client.get(path).json() == options_before
    assert options_before == {
        "account_id": acme["id"],
        "billing_email": "billing@acme.example",
        "cc_emails": [],
        "auto_send": False,
    }
