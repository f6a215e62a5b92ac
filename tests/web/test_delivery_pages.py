"""Delivery in the back office: Send and Resend on a document's page with its delivery
log, an account's delivery options, and the SMTP settings (admins only), whose saved
password is never shown. A refused form changes nothing."""

import re

from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.services import delivery, invoicing
from tests.smtp import ENV, MailServer
from tests.web.acme import ADMIN, Acme
from tests.web.conftest import TODAY, sign_in


def _settings_form(csrf: str, port: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "billing@seller.example.com",
        "username": "",
        "password": "",
        "subject_template": "{{ document }} {{ number }}",
        "body_template": "Total {{ total }}",
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
    options = {"csrf_token": csrf, "billing_email": "ap@acme.example.com", "cc_emails": "x@y"}
    refused = client.post(f"/accounts/{acme.account_id}/delivery", data=options)
    assert refused.status_code == 422
    assert delivery.account_delivery(database, acme.account_id).cc_emails == ()
    options["cc_emails"] = "cfo@acme.example.com, boss@acme.example.com"
    assert client.post(f"/accounts/{acme.account_id}/delivery", data=options).status_code == 303
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


def test_a_viewer_cannot_send(
    viewer: tuple[TestClient, str], acme: Acme, database: Database
) -> None:
    client, csrf = viewer
    [invoice] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1], TODAY, "test"
    ).invoices
    assert client.post(f"/invoices/{invoice.id}/send", data={"csrf_token": csrf}).status_code == 403
    assert delivery.deliveries(database, invoice.id) == []
