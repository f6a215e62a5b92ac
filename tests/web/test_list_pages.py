"""Back-office lists: sortable headers kept in the address (aria-sort, toggling links),
previous and next pages and a page size, Export CSV of the current filter and sort,
and the top bar's global search."""

import csv
import html
import io
import re

from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.services import accounts, invoicing
from recur.services.accounts import AccountSpec
from tests.web.acme import Acme
from tests.web.conftest import TODAY


def names_in(page: str) -> list[str]:
    return re.findall(r'<td><a href="/accounts/\d+">([^<]+)</a>', page)


def link(page: str, rel: str) -> str:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    assert match, f"no {rel} link"
    return html.unescape(match.group(1))


def add_customers(database: Database, count: int) -> None:
    for n in range(count):
        spec = AccountSpec(name=f"Customer {n % 3}", email=f"c{n:02d}@example.com", currency="EUR")
        accounts.create_account(database, spec, actor="test")


def test_a_column_header_sorts_and_toggles_the_direction(
    viewer: tuple[TestClient, str], database: Database
) -> None:
    client, _ = viewer
    add_customers(database, 6)
    page = client.get("/accounts").text
    assert re.search(
        r'<th scope="col" aria-sort="ascending"><a class="sort" href="[^"]*sort=-name"', page
    )
    ascending = names_in(page)
    assert ascending == sorted(ascending)
    page = client.get("/accounts?sort=-name").text
    assert re.search(
        r'<th scope="col" aria-sort="descending"><a class="sort" href="[^"]*sort=name"', page
    )
    assert names_in(page) == ascending[::-1]
    # another column: not sorted yet, its link sorts ascending first
    assert re.search(
        r'<th scope="col"(?: class="[^"]*")?><a class="sort" href="[^"]*sort=currency">Currency</a>',
        page,
    )


def test_pages_go_forward_and_back_with_a_page_size(
    viewer: tuple[TestClient, str], database: Database
) -> None:
    client, _ = viewer
    add_customers(database, 12)  # 13 accounts with Acme: 5 + 5 + 3
    first = client.get("/accounts?sort=-name&limit=5").text
    assert "13 in all, showing 5" in first
    assert 'rel="prev"' not in first
    second = client.get(link(first, "next")).text
    third = client.get(link(second, "next")).text
    assert 'rel="next"' not in third
    assert len(names_in(third)) == 3
    assert names_in(client.get(link(third, "prev")).text) == names_in(second)
    assert names_in(client.get(link(second, "prev")).text) == names_in(first)
    assert "sort=-name" in link(second, "next")
    assert '<strong aria-current="true">25</strong>' in client.get("/accounts").text
    refused = client.get("/accounts?limit=500")
    assert refused.status_code == 422
    assert "limit must be between 1 and 100" in refused.text
    refused = client.get("/invoices?sort=password")
    assert refused.status_code == 422
    assert "sort takes one of" in refused.text


def test_export_csv_has_the_filter_and_sort_of_the_page(
    viewer: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, _ = viewer
    add_customers(database, 40)  # more than a page
    page = client.get("/accounts?q=customer&sort=-email&limit=10").text
    match = re.search(r'href="([^"]+)" download>Export CSV</a>', page)
    assert match
    export = html.unescape(match.group(1))
    assert "cursor" not in export
    assert "limit" not in export
    response = client.get(export)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="accounts-{TODAY.isoformat()}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["email"] for r in rows] == [f"c{n:02d}@example.com" for n in reversed(range(40))]
    invoicing.generate_for_account(database, acme.account_id, [acme.s1], TODAY, "test")
    invoices = list(csv.DictReader(io.StringIO(client.get("/invoices?format=csv").text)))
    issued = invoicing.list_invoice_rows(database, limit=100).items
    assert [r["number"] for r in invoices] == [i.number for i in issued]
    assert {(r["account"], r["subtotal"]) for r in invoices} == {("Acme Ltd", "125.00")}
    subs = list(csv.DictReader(io.StringIO(client.get("/subscriptions?format=csv&sort=-id").text)))
    assert [int(r["id"]) for r in subs] == sorted([acme.s1, acme.s2, acme.s3], reverse=True)
    assert "download>Export CSV</a>" in client.get("/invoices").text
    assert "download>Export CSV</a>" in client.get("/subscriptions").text


def test_the_global_search_finds_accounts_invoices_and_subscriptions(
    viewer: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, _ = viewer
    [invoice] = invoicing.generate_for_account(
        database, acme.account_id, [acme.s1], TODAY, "test"
    ).invoices
    box = '<form class="global-search" method="get" action="/search" role="search">'
    assert box in client.get("/invoices").text  # in the top bar of every page
    page = client.get("/search", params={"q": "ACME"}).text
    assert f'<a href="/accounts/{acme.account_id}">Acme Ltd</a>' in page
    page = client.get("/search", params={"q": invoice.number.lower()}).text
    assert f'<a href="/invoices/{invoice.id}">{invoice.number}</a>' in page
    page = client.get("/search", params={"q": f"#{acme.s2}"}).text
    assert f'<a href="/subscriptions/{acme.s2}">' in page
    assert f'value="#{acme.s2}"' in page  # the box keeps what was searched
    empty = client.get("/search", params={"q": " "})
    assert empty.status_code == 200
    assert "Type a name, an e-mail, an invoice number or a subscription id" in empty.text
