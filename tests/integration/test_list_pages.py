"""Every list sorts by each field of its whitelist in both directions, and its keyset
pages walk forward and back through rows with many equal sort values (60 accounts,
a third of them named alike) without a row skipped or repeated, on both databases.

The expected order is computed here, in Python, from the rows themselves: by the
field (rows without a value last), then by id; descending is the exact reverse.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from recur.db.session import Database
from recur.domain.errors import InvalidInput
from recur.domain.issued import InvoiceFilter
from recur.domain.pages import Page
from recur.domain.receivables import PaymentSpec
from recur.services import accounts, billing_run, catalogue, invoicing, payments, subscriptions
from recur.services.accounts import AccountSpec
from tests.integration import factories as f

TODAY = date(2027, 1, 11)
NAMES = ("Alpha Ltd", "Same Name", "Zulu plc")  # 20 accounts each: ties across pages
LIMIT = 7

Getter = Callable[[Any], Any]


def build(db: Database) -> None:
    """60 accounts with equal names, e-mails that order alike under any collation,
    billing days with ties and gaps (anniversary: none); 24 of them subscribed and
    invoiced (two totals, a dozen each), 10 with a payment, 3 billing runs."""
    option = f.product(db, "Widget", unit_price="10.00")
    f.product(db, "Widget")  # another product of the same name
    f.product(db, "Gadget")
    for i in range(60):
        account = accounts.create_account(
            db,
            AccountSpec(
                name=NAMES[i % 3],
                email=f"acct{i:03d}@example.com",
                currency="EUR" if i < 24 or i % 2 else "USD",
                billing_day=None
                if i % 4 == 0 or i < 24
                else i % 5 + 1,  # anniversary: whole months
            ),
            f.ACTOR,
        )
        if i < 24:
            start = TODAY - timedelta(days=i % 3)
            sub = f.subscribe(db, account.id, option, start, quantity=1 + i % 2)
            invoicing.generate_for_account(db, account.id, [sub], start, f.ACTOR)
        if i < 10:
            spec = PaymentSpec(
                account.id,
                Decimal(5 + 5 * (i % 2)),
                "EUR",
                TODAY - timedelta(days=i % 2),
                "bank_transfer",
                f"ref {i}",
                (),
            )
            payments.record_payment(db, spec, f.ACTOR, TODAY)
    for _ in range(3):
        billing_run.run_billing(db, TODAY, TODAY, triggered_by="tests")


def expected(records: list[Any], value: Getter, descending: bool) -> list[int]:
    def key(record: Any) -> tuple[bool, Any, int]:
        v = value(record)
        return (v is None, v if v is not None else 0, record.id)

    ordered = [r.id for r in sorted(records, key=key)]
    return ordered[::-1] if descending else ordered


Fetch = Callable[[str | None, str], Page[Any]]


def assert_walks(fetch: Fetch, sort: str, ids: list[int], limit: int = LIMIT) -> None:
    """Forward by next links: every row once, in order, full pages; back from the last
    page by previous links: the same pages again."""
    pages = [fetch(None, sort)]
    while pages[-1].next_cursor is not None:
        pages.append(fetch(pages[-1].next_cursor, sort))
    assert [r.id for p in pages for r in p.items] == ids, sort
    assert all(len(p.items) == limit for p in pages[:-1])
    assert pages[0].prev_cursor is None
    assert {p.sort for p in pages} == {sort}
    back = [pages[-1]]
    while back[-1].prev_cursor is not None:
        back.append(fetch(back[-1].prev_cursor, sort))
    assert [[r.id for r in p.items] for p in reversed(back)] == [
        [r.id for r in p.items] for p in pages
    ], sort


def check_every_sort(fetch: Fetch, fields: dict[str, Getter], limit: int = LIMIT) -> None:
    records = fetch_all(fetch)
    for field, value in fields.items():
        for descending in (False, True):
            sort = f"-{field}" if descending else field
            assert_walks(fetch, sort, expected(records, value, descending), limit)


def fetch_all(fetch: Fetch) -> list[Any]:
    records: list[Any] = []
    cursor = None
    while True:
        page = fetch(cursor, "id")
        records += page.items
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


@pytest.fixture
def book(db: Database) -> Database:
    build(db)
    return db


def test_accounts_sort_by_every_field_and_page_through_ties(book: Database) -> None:
    def fetch(cursor: str | None, sort: str) -> Page[Any]:
        return accounts.list_accounts(book, limit=LIMIT, cursor=cursor, sort=sort)

    assert fetch(None, "name").total == 60
    check_every_sort(
        fetch,
        {
            "name": lambda a: a.name,
            "email": lambda a: a.email,
            "currency": lambda a: a.currency,
            "billing_day": lambda a: a.billing_day,
            "status": lambda a: a.status,
            "id": lambda a: a.id,
        },
    )


def test_a_search_pages_by_keyset_too(book: Database) -> None:
    def fetch(cursor: str | None, sort: str) -> Page[Any]:
        return accounts.list_accounts(book, "same NAME", LIMIT, cursor, sort)

    found = fetch_all(fetch)
    assert len(found) == 20
    assert {a.name for a in found} == {"Same Name"}
    assert_walks(fetch, "-name", expected(found, lambda a: a.name, True))


def test_subscriptions_sort_by_every_field(book: Database) -> None:
    def fetch(cursor: str | None, sort: str) -> Page[Any]:
        return subscriptions.list_subscription_rows(
            book, limit=LIMIT, cursor=cursor, today=TODAY, sort=sort
        )

    check_every_sort(
        fetch,
        {
            "id": lambda s: s.id,
            "account": lambda s: s.account.name,
            "quantity": lambda s: s.quantity,
            "start_date": lambda s: s.start_date,
            "status": lambda s: s.status,
            "next_charge_date": lambda s: s.next_charge_date,
            "end_date": lambda s: s.end_date,
        },
    )


def test_invoices_sort_by_every_field(book: Database) -> None:
    def fetch(cursor: str | None, sort: str) -> Page[Any]:
        return invoicing.list_invoice_rows(book, InvoiceFilter(), LIMIT, cursor, sort)

    totals = [i.total for i in fetch_all(fetch)]
    assert len(totals) == 24
    assert len(set(totals)) == 2  # quantities 1 and 2: a dozen equal totals each
    check_every_sort(
        fetch,
        {
            "number": lambda i: i.number,
            "type": lambda i: i.type,
            "account": lambda i: i.account.name,
            "issue_date": lambda i: i.issue_date,
            "due_date": lambda i: i.due_date,
            "total": lambda i: i.total,
            "status": lambda i: i.status,
            "source": lambda i: i.source,
            "id": lambda i: i.id,
        },
    )


def test_payments_products_and_runs_sort_by_every_field(book: Database) -> None:
    def payment_page(cursor: str | None, sort: str) -> Page[Any]:
        return payments.list_payments(book, None, LIMIT, cursor, sort)

    def product_page(cursor: str | None, sort: str) -> Page[Any]:
        return catalogue.list_products(book, 2, cursor, sort)

    def run_page(cursor: str | None, sort: str) -> Page[Any]:
        return billing_run.list_billing_runs(book, 2, cursor, sort)

    check_every_sort(
        payment_page,
        {
            "received_on": lambda p: p.received_on,
            "amount": lambda p: p.amount,
            "id": lambda p: p.id,
        },
    )
    # A handful of products and runs: pages of 2.
    check_every_sort(
        product_page,
        {
            "id": lambda p: p.id,
            "name": lambda p: p.name,
            "sku": lambda p: p.sku,
        },
        limit=2,
    )
    check_every_sort(
        run_page,
        {
            "id": lambda r: r.id,
            "as_of": lambda r: r.as_of,
            "started_at": lambda r: r.started_at,
            "invoices_issued": lambda r: r.invoices_issued,
            "errors_count": lambda r: r.errors_count,
        },
        limit=2,
    )


def test_default_orders_are_unchanged(book: Database) -> None:
    """Accounts by name, invoices and payments newest first, runs newest first."""
    assert accounts.list_accounts(book, limit=1).sort == "name"
    assert invoicing.list_invoices(book, limit=1).sort == "-issue_date"
    assert payments.list_payments(book, limit=1).sort == "-received_on"
    assert billing_run.list_billing_runs(book, limit=1).sort == "-id"
    assert subscriptions.list_subscriptions(book, limit=1).sort == "id"


def test_an_unknown_sort_field_or_a_foreign_cursor_is_refused(db: Database) -> None:
    for _ in range(3):
        f.account(db)
    with pytest.raises(InvalidInput) as refused:
        accounts.list_accounts(db, sort="-password")
    assert refused.value.code == "invalid_sort"
    assert "billing_day, currency, email, id, name, status" in refused.value.message
    page = accounts.list_accounts(db, limit=1, sort="name")
    assert page.next_cursor is not None
    with pytest.raises(InvalidInput) as foreign:
        accounts.list_accounts(db, limit=1, cursor=page.next_cursor, sort="-name")
    assert foreign.value.code == "invalid_cursor"
    for damaged in ("b2s6MjU=", "not base64!", page.next_cursor[:-4]):
        with pytest.raises(InvalidInput):
            accounts.list_accounts(db, limit=1, cursor=damaged, sort="name")
