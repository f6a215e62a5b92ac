"""The audit trail in the back office: an account's Activity tab, the activity under a
subscription and an invoice, and the administrators' Audit log with its filters."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from recur.web.routes import audit as audit_pages
from tests.web.acme import ADMIN, OPERATOR, Acme
from tests.web.conftest import sign_in


def _rows(html: str) -> list[list[str]]:
    """The audit table's rows, each as its cells' text."""
    if 'id="audit-events"' not in html:
        return []
    table = html.split('id="audit-events"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]  # after the header
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def _void_as_operator(client: TestClient) -> None:
    token = sign_in(client, OPERATOR)
    assert client.post("/invoices/1/void", data={"csrf_token": token}).status_code == 303


def test_a_change_made_in_the_back_office_shows_under_its_subject_and_its_account(
    app_client: TestClient, acme: Acme
) -> None:
    _void_as_operator(app_client)

    invoice = app_client.get("/invoices/1").text
    assert '<h2 id="activity">Activity</h2>' in invoice
    [voided] = [row for row in _rows(invoice) if row[3] == "invoice.voided"]
    assert voided[1:4] == ["user:operator@example.com", "web", "invoice.voided"]
    assert voided[4].startswith("credit_note_id: ")

    subscription = app_client.get(f"/subscriptions/{acme.s1}").text
    assert [row[1:4] for row in _rows(subscription)] == [["seed", "cli", "subscription.created"]]

    activity = app_client.get(f"/accounts/{acme.account_id}/activity")
    assert activity.status_code == 200
    assert 'aria-current="page">Activity</a>' in activity.text
    rows = _rows(activity.text)
    # Its own events and those of its subscriptions and invoices, newest first.
    assert rows[0][3:5] == ["invoice.voided", "Invoice #1"]
    assert [row[4] for row in rows if row[3] == "account.created"] == [
        f"Account #{acme.account_id}"
    ]
    assert [row[4] for row in rows if row[3] == "subscription.created"] == [
        f"Subscription #{s}" for s in (acme.s3, acme.s2, acme.s1)
    ]
    assert f'href="/subscriptions/{acme.s1}"' in activity.text


def test_the_audit_log_is_for_administrators(app_client: TestClient) -> None:
    sign_in(app_client, OPERATOR)
    assert app_client.get("/audit").status_code == 403
    assert 'href="/audit"' not in app_client.get("/accounts").text
    sign_in(app_client, ADMIN)
    assert 'href="/audit"' in app_client.get("/accounts").text
    assert app_client.get("/audit").status_code == 200


def test_the_audit_log_filters_by_actor_action_and_date(app_client: TestClient) -> None:
    _void_as_operator(app_client)
    sign_in(app_client, ADMIN)

    everything = _rows(app_client.get("/audit").text)
    assert sum(row[3] == "product.created" for row in everything) == 3
    by_operator = _rows(app_client.get("/audit?actor=user:operator@example.com").text)
    # Signing in as the admin signed the operator out.
    assert [row[3] for row in by_operator] == [
        "user.signed_out",
        "invoice.voided",
        "user.signed_in",
    ]
    [void] = _rows(app_client.get("/audit?action=invoice.voided").text)
    assert void[1:5] == ["user:operator@example.com", "web", "invoice.voided", "Invoice #1"]

    today = datetime.now(UTC).date()
    assert len(_rows(app_client.get(f"/audit?from={today}&to={today}").text)) == len(everything)
    tomorrow = today + timedelta(days=1)
    assert "No event matches these filters." in app_client.get(f"/audit?from={tomorrow}").text
    backwards = app_client.get(f"/audit?from={today}&to={today - timedelta(days=1)}")
    assert backwards.status_code == 422
    assert "from must be on or before to" in backwards.text


def test_the_audit_log_pages(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(app_client, ADMIN)
    whole = _rows(app_client.get("/audit").text)
    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 4)
    pages, link = [], "/audit"
    while link:
        html = app_client.get(link.replace("&amp;", "&")).text
        pages.append(_rows(html))
        link = next(iter(re.findall(r'href="([^"]+)" rel="next"', html)), "")
    assert len(pages) > 1
    assert [len(page) for page in pages[:-1]] == [4] * (len(pages) - 1)
    assert [row for page in pages for row in page] == whole
