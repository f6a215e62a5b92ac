"""Changes, cancellations and credit notes in the back office, on SPEC §14 (both databases).

A change and a cancellation are previewed (the documents they will issue, from the
engine) before they are confirmed; nothing is stored until then, and bad input is
shown next to its field and changes nothing.
"""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.services import catalogue, changes, invoicing, subscriptions
from recur.services.invoicing import InvoiceFilter
from tests.web.acme import ADMIN, OPERATOR, VIEWER, seed_users
from tests.web.beta import Beta, advance_to, back_office, move_clock, run, seed_beta
from tests.web.conftest import sign_in
from tests.web.test_input import product_form, row


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def beta(database: Database) -> Beta:
    seeded = seed_beta(database)
    seed_users(database)
    return seeded


@pytest.fixture
def client(db_url: str, beta: Beta) -> Iterator[TestClient]:
    with back_office(db_url, date(2027, 3, 1)) as test_client:
        yield test_client


def as_operator(client: TestClient, day: date) -> str:
    move_clock(client, day)
    return sign_in(client, OPERATOR)


def text_of(html: str, element_id: str) -> str:
    """The words inside the element with `element_id` (its tags dropped, spaces folded)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(table|td|dd|ul|div|form)>', html, re.S)
    assert match, f"no #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def documents_table(html: str, table_id: str) -> str:
    table = re.search(rf'<table class="data pending" id="{table_id}">(.*?)\n</table>', html, re.S)
    assert table, f"no #{table_id}"
    return table.group(1)


def documents(html: str, table_id: str) -> list[str]:
    """Each previewed document's row: #, account, issue date, currency, totals, type."""
    table = documents_table(html, table_id)
    rows = re.findall(r'<tbody class="pending-invoice[^"]*">\s*<tr>(.*?)</tr>', table, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def explanations(html: str) -> list[str]:
    return [" ".join(e.split()) for e in re.findall(r'class="explanation">(.*?)</div>', html, re.S)]


def hidden_fields(html: str, form_id: str) -> dict[str, str]:
    form = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no #{form_id}"
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    assert match, f"no error next to {name}"
    return match.group(1)


def test_a_change_is_previewed_then_confirmed(
    client: TestClient, beta: Beta, database: Database
) -> None:
    token = as_operator(client, date(2027, 3, 11))
    page = client.get(f"/subscriptions/{beta.s1}").text
    assert text_of(page, "quantity-in-force") == "10"
    plans = re.findall(r'<option value="(\d+)"', page.split('id="change-form"')[1])
    assert sorted(map(int, plans)) == [beta.e3, beta.e5]  # not annual, USD, or on the 15th

    form = {"quantity": "15", "pricing_option_id": str(beta.e3), "effective": "now"}
    preview = client.post(f"/subscriptions/{beta.s1}/change", data={**form, "csrf_token": token})
    assert preview.status_code == 200
    assert changes.list_changes(database, beta.s1, date(2027, 3, 11)) == []  # nothing stored
    assert "Quantity 10 → 15" in text_of(preview.text, "change-summary")
    rows = documents(preview.text, "change-documents")
    assert len(rows) == 2
    assert "11 Mar 2027 EUR €101.61 €20.32 €121.93 Invoice" in rows[0]
    assert "1 Apr 2027 EUR €450.00 €90.00 €540.00 Invoice" in rows[1]
    assert all(explanations(preview.text)), "every item explains its amount"
    assert any("21/31" in e for e in explanations(preview.text))

    confirm = {**hidden_fields(preview.text, "confirm-form"), "action": "confirm"}
    assert confirm["idempotency_key"]
    response = client.post(f"/subscriptions/{beta.s1}/change", data=confirm)
    assert response.status_code == 303
    again = client.post(f"/subscriptions/{beta.s1}/change", data=confirm)  # a double click
    assert again.status_code == 303
    [stored] = changes.list_changes(database, beta.s1, date(2027, 3, 11))
    assert (stored.quantity, stored.pricing_option_id) == (15, None)
    assert stored.effective_date == date(2027, 3, 11)
    assert stored.created_by == f"user:{OPERATOR}"
    page = client.get(f"/subscriptions/{beta.s1}").text
    assert text_of(page, "quantity-in-force") == "15"
    assert "11 Mar 2027" in text_of(page, "change-list")
    assert "Withdraw" not in text_of(page, "change-list")  # in effect: not withdrawable

    # The run issues exactly what the preview showed.
    run(database, date(2027, 3, 11))
    issued = invoicing.list_invoices(database, InvoiceFilter(issued_from=date(2027, 3, 11))).items
    assert [(i.number, i.total) for i in issued] == [("INV-2027-000002", Decimal("121.93"))]


def test_a_scheduled_change_is_withdrawn(
    client: TestClient, beta: Beta, database: Database
) -> None:
    advance_to(database, beta, date(2027, 3, 20))
    token = as_operator(client, date(2027, 3, 25))
    form = {
        "quantity": "12",
        "pricing_option_id": str(beta.e5),
        "effective": "date",
        "effective_date": "2027-04-10",
        "csrf_token": token,
    }
    preview = client.post(f"/subscriptions/{beta.s1}/change", data=form)
    rows = documents(preview.text, "change-documents")
    assert rows == ["1 Beta GmbH 1 Apr 2027 EUR €645.00 €129.00 €774.00 Invoice"]
    table = documents_table(preview.text, "change-documents")
    items = re.findall(r"\d+ \w+ 2027 – \d+ \w+ 2027", table)
    assert items == ["1 Apr 2027 – 9 Apr 2027", "10 Apr 2027 – 30 Apr 2027"]
    confirm = {**hidden_fields(preview.text, "confirm-form"), "action": "confirm"}
    assert client.post(f"/subscriptions/{beta.s1}/change", data=confirm).status_code == 303

    changes_now = changes.list_changes(database, beta.s1, date(2027, 3, 25))
    scheduled = [c for c in changes_now if c.withdrawable]
    assert [(c.effective_date, c.quantity) for c in scheduled] == [(date(2027, 4, 10), 12)]
    page = client.get(f"/subscriptions/{beta.s1}").text
    assert text_of(page, "quantity-in-force") == "15"  # today's, not the scheduled one
    assert "Microsoft 365 E5" in text_of(page, "product-in-force")
    withdraw = f"/subscriptions/{beta.s1}/changes/{scheduled[0].id}/withdraw"
    assert f'action="{withdraw}"' in page
    in_effect = [c for c in changes_now if not c.withdrawable]
    assert f"/changes/{in_effect[0].id}/withdraw" not in page

    response = client.post(withdraw, data={"csrf_token": token})
    assert response.status_code == 303
    assert all(
        not c.withdrawable for c in changes.list_changes(database, beta.s1, date(2027, 3, 25))
    )
    refused = client.post(
        f"/subscriptions/{beta.s1}/changes/{in_effect[0].id}/withdraw", data={"csrf_token": token}
    )
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text
    assert len(changes.list_changes(database, beta.s1, date(2027, 3, 25))) == len(in_effect)
    missing = client.post(
        f"/subscriptions/{beta.s1}/changes/999999/withdraw", data={"csrf_token": token}
    )
    assert missing.status_code == 404


def test_cancel_shows_its_credit_note_before_it_is_confirmed(
    client: TestClient, beta: Beta, database: Database
) -> None:
    advance_to(database, beta, date(2027, 4, 1))
    token = as_operator(client, date(2027, 4, 16))
    preview = client.post(
        f"/subscriptions/{beta.s1}/cancel", data={"at": "now", "csrf_token": token}
    )
    assert preview.status_code == 200
    assert subscriptions.get_subscription(database, beta.s1).end_date is None  # not yet
    [row] = documents(preview.text, "cancel-documents")
    assert "16 Apr 2027 EUR -€300.00 -€60.00 -€360.00 Credit note" in row
    assert any("15/30" in e for e in explanations(preview.text))

    confirm = {**hidden_fields(preview.text, "confirm-form"), "action": "confirm"}
    assert client.post(f"/subscriptions/{beta.s1}/cancel", data=confirm).status_code == 303
    assert subscriptions.get_subscription(database, beta.s1).end_date == date(2027, 4, 16)
    run(database, date(2027, 4, 16))
    credit = invoicing.get_invoice_by_number(database, "CN-2027-000002")
    assert credit.total == Decimal("-360.00")
    page = client.get(f"/subscriptions/{beta.s1}/pending").text
    assert "Nothing is pending" in page


def test_pending_views_show_pending_credit_notes(
    client: TestClient, beta: Beta, database: Database
) -> None:
    advance_to(database, beta, date(2027, 3, 11))
    token = as_operator(client, date(2027, 3, 20))
    preview = client.post(
        f"/subscriptions/{beta.s1}/change",
        data={
            "quantity": "15",
            "pricing_option_id": str(beta.e5),
            "effective": "now",
            "csrf_token": token,
        },
    )
    confirm = {**hidden_fields(preview.text, "confirm-form"), "action": "confirm"}
    assert client.post(f"/subscriptions/{beta.s1}/change", data=confirm).status_code == 303
    for url, table in (
        (f"/accounts/{beta.account_id}/pending", "pending-invoices"),
        (f"/subscriptions/{beta.s1}/pending", "pending-invoices"),
    ):
        rows = documents(client.get(url).text, table)
        assert any(
            "20 Mar 2027" in r and "-€209.03" in r and r.endswith("Credit note") for r in rows
        )
        assert any("20 Mar 2027" in r and "€348.38" in r and r.endswith("Invoice") for r in rows)


def test_credit_note_page_and_the_list_filter(
    client: TestClient, beta: Beta, database: Database
) -> None:
    advance_to(database, beta, date(2027, 3, 20))
    as_operator(client, date(2027, 3, 20))
    credit = invoicing.get_invoice_by_number(database, "CN-2027-000001")
    corrected = invoicing.get_invoice_by_number(database, "INV-2027-000001")

    listed = client.get("/invoices").text
    assert re.search(r"CN-2027-000001</a></td>\s*<td[^>]*>Credit note</td>", listed)
    assert re.search(r"INV-2027-000003</a></td>\s*<td[^>]*>Invoice</td>", listed)
    credits = client.get("/invoices?type=credit").text
    assert "CN-2027-000001" in credits
    assert "INV-2027-00000" not in credits
    invoices_only = client.get("/invoices?type=invoice").text
    assert "CN-2027-000001" not in invoices_only
    assert "INV-2027-000003" in invoices_only

    page = client.get(f"/invoices/{credit.id}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert title.group(1) == "Credit note CN-2027-000001 · Recur"  # no page body in it
    assert re.search(r"<h1>Credit note CN-2027-000001", page)
    assert text_of(page, "corrects") == "INV-2027-000001"
    assert f'<a href="/invoices/{corrected.id}">INV-2027-000001</a>' in page
    assert text_of(page, "total") == "-€209.03"
    assert any("12/31" in e for e in explanations(page))
    assert "Credit note items" in page


def test_bad_input_is_shown_next_to_its_field_and_changes_nothing(
    client: TestClient, beta: Beta, database: Database
) -> None:
    token = as_operator(client, date(2027, 3, 11))
    url = f"/subscriptions/{beta.s1}/change"
    base = {"quantity": "15", "pricing_option_id": str(beta.e3), "effective": "now"}
    cases = [
        ({"quantity": "lots"}, "quantity", 422),
        ({"quantity": "0"}, "quantity", 422),
        ({"effective": "someday"}, "effective", 422),
        ({"effective": "date", "effective_date": "2027-03-10"}, "effective", 422),
        ({"effective": "date", "effective_date": "11/03/2027"}, "effective_date", 422),
        ({"pricing_option_id": str(beta.e3_annual)}, "pricing_option_id", 422),
        ({"pricing_option_id": str(beta.e3_usd)}, "pricing_option_id", 422),
        ({"pricing_option_id": str(beta.e3_15th)}, "pricing_option_id", 422),
    ]
    for change, field, status in cases:
        for action in ("preview", "confirm"):
            data = {**base, **change, "action": action, "csrf_token": token}
            response = client.post(url, data=data)
            assert response.status_code == status, (change, action, response.status_code)
            assert field_error(response.text, field), (change, action)
            assert 'id="change-form"' in response.text  # the form again, with what was typed
    unchanged = client.post(
        url, data={**base, "quantity": "10", "action": "confirm", "csrf_token": token}
    )
    assert unchanged.status_code == 422
    assert 'role="alert"' in unchanged.text.split('id="change-form"')[1]
    assert changes.list_changes(database, beta.s1, date(2027, 3, 11)) == []
    assert subscriptions.in_force(database, beta.s1, date(2027, 3, 11)) == (10, beta.e3)


def test_a_viewer_sees_changes_but_cannot_change(
    client: TestClient, beta: Beta, database: Database
) -> None:
    move_clock(client, date(2027, 3, 11))
    token = sign_in(client, VIEWER)
    page = client.get(f"/subscriptions/{beta.s1}").text
    assert "No changes" in page
    assert 'id="change-form"' not in page
    data = {"quantity": "15", "pricing_option_id": str(beta.e3), "effective": "now"}
    response = client.post(f"/subscriptions/{beta.s1}/change", data={**data, "csrf_token": token})
    assert response.status_code == 403
    assert changes.list_changes(database, beta.s1, date(2027, 3, 11)) == []


def test_anniversary_billing_on_the_pricing_option_form(
    client: TestClient, database: Database
) -> None:
    token = sign_in(client, ADMIN)
    form = product_form(
        token,
        sku="AZ-RI",
        name="Azure reserved instance",
        unit_price="80.00",
        anniversary_billing="on",
    )
    refused = client.post("/products", data={**form, row("billing_day"): "5"})
    assert refused.status_code == 422
    assert "billing day" in field_error(refused.text, row("anniversary_billing"))
    assert "AZ-RI" not in client.get("/products").text
    checkbox = f'name="{row("anniversary_billing")}"'
    assert "checked" in refused.text.split(checkbox)[1].split(">")[0]

    assert client.post("/products", data=form).status_code == 303
    [product] = [p for p in catalogue.list_products(database).items if p.sku == "AZ-RI"]
    assert product.pricing_options[0].anniversary_billing is True
