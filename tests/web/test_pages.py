"""The back office's pages on the SPEC §8 example: what they show and what their forms do."""

import re
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import event

from recur.db.session import Database
from recur.services import accounts, subscriptions
from recur.services.accounts import AccountSpec
from tests.web.acme import OPERATOR, Acme


def _pending_totals(html: str) -> list[tuple[str, str]]:
    """(issue date, total) of each pending invoice row."""
    rows = re.findall(r'<tbody class="pending-invoice">\s*<tr>(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [(c[2].strip(), c[6].strip()) for c in cells]


def test_the_accounts_list_shows_balance_and_next_invoice_date(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    html = client.get("/accounts").text
    assert "Acme Ltd" in html
    assert "€155.00" in html  # S1's January invoice: 125.00 + 24 % tax, unpaid
    assert "<td>20 Jan 2027</td>" in html  # S2's setup and first period
    assert client.get("/accounts?q=nobody").text.count("No account matches") == 1


def test_the_accounts_list_asks_the_same_queries_for_any_number_of_accounts(
    database: Database, acme: Acme
) -> None:
    for n in range(20):
        spec = AccountSpec(name=f"Customer {n:02d}", email=f"c{n}@example.com", currency="EUR")
        accounts.create_account(database, spec, actor="test")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    page = accounts.list_accounts(database, limit=25)
    summaries = accounts.account_summaries(database, [a.id for a in page.items])
    event.remove(database.engine, "before_cursor_execute", count)
    assert len(summaries) == 21
    assert summaries[acme.account_id].open_balance == Decimal("155.00")
    assert summaries[acme.account_id].next_invoice_date == date(2027, 1, 20)
    assert len(statements) == 4  # the page, its count, balances, next dates


def test_accounts_list_is_searchable_and_paginated(
    operator: tuple[TestClient, str], database: Database
) -> None:
    client, _ = operator
    for n in range(30):
        spec = AccountSpec(name=f"Customer {n:02d}", email=f"c{n}@example.com", currency="EUR")
        accounts.create_account(database, spec, actor="test")
    first = client.get("/accounts").text
    assert "31 in all" in first
    assert "Customer 23" in first
    assert "Customer 24" not in first
    following = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', first)
    assert following
    second = client.get(following.group(1).replace("&amp;", "&")).text
    assert "Customer 24" in second
    assert "Customer 05" in client.get("/accounts?q=omer 05").text


def test_account_pending_invoices_as_in_the_seed(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    html = client.get(f"/accounts/{acme.account_id}/pending").text
    assert _pending_totals(html) == [("20 Jan 2027", "€79.60"), ("11 Feb 2027", "€279.00")]
    assert '<th scope="col">#</th><th scope="col" class="opt">Account</th>' in html
    assert '<th scope="col">Issue Date</th><th scope="col" class="opt">Currency</th>' in html
    assert "20 Jan 2027 – 10 Feb 2027" in html  # S2's partial period, inclusive
    assert "0.709677" in html  # 22/31
    assert "11 Jan 2027 – 10 Feb 2027" in html  # S3 postpaid


def test_generate_for_an_account_then_the_preview_moves_on(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    form = {
        "csrf_token": token,
        "idempotency_key": "popup-1",
        "selected": [str(acme.s1), str(acme.s3)],
        "action": "generate",
    }
    response = client.post(f"/accounts/{acme.account_id}/generate", data=form)
    assert response.status_code == 303
    again = client.post(f"/accounts/{acme.account_id}/generate", data=form)  # a double click
    assert again.headers["location"] == response.headers["location"]
    confirmation = client.get(response.headers["location"]).text
    assert "Invoice generated" in confirmation
    link = re.search(r'<a href="(/invoices/\d+)">(INV-2027-\d{6})</a>', confirmation)
    assert link
    assert _pending_totals(confirmation) == [("20 Jan 2027", "€79.60"), ("11 Mar 2027", "€279.00")]
    invoice = client.get(link.group(1)).text
    for text in ("€225.00", "€54.00", "€279.00", "14 Feb 2027", f"user:{OPERATOR}", "Manual"):
        assert text in invoice
    assert "2 in all" in client.get("/invoices").text


def test_the_pop_up_works_without_javascript(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, token = operator
    page = client.get(f"/accounts/{acme.account_id}/generate").text
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page)
    assert key
    assert "data-auto-open" in page
    base = {"csrf_token": token, "idempotency_key": key.group(1)}
    inserted = client.post(
        f"/accounts/{acme.account_id}/generate",
        data=base | {"candidate": [str(acme.s1), str(acme.s3)], "action": "insert"},
    ).text
    assert inserted.count('name="selected"') == 2
    removed = client.post(
        f"/accounts/{acme.account_id}/generate",
        data=base | {"selected": [str(acme.s1), str(acme.s3)], "remove": str(acme.s1)},
    ).text
    assert re.findall(r'name="selected" value="(\d+)"', removed) == [str(acme.s3)]
    empty = client.post(f"/accounts/{acme.account_id}/generate", data=base | {"action": "generate"})
    assert empty.status_code == 422
    assert "Insert to Selected first" in empty.text


def test_a_refused_selection_is_explained_in_the_pop_up(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    response = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={"csrf_token": token, "idempotency_key": "k", "selected": "999", "action": "generate"},
    )
    assert response.status_code == 409
    assert "Subscriptions 999 do not exist." in response.text
    assert "Traceback" not in response.text


def test_generate_for_one_subscription(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, token = operator
    assert "€79.60" in client.get(f"/subscriptions/{acme.s2}/pending").text
    response = client.post(
        f"/subscriptions/{acme.s2}/generate", data={"csrf_token": token, "idempotency_key": "s2"}
    )
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "Invoice generated" in html
    assert "€79.60" in html


def test_an_account_name_is_shown_as_text(
    operator: tuple[TestClient, str], database: Database
) -> None:
    client, _ = operator
    spec = AccountSpec(name="<script>alert(1)</script>", email="x@example.com", currency="EUR")
    account = accounts.create_account(database, spec, actor="test")
    for path in ("/accounts", f"/accounts/{account.id}", f"/accounts/{account.id}/pending"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_form_errors_are_shown_next_to_their_field(operator: tuple[TestClient, str]) -> None:
    client, token = operator
    response = client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "name": "Globex",
            "email": "ap@globex.example",
            "currency": "EUR",
            "billing_day": "31",
            "payment_terms_days": "30",
            "tax_rate": "24",
        },
    )
    assert response.status_code == 422
    assert 'id="billing_day-error">Enter a day from 1 to 28' in response.text
    response = client.post(
        "/accounts",
        data={"csrf_token": token, "name": "Globex", "email": "not-an-address", "currency": "EUR",
              "payment_terms_days": "30", "tax_rate": "24"},
    )  # fmt: skip
    assert 'id="email-error">Enter an e-mail address' in response.text
    assert 'value="Globex"' in response.text  # what was typed stays


def test_create_an_account_and_order_a_subscription(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    response = client.post(
        "/accounts",
        data={"csrf_token": token, "name": "Globex", "email": "ap@globex.example",
              "currency": "EUR", "billing_day": "1", "payment_terms_days": "14", "tax_rate": "7.5",
              "partial_charges": "on_order_day", "invoice_grouping": "consolidated"},
    )  # fmt: skip
    assert response.status_code == 303
    account_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert "7.5 %" in client.get(response.headers["location"]).text
    form = client.get(f"/subscriptions/new?account_id={account_id}").text
    option = re.search(r'<option value="(\d+)" >Office 365 E3', form)
    assert option
    response = client.post(
        "/subscriptions",
        data={"csrf_token": token, "account_id": str(account_id), "pricing_option_id": option.group(1),
              "quantity": "3", "start_date": "2027-01-15", "auto_renew": ""},
    )  # fmt: skip
    assert response.status_code == 303
    sub_page = client.get(response.headers["location"]).text
    assert "Globex" in sub_page
    assert "15 Jan 2027" in sub_page
    listed = client.get(f"/subscriptions?account_id={account_id}").text
    table = listed.split("<tbody>", 1)[1]
    assert "Office 365 E3" in table
    assert "Azure usage" not in table


def test_cancel_at_the_end_of_the_period(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, token = operator
    form = {"csrf_token": token, "at": "end_of_period"}
    preview = client.post(f"/subscriptions/{acme.s1}/cancel", data=form)
    assert preview.status_code == 200  # first what it will issue; nothing is cancelled yet
    assert "Confirm the cancellation" in preview.text
    assert "Cancelled" not in client.get(f"/subscriptions/{acme.s1}").text
    response = client.post(f"/subscriptions/{acme.s1}/cancel", data={**form, "action": "confirm"})
    assert response.status_code == 303
    html = client.get(f"/subscriptions/{acme.s1}").text
    assert "Cancelled" in html
    assert "11 Feb 2027" in html


def test_mark_paid_and_run_billing(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, token = operator
    assert client.post("/invoices/1/pay", data={"csrf_token": token}).status_code == 303
    html = client.get("/invoices/1").text
    assert "is marked as paid" in html
    assert "Mark as paid" not in html
    again = client.post("/invoices/1/pay", data={"csrf_token": token})
    assert again.status_code == 409
    assert "is paid" in again.text
    preview = client.get("/billing-runs/preview", params={"as_of": "2027-01-15"})
    assert "Nothing is due by 15 Jan 2027" in preview.text
    response = client.post(
        "/billing-runs", data={"csrf_token": token, "as_of": "2027-01-15", "action": "confirm"}
    )
    assert response.status_code == 303
    runs = client.get("/billing-runs").text
    assert "Billing run #2 as of 15 Jan 2027 completed: nothing was due." in runs


def test_unknown_things_get_a_page_not_a_trace(operator: tuple[TestClient, str]) -> None:
    client, _ = operator
    response = client.get("/accounts/999")
    assert response.status_code == 404
    assert "account 999 does not exist" in response.text
    assert client.get("/invoices/999").status_code == 404
    assert client.get("/subscriptions/999/pending").status_code == 404


def test_the_money_of_other_currencies(
    operator: tuple[TestClient, str], database: Database
) -> None:
    client, _ = operator
    for currency in ("JPY", "KWD"):
        spec = AccountSpec(name=f"In {currency}", email="x@example.com", currency=currency)
        accounts.create_account(database, spec, actor="test")
    html = client.get("/accounts").text
    assert "¥0" in html
    assert "KWD 0.000" in html


def test_a_damaged_page_link_gets_a_page_in_words(operator: tuple[TestClient, str]) -> None:
    client, _ = operator
    for url in ("/invoices?cursor=not-a-cursor", "/accounts/1/subscriptions?cursor=%40%40"):
        response = client.get(url)
        assert response.status_code == 422
        assert "start again from the first page" in response.text
        assert "Traceback" not in response.text


def test_every_subscription_with_something_pending_is_offered_in_the_pop_up(
    operator: tuple[TestClient, str], acme: Acme, database: Database
) -> None:
    """More subscriptions than a page of the Subscriptions tab: all of them can be selected."""
    client, _ = operator
    option = subscriptions.get_subscription(database, acme.s1).pricing_option_id
    extra = [
        subscriptions.create_subscription(
            database,
            subscriptions.SubscriptionSpec(acme.account_id, option, 1, date(2027, 1, 11)),
            "t",
        ).id
        for _ in range(120)
    ]
    html = client.get(f"/accounts/{acme.account_id}/generate").text
    offered = {int(i) for i in re.findall(r'name="candidate" value="(\d+)"', html)}
    assert offered >= {acme.s1, acme.s2, acme.s3, *extra}
