"""Lists through the API: `sort`, keyset `next_cursor`/`prev_cursor`, `format=csv`
(every row, streamed, money as exact strings) and `GET /search`, on both databases."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recur import csv_export
from recur.db.session import Database
from recur.services import invoicing
from tests.api.conftest import START as START_DAY
from tests.api.factories import account_body, created, option_id, subscription

API = "/api/v1"


def db_of(app: FastAPI) -> Database:
    database: Database = app.state.ctx.db
    return database


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


def rows_of(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def walk(client: TestClient, path: str, **params: Any) -> tuple[list[int], list[dict[str, Any]]]:
    """The ids of every page by next links, and the pages."""
    pages = [client.get(f"{API}{path}", params=params).json()]
    while pages[-1]["next_cursor"]:
        params["cursor"] = pages[-1]["next_cursor"]
        pages.append(client.get(f"{API}{path}", params=params).json())
    return [row["id"] for page in pages for row in page["data"]], pages


def test_accounts_sort_both_ways_and_page_back(client: TestClient) -> None:
    ids = [
        created(client, "/accounts", account_body(name, email=f"a{n:02d}@example.com"))["id"]
        for n, name in enumerate(["Beta"] * 6 + ["Alpha"] * 5)
    ]
    alpha, beta = ids[6:], ids[:6]
    ascending, pages = walk(client, "/accounts", sort="name", limit=4)
    assert ascending == alpha + beta  # equal names in id order
    assert [len(p["data"]) for p in pages] == [4, 4, 3]
    assert pages[0]["prev_cursor"] is None
    descending, _ = walk(client, "/accounts", sort="-name", limit=4)
    assert descending == ascending[::-1]
    by_email, _ = walk(client, "/accounts", sort="-email", limit=4)
    assert by_email == ids[::-1]
    # the previous page of the last page is the middle page again
    back = client.get(
        f"{API}/accounts", params={"sort": "name", "limit": 4, "cursor": pages[2]["prev_cursor"]}
    ).json()
    assert back["data"] == pages[1]["data"]
    assert back["next_cursor"] is not None
    assert back["prev_cursor"] is not None


def test_a_bad_sort_or_a_cursor_of_another_sort_is_a_422(client: TestClient) -> None:
    for n in range(3):
        created(client, "/accounts", account_body(f"Customer {n}"))
    response = client.get(f"{API}/invoices", params={"sort": "-secret"})
    assert error_code(response, 422) == "invalid_sort"
    assert "issue_date" in response.json()["error"]["message"]
    first = client.get(f"{API}/accounts", params={"limit": 1, "sort": "email"}).json()
    response = client.get(
        f"{API}/accounts", params={"limit": 1, "sort": "name", "cursor": first["next_cursor"]}
    )
    assert error_code(response, 422) == "invalid_cursor"
    for path in ("/accounts", "/subscriptions", "/invoices"):
        response = client.get(f"{API}{path}", params={"format": "csv", "sort": "nope"})
        assert error_code(response, 422) == "invalid_sort"  # an error, not a cut-off file


def test_accounts_csv_has_every_row_of_the_filter_in_its_sort(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_export, "CHUNK", 3)  # several pages read for one file
    for n in range(8):
        created(client, "/accounts", account_body(f"Customer {n}", email=f"c{n}@example.com"))
    created(client, "/accounts", account_body("=HYPERLINK(1)", email="evil@example.com"))
    response = client.get(
        f"{API}/accounts", params={"format": "csv", "search": "CUSTOMER", "sort": "-name"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="accounts-2027-01-11.csv"'
    )
    rows = rows_of(response)
    assert [r["name"] for r in rows] == [f"Customer {n}" for n in reversed(range(8))]
    assert rows[0]["email"] == "c7@example.com"
    assert rows[0]["tax_rate"] == "24.00"
    everyone = rows_of(client.get(f"{API}/accounts", params={"format": "csv"}))
    assert "'=HYPERLINK(1)" in [r["name"] for r in everyone]  # never run as a formula


def test_invoices_and_subscriptions_csv_keep_money_exact(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_export, "CHUNK", 2)
    option = option_id(client, price="0.0125")
    subscriptions = []
    for n in range(5):
        account = created(client, "/accounts", account_body(f"Customer {n}"))
        sub = subscription(client, account["id"], option, "2027-01-11", quantity=1000 + n)
        subscriptions.append(sub["id"])
        invoicing.generate_for_account(db_of(app), account["id"], [sub["id"]], START_DAY, "test")
    listed = client.get(f"{API}/invoices", params={"sort": "total"}).json()["data"]
    response = client.get(f"{API}/invoices", params={"format": "csv", "sort": "total"})
    assert response.headers["content-disposition"].startswith('attachment; filename="invoices-')
    rows = rows_of(response)
    assert [int(r["id"]) for r in rows] == [i["id"] for i in listed]
    for row, invoice in zip(rows, listed, strict=True):
        assert (row["subtotal"], row["tax"], row["total"]) == (
            invoice["subtotal"],
            invoice["tax"],
            invoice["total"],
        )
        # exact: subtotal + tax is the total to the cent, as strings with two places
        assert Decimal(row["subtotal"]) + Decimal(row["tax"]) == Decimal(row["total"])
        assert len(row["total"].split(".")[1]) == 2
    subs = rows_of(client.get(f"{API}/subscriptions", params={"format": "csv", "sort": "-id"}))
    assert [int(r["id"]) for r in subs] == subscriptions[::-1]
    assert {r["unit_price"] for r in subs} == {"0.0125"}
    assert {r["status"] for r in subs} == {"active"}


def test_search_finds_accounts_invoices_and_subscriptions(client: TestClient, app: FastAPI) -> None:
    acme = created(client, "/accounts", account_body("Acme Ltd", email="Billing@ACME.example"))
    created(client, "/accounts", account_body("Other", email="ops@other.example"))
    sub = subscription(client, acme["id"], option_id(client), "2027-01-11")
    [invoice] = invoicing.generate_for_account(
        db_of(app), acme["id"], [sub["id"]], START_DAY, "test"
    ).invoices

    def hits(q: str) -> list[tuple[str, int]]:
        answer = client.get(f"{API}/search", params={"q": q})
        assert answer.status_code == 200, answer.text
        return [(h["type"], h["id"]) for h in answer.json()["data"]]

    assert hits("acme") == [("account", acme["id"])]  # by name, any case
    assert hits("billing@acme") == [("account", acme["id"])]  # by e-mail, any case
    assert hits(invoice.number.lower()) == [("invoice", invoice.id)]
    assert hits(f"#{sub['id']}") == [("subscription", sub["id"])]
    assert hits("Acme%") == []  # % is a character, not a wildcard
    assert error_code(client.get(f"{API}/search", params={"q": "   "}), 422) == "invalid_search"
