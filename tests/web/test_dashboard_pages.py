"""The dashboard (the home page) and the forecast pages (SPEC §19)."""

import base64
import csv
import io
import re
import time
from collections import defaultdict
from decimal import Decimal

from fastapi.testclient import TestClient

from recur.db.session import Database
from recur.presentation import money, timestamp
from recur.services import forecast, metrics
from recur.services.users import create_user
from tests.web.acme import Acme
from tests.web.conftest import TODAY


def test_the_dashboard_shows_each_figure_with_a_link_to_its_list(
    viewer: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, _ = viewer
    # Never computed in this process: a placeholder for every figure, not a zero,
    # while the background refresh the view started computes them.
    first = client.get("/")
    assert first.status_code == 200
    for figure in ("mrr", "arr", "next", "overdue"):
        assert _figure(first.text, figure) == "Computing…"
    assert "<strong>Refreshing:</strong> the figures are being computed" in first.text
    assert "<img" not in first.text
    html = _refreshed(client)
    # MRR: S1 10 × 12.50 + S3 100.00 (S2 starts on 20 January), from the seed.
    assert _figure(html, "mrr") == money(125 + 100, "EUR")
    assert _next(html) == money(metrics.refresh(database, "EUR", TODAY).next_30_days, "EUR")
    assert 'href="/reports/aging" id="overdue-EUR"' in html
    assert 'href="/forecast" id="next-EUR"' in html
    assert "/invoices?issued_from=2027-01-01&amp;issued_to=2027-01-31" in html
    assert 'href="/billing-runs"' in html
    # Charts are SVG images with their figures in words, and tables beside them.
    charts = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html)
    assert len(charts) == 2
    svg = base64.b64decode(charts[0][0]).decode()
    assert svg.startswith("<svg")
    assert "2027-01" in svg
    assert "2027-01 €225.00" in charts[0][1]
    assert 'id="mrr-table-EUR"' in html
    assert 'id="invoiced-table-EUR"' in html


def _figure(html: str, figure: str) -> str:
    shown = re.search(rf'id="{figure}-EUR".*?stat-value">([^<]+)<', html, re.S)
    assert shown is not None
    return shown.group(1)


def _next(html: str) -> str:
    return _figure(html, "next")


def _refreshed(client: TestClient) -> str:
    """The dashboard once the background refresh has computed the figures."""
    deadline = time.monotonic() + 120  # a child process computes them: start-up included
    while time.monotonic() < deadline:
        html = client.get("/").text
        if "Refreshing" not in html:
            return html
        time.sleep(0.1)
    raise AssertionError("the figures were not computed in the background")


def test_the_dashboard_shows_the_last_figures_while_they_refresh(
    viewer: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = viewer
    db: Database = client.app.state.ctx.db  # type: ignore[attr-defined]
    computed = metrics.refresh(db, "EUR", TODAY)
    assert computed.next_30_days > 0
    page = client.get("/").text
    assert _next(page) == money(computed.next_30_days, "EUR")
    assert f"Figures as of {timestamp(computed.computed_at)}." in page
    assert "Refreshing" not in page
    # Any change moves the book on: the figures shown are the last ones, said to be so.
    create_user(db, "new@example.com", "viewer", "a long enough password", actor="test")
    page = client.get("/").text
    assert _next(page) == money(computed.next_30_days, "EUR")
    assert (
        f"<strong>Refreshing:</strong> figures as of {timestamp(computed.computed_at)}, "
        "the book has changed since"
    ) in page


def test_the_account_forecast_tab_shows_the_engine_forecast(
    viewer: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, _ = viewer
    documents = forecast.account_forecast(database, acme.account_id, TODAY, 3)
    page = client.get(f"/accounts/{acme.account_id}/forecast?months=3")
    assert page.status_code == 200
    assert page.text.count('class="pending-invoice') == len(documents) > 3
    for document in documents:
        assert money(document.totals.total, "EUR") in page.text
    exported = client.get(f"/accounts/{acme.account_id}/forecast.csv?months=3")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["total"] for row in rows] == [str(d.totals.total) for d in documents]
    assert client.get(f"/accounts/{acme.account_id}/forecast?months=30").status_code == 422


def test_an_operator_computes_the_book_forecast_in_the_background(
    operator: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, token = operator
    started = client.post("/forecast", data={"months": "2", "csrf_token": token})
    assert started.status_code == 303
    job_page = started.headers["location"]
    deadline = time.monotonic() + 120  # a child process computes it: start-up included
    while time.monotonic() < deadline:
        page = client.get(job_page)
        if "Status: <strong>running" not in page.text:
            break
        time.sleep(0.05)
    assert "Status: <strong>done" in page.text
    documents = forecast.account_forecast(database, acme.account_id, TODAY, 2)
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for document in documents:
        by_month[document.issue_date.isoformat()[:7]] += document.totals.total
    table = page.text.split('id="forecast-months-EUR"')[1].split("</table>")[0]
    shown = re.findall(r"<td>(\d{4}-\d{2})</td><td class=\"num\">([^<]+)</td>", table)
    assert shown == [(month, money(total, "EUR")) for month, total in sorted(by_month.items())]
    exported = client.get(f"{job_page}.csv").text
    assert len(exported.splitlines()) == len(documents) + 1
    refused = client.post("/forecast", data={"months": "x", "csrf_token": token})
    assert refused.headers["location"] == "/forecast"
