"""SPEC §19: the dashboard's figures and the forecast, checked against what the engine
actually issues when the billing service runs on every day it has work, and against
sums computed here from the subscriptions and the invoices (both databases)."""

import csv
import io
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.services import metrics
from tests.api.conftest import make_app
from tests.api.factories import (
    account_body,
    created,
    option_id,
    set_today,
    subscription,
)

API = "/api/v1"
TODAY = "2027-01-15"


def _book(client: TestClient) -> dict[str, int]:
    """SPEC §8's Acme with an annual plan, a one-time price and a change ahead, and
    Beta, anniversary-billed per subscription on a quarterly plan."""
    set_today(client, "2027-01-11")
    acme = created(client, "/accounts", account_body())["id"]
    beta = created(
        client,
        "/accounts",
        account_body("Beta GmbH", billing_day=None, invoice_grouping="per_subscription"),
    )["id"]
    e3 = option_id(client, "E3", price="12.50")
    backup = option_id(client, "BACKUP", price="20.00", setup_fee="50.00")
    azure = option_id(client, "AZURE", price="100.00", billing_type="postpaid")
    annual = option_id(client, "ANNUAL", price="1200.00", billing_period="annual")
    once = option_id(client, "ONCE", price="500.00", billing_period="one_time")
    quarterly = option_id(client, "QUARTER", price="300.00", billing_period="quarterly")
    s1 = subscription(client, acme, e3, "2027-01-11", 10)["id"]
    subscription(client, acme, azure, "2027-01-11")
    subscription(client, acme, annual, "2027-01-11", 2)
    subscription(client, acme, once, "2027-01-11")
    subscription(client, beta, quarterly, "2027-01-11")
    assert client.post(f"{API}/billing-runs", json={"as_of": "2027-01-11"}).status_code == 201
    set_today(client, TODAY)
    subscription(client, acme, backup, "2027-01-20")
    change = {"quantity": 15, "effective": "2027-03-01"}
    assert client.post(f"{API}/subscriptions/{s1}/changes", json=change).status_code == 201
    return {"acme": acme, "beta": beta}


def _database(client: TestClient) -> Database:
    db: Database = client.app.state.ctx.db  # type: ignore[attr-defined]
    return db


def _metrics(client: TestClient, currency: str = "EUR") -> dict[str, Any]:
    """The figures of the book as it is now: computed here, as the background refresh
    computes them, rather than waited for."""
    today = client.app.state.ctx.clock.today()  # type: ignore[attr-defined]
    metrics.refresh(_database(client), currency, today)
    figures: dict[str, Any] = client.get(f"{API}/metrics", params={"currency": currency}).json()
    assert figures["refreshing"] is False
    return figures


def _invoices(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/invoices", params=params).json()
        found += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _shape(document: dict[str, Any]) -> tuple[Any, ...]:
    """What a forecast promises of a document: everything but number, status, source."""
    items = tuple(
        tuple(
            item[k]
            for k in (
                "subscription_id",
                "kind",
                "period_start",
                "period_end",
                "quantity",
                "unit_price",
                "amount",
            )
        )
        for item in document["items"]
    )
    return (
        document["account_id"],
        document["issue_date"],
        document["type"],
        document["subtotal"],
        document["tax"],
        document["total"],
        items,
    )


def _run_on_time(client: TestClient, days: list[str], last: str) -> list[dict[str, Any]]:
    """Run the billing service on each of `days` and on `last`; the documents issued."""
    before = {invoice["id"] for invoice in _invoices(client)}
    for day in sorted({*days, last}):
        set_today(client, day)
        assert client.post(f"{API}/billing-runs", json={"as_of": day}).status_code == 201
    issued = [i for i in _invoices(client) if i["id"] not in before]
    return [client.get(f"{API}/invoices/{i['id']}").json() for i in issued]


def test_forecast_is_what_runs_on_time_issue(client: TestClient) -> None:
    ids = _book(client)
    forecasts = {
        name: client.get(f"{API}/accounts/{account}/forecast", params={"months": 3}).json()
        for name, account in ids.items()
    }
    documents = [d for f in forecasts.values() for d in f["data"]]
    assert forecasts["acme"]["as_of"] == TODAY
    assert forecasts["acme"]["months"] == 3
    for forecast in forecasts.values():
        dates = [d["issue_date"] for d in forecast["data"]]
        assert dates == sorted(dates)
        assert dates[0] >= TODAY
        assert dates[-1] < "2027-04-15"
    # The first documents are the preview's (SPEC §5): same engine, same figures (later
    # ones differ: the preview stops at each subscription's first date after today).
    preview = client.get(f"{API}/accounts/{ids['acme']}/pending-invoices").json()["data"]
    first = preview[0]["issue_date"]
    assert [_shape(p) for p in preview if p["issue_date"] == first] == [
        _shape(d) for d in forecasts["acme"]["data"] if d["issue_date"] == first
    ]
    # A change ahead splits its period: 10 seats to 28 Feb, 15 from 1 March.
    split = [
        (item["quantity"], item["period_start"])
        for d in forecasts["acme"]["data"]
        for item in d["items"]
        if d["issue_date"] == "2027-02-11" and item["unit_price"] == "12.50"
    ]
    assert split == [(10, "2027-02-11"), (15, "2027-03-01")]

    issued = _run_on_time(client, [d["issue_date"] for d in documents], "2027-04-14")
    assert sorted(_shape(d) for d in issued) == sorted(_shape(d) for d in documents)


def test_metrics_equal_sums_of_the_subscriptions_and_invoices(client: TestClient) -> None:
    ids = _book(client)
    figures = _metrics(client)
    # MRR: 10 × 12.50 + 20.00 (not started: not in force) … computed from the book here.
    monthly = Decimal("10") * Decimal("12.50") + Decimal("100.00")
    monthly += Decimal(2) * Decimal("1200.00") / 12 + Decimal("300.00") / 3
    assert figures["mrr"] == str(monthly.quantize(Decimal("0.01")))
    assert figures["arr"] == str((12 * monthly).quantize(Decimal("0.01")))
    assert [m["month"] for m in figures["mrr_by_month"]][-2:] == ["2026-12", "2027-01"]
    assert figures["mrr_by_month"][0]["total"] == "0.00"
    assert figures["mrr_change"] == figures["mrr"]

    # Invoiced per month and overdue, from the invoices as listed.
    invoices = _invoices(client)
    january = sum(Decimal(i["total"]) for i in invoices if i["issue_date"].startswith("2027-01"))
    by_month = {m["month"]: m["total"] for m in figures["invoiced_by_month"]}
    assert len(by_month) == 12
    assert by_month["2027-01"] == str(january) != "0.00"
    assert by_month["2026-02"] == "0.00"
    assert figures["overdue"] == "0.00"  # nothing is past due yet

    # The next 30 days: what runs on time issue from today to 13 February.
    days = [
        d["issue_date"]
        for account in ids.values()
        for d in client.get(f"{API}/accounts/{account}/forecast", params={"months": 2}).json()[
            "data"
        ]
    ]
    issued = _run_on_time(client, [d for d in days if d < "2027-02-14"], "2027-02-13")
    assert all(TODAY <= d["issue_date"] <= "2027-02-13" for d in issued)
    expected = sum((Decimal(d["total"]) for d in issued), Decimal(0))
    assert figures["next_30_days"] == str(expected)
    assert expected > 0


def test_mrr_history_follows_changes_and_overdue_follows_due_dates(client: TestClient) -> None:
    _book(client)
    set_today(client, "2027-04-20")
    figures = _metrics(client)
    history = {m["month"]: Decimal(m["total"]) for m in figures["mrr_by_month"]}
    base = Decimal("100.00") + Decimal("200.00") + Decimal("100.00") + Decimal("20.00")
    assert history["2027-01"] == history["2027-02"] == base + 10 * Decimal("12.50")
    assert history["2027-03"] == base + 15 * Decimal("12.50")
    assert Decimal(figures["mrr_change"]) == Decimal(figures["mrr"])
    # Nothing ran since 11 January: its documents are past due on 20 April.
    invoices = _invoices(client)
    due = sum(
        Decimal(i["amount_due"])
        for i in invoices
        if i["due_date"] < "2027-04-20" and i["type"] == "invoice"
    )
    assert figures["overdue"] == str(due)
    assert due > 0


def test_book_forecast_is_a_job_of_every_account_forecast(client: TestClient) -> None:
    ids = _book(client)
    started = client.get(f"{API}/forecast", params={"months": 3})
    assert started.status_code == 202, started.text
    job = started.json()
    location = started.headers["Location"]
    assert location == f"{API}/forecast/jobs/{job['id']}"
    deadline = time.monotonic() + 120  # a child process computes it: start-up included
    while time.monotonic() < deadline:
        job = client.get(location).json()
        if job["status"] != "running":
            break
        time.sleep(0.05)
    assert job["status"] == "done", job
    documents: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(job["documents_url"], params=params).json()
        documents += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    expected = [
        d
        for account in ids.values()
        for d in client.get(f"{API}/accounts/{account}/forecast", params={"months": 3}).json()[
            "data"
        ]
    ]
    assert job["documents"] == len(documents) == len(expected)
    assert [_shape(d) for d in documents] == [_shape(d) for d in expected]
    rows = list(
        csv.DictReader(io.StringIO(client.get(job["documents_url"], params={"format": "csv"}).text))
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["issue_date"]] += Decimal(row["total"])
    assert len(rows) == len(expected)
    assert sum(totals.values()) == sum(Decimal(d["total"]) for d in expected)


def test_forecast_input_is_refused_in_words(client: TestClient) -> None:
    ids = _book(client)
    months = client.get(f"{API}/accounts/{ids['acme']}/forecast", params={"months": 25})
    assert months.status_code == 422
    assert months.json()["error"]["code"] == "months_out_of_range"
    assert client.get(f"{API}/forecast", params={"months": 0}).status_code == 422
    assert client.get(f"{API}/accounts/999/forecast").status_code == 404
    assert client.get(f"{API}/forecast/jobs/999").status_code == 404
    assert client.get(f"{API}/metrics", params={"currency": "XYZ"}).status_code == 422
    assert date.fromisoformat(TODAY) + timedelta(days=30) == date(2027, 2, 14)


def test_next_30_days_follows_every_change_of_the_book(client: TestClient) -> None:
    ids = _book(client)
    before = Decimal(_metrics(client)["next_30_days"])
    again = Decimal(_metrics(client)["next_30_days"])
    assert again == before
    # A new order, starting in ten days: its first document is issued then.
    seats = option_id(client, "SEATS", price="7.00")
    subscription(client, ids["beta"], seats, "2027-01-25", 3)
    after = Decimal(_metrics(client)["next_30_days"])
    beta = client.get(f"{API}/accounts/{ids['beta']}/forecast", params={"months": 1}).json()
    added = sum(Decimal(d["total"]) for d in beta["data"] if d["items"][0]["unit_price"] == "7.00")
    # 3 × 7.00 with 24 % tax on 25 January; 25 February is after the 30 days.
    assert added == Decimal("26.04")
    assert after - before == added


def _engine_in_the_request_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playing the engine in this process (the request's) fails; the background
    refresh's child process is spawned afresh and plays it as usual."""

    def played(*_args: object) -> None:
        raise AssertionError("the request played the engine")

    monkeypatch.setattr(metrics, "book_documents", played)


FIGURES = (
    "mrr",
    "arr",
    "mrr_change",
    "arr_change",
    "mrr_by_month",
    "next_30_days",
    "overdue",
    "invoiced_by_month",
)


def _nothing_computed_in_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Computing any figure in this process (the request's) fails, not only the engine."""

    def computed(*_args: object) -> None:
        raise AssertionError("the request computed figures")

    monkeypatch.setattr(metrics, "_figures", computed)


def _computed_here(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The figures computed in this process, with the engine and the figures allowed."""
    monkeypatch.undo()
    return _metrics(client)


def _refreshed(client: TestClient, currency: str = "EUR") -> dict[str, Any]:
    """The figures once the background refresh has computed them of the book as it is."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        figures: dict[str, Any] = client.get(f"{API}/metrics", params={"currency": currency}).json()
        if not figures["refreshing"]:
            return figures
        time.sleep(0.1)
    raise AssertionError("the next 30 days were not refreshed in the background")


def test_the_next_30_days_are_computed_off_the_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _book(client)
    _engine_in_the_request_fails(monkeypatch)
    _nothing_computed_in_the_request(monkeypatch)
    # Never computed: no figure rather than a zero, and the API says so; nothing is
    # computed in the request, the background refresh is started.
    first = client.get(f"{API}/metrics", params={"currency": "EUR"})
    assert first.status_code == 200, first.text
    assert first.json() == {
        "currency": "EUR",
        "as_of": TODAY,
        **dict.fromkeys(FIGURES),
        "computed_at": None,
        "refreshing": True,
    }
    background = _refreshed(client)
    assert None not in background.values()
    # The first figures are the engine's, computed here (and kept: the later ones).
    computed = _computed_here(client, monkeypatch)
    assert background == computed | {"computed_at": background["computed_at"]}
    _engine_in_the_request_fails(monkeypatch)
    _nothing_computed_in_the_request(monkeypatch)
    # A change: the last figures are served at once, as of when they were computed.
    seats = option_id(client, "SEATS", price="7.00")
    subscription(client, ids["beta"], seats, "2027-01-25", 3)
    stale = client.get(f"{API}/metrics", params={"currency": "EUR"}).json()
    assert stale == {**computed, "refreshing": True}
    fresh = _refreshed(client)
    assert fresh["computed_at"] > computed["computed_at"]
    # The background's figures are the engine's, computed here.
    assert fresh == _computed_here(client, monkeypatch) | {"computed_at": fresh["computed_at"]}
    assert Decimal(fresh["next_30_days"]) - Decimal(computed["next_30_days"]) == Decimal("26.04")
    assert Decimal(fresh["mrr"]) - Decimal(computed["mrr"]) == 0  # it starts on 25 January


def test_the_server_starts_computing_every_currency_at_its_start(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _book(client)
    created(client, "/accounts", account_body("Gamma KSC", currency="KWD"))
    started: list[tuple[str, date]] = []
    monkeypatch.setattr(metrics, "_start_refresh", lambda _db, *args: started.append(args))
    with TestClient(make_app(db_url, warm_figures=False)):
        assert started == []
    warmed = make_app(db_url, warm_figures=True)
    with TestClient(warmed):
        today = warmed.state.ctx.clock.today()
        assert sorted(started) == [("EUR", today), ("KWD", today)]
