"""GET /api/v1/audit-events (SPEC §19): every change made through the API, with its
door, filtered by subject, actor, action and date, page by page; on both databases."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from recur.domain.roles import Role
from tests.api.conftest import bearer
from tests.api.factories import account_body, created, option_id, subscription

URL = "/api/v1/audit-events"
SHAPE = {"id", "occurred_at", "actor", "door", "action", "subject_type", "subject_id", "detail"}


def _events(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(URL, params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _acme(client: TestClient) -> tuple[int, int]:
    """(account, subscription), its first invoice generated through the API."""
    acme = created(client, "/accounts", account_body())["id"]
    sub = subscription(client, acme, option_id(client), "2027-01-11")["id"]
    created(client, f"/subscriptions/{sub}/invoices/generate", {})
    return acme, sub


def test_changes_made_through_the_api_are_listed_newest_first_with_their_door(
    client: TestClient,
) -> None:
    acme, sub = _acme(client)

    events = _events(client)
    assert all(set(event) == SHAPE for event in events)
    assert [(e["action"], e["subject_type"]) for e in events] == [
        ("invoices.generated", "account"),
        ("subscription.created", "subscription"),
        ("product.created", "product"),
        ("account.created", "account"),
        ("api_token.refreshed", "api_token"),  # RECUR_API_TOKEN, at the server's start
    ]
    assert [e["door"] for e in events] == ["api"] * 4 + ["cli"]
    assert {e["actor"] for e in events[:4]} == {"token:env"}
    generated = events[0]
    assert generated["subject_id"] == acme
    assert len(generated["detail"]["invoices"]) == 1
    assert events[1]["subject_id"] == sub


def test_filters_combine(client: TestClient) -> None:
    acme, sub = _acme(client)

    def actions(**params: Any) -> list[str]:
        return [event["action"] for event in _events(client, **params)]

    assert actions(subject_type="account", subject_id=acme) == [
        "invoices.generated",
        "account.created",
    ]
    assert actions(subject_type="subscription", subject_id=sub) == ["subscription.created"]
    assert actions(subject_type="account", subject_id=acme + 1) == []
    assert actions(action="product.created") == ["product.created"]
    assert actions(actor="token:env", action="account.created") == ["account.created"]
    assert actions(actor="token:someone-else") == []
    today = datetime.now(UTC).date()
    assert len(actions(**{"from": str(today), "to": str(today)})) == 5
    assert actions(**{"from": str(today + timedelta(days=1))}) == []
    assert actions(to=str(today - timedelta(days=1))) == []


def test_pages_follow_the_cursor(client: TestClient) -> None:
    _acme(client)
    whole = _events(client)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(URL, params=params).json()
        assert page["total"] == len(whole)
        seen.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == whole


def test_refusals(client: TestClient, token_for: Callable[[Role], str]) -> None:
    backwards = client.get(URL, params={"from": "2027-01-12", "to": "2027-01-11"})
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "invalid_date_range"
    assert client.get(URL, params={"limit": 101}).status_code == 422
    for role in (Role.OPERATOR, Role.VIEWER):
        refused = client.get(URL, headers=bearer(token_for(role)))
        assert refused.status_code == 403


def test_the_operation_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["get"]
    assert operation["operationId"] == "list_audit_events"
    assert operation["summary"] == "List audit events"
    assert "door" in operation["description"]
    assert {"401", "403", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {
        "subject_type",
        "subject_id",
        "actor",
        "action",
        "from",
        "to",
        "limit",
        "cursor",
    }
