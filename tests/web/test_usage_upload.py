"""Billing > Usage: a CSV file checked before anything is stored, then stored whole."""

import re
import time
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from recur.db.models import PricingOption, Product, UsageRecord
from recur.db.session import Database
from recur.services.subscriptions import SubscriptionSpec, create_subscription
from recur.services.usage import ingest
from tests.integration.usage import azure_option, rec
from tests.web.acme import Acme
from tests.web.test_input import field_error, meter_fields, product_form, row

HEADER = "id,subscription_id,meter,quantity,occurred_on\n"


def usage_sub(database: Database, acme: Acme) -> int:
    option = azure_option(database, sku="AZURE-PLAN")
    spec = SubscriptionSpec(acme.account_id, option, 1, date(2027, 1, 11))
    return create_subscription(database, spec, "tests").id


def count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


def upload(client: TestClient, csrf: str, text: str) -> str:
    response = client.post(
        "/usage/check",
        data={"csrf_token": csrf},
        files={"file": ("usage.csv", text.encode(), "text/csv")},
    )
    return response.text


def test_a_file_is_checked_first_then_stored(
    operator: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, csrf = operator
    sub = usage_sub(database, acme)
    refused = upload(
        client,
        csrf,
        HEADER
        + f"r1,{sub},vm.hours,1.5,2027-01-12\nr2,{sub},gpu,1,2027-01-12\nr3,{sub},vm.hours,-2,2027-01-12\n",
    )
    assert 'id="check-accepted">1<' in refused
    assert 'id="check-refused">2<' in refused
    assert "line 3" in refused
    assert "meter &#39;gpu&#39; is not on subscription" in refused
    assert "line 4" in refused
    assert 'name="token"' not in refused
    assert count(database) == 0

    page = upload(client, csrf, HEADER + f"r1,{sub},vm.hours,1.5,2027-01-12\n")
    assert 'id="check-accepted">1<' in page
    assert count(database) == 0  # checked, not stored
    token = page.split('name="token" value="')[1].split('"')[0]
    stored = client.post("/usage/confirm", data={"csrf_token": csrf, "token": token})
    assert stored.status_code == 303
    assert count(database) == 1
    assert "Stored 1 usage records (duplicates: 0)" in client.get("/usage").text
    again = upload(client, csrf, HEADER + f"r1,{sub},vm.hours,1.5,2027-01-12\n")
    assert 'id="check-duplicates">1<' in again
    assert "nothing to store" in again


def test_a_file_without_the_columns_is_refused(operator: tuple[TestClient, str]) -> None:
    client, csrf = operator
    page = upload(client, csrf, "id,meter\nr1,vm.hours\n")
    assert "missing: subscription_id, quantity, occurred_on" in page


def test_viewers_cannot_upload(viewer: tuple[TestClient, str]) -> None:
    client, _ = viewer
    assert client.get("/usage").status_code == 403


def test_a_file_of_100000_rows(
    operator: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, csrf = operator
    sub = usage_sub(database, acme)
    rows = "".join(
        f"rec-{i:06},{sub},vm.hours,{i % 97}.5,2027-01-{12 + i % 4}\n" for i in range(100_000)
    )
    started = time.monotonic()
    page = upload(client, csrf, HEADER + rows)
    assert 'id="check-accepted">100000<' in page
    token = page.split('name="token" value="')[1].split('"')[0]
    assert (
        client.post("/usage/confirm", data={"csrf_token": csrf, "token": token}).status_code == 303
    )
    assert count(database) == 100_000
    # Far from any proxy's timeout (typically 60 s) even on a loaded test machine.
    assert time.monotonic() - started < 60


def test_the_product_form_creates_a_usage_option_with_its_meters(
    admin: tuple[TestClient, str], database: Database
) -> None:
    client, csrf = admin
    form = product_form(
        csrf,
        sku="AZ-USAGE",
        billing_type="usage",
        unit_price="0",
        usage_delay_days="3",
    ) | meter_fields(
        ("vm.hours", "Virtual machines", "hours", "0.096"),
        ("storage.gb", "Storage", "GB", "0.02"),
    )
    missing = client.post("/products", data={**form, row("meter_rows"): "0"})
    assert missing.status_code == 422
    assert field_error(missing.text, row("meters")) == "A usage option needs at least one meter."
    late = client.post("/products", data={**form, row("usage_delay_days"): "32"})
    assert late.status_code == 422
    assert "from 0 to 31" in field_error(late.text, row("usage_delay_days"))
    assert client.post("/products", data=form).status_code == 303
    with database.read() as session:
        option = session.scalars(
            select(PricingOption).join(Product).where(Product.sku == "AZ-USAGE")
        ).one()
        assert option.usage_delay_days == 3
        assert [(m.code, m.unit, m.unit_price) for m in option.meters] == [
            ("vm.hours", "hours", Decimal("0.096")),
            ("storage.gb", "GB", Decimal("0.02")),
        ]


def test_a_usage_subscription_page_shows_usage_per_meter_and_period(
    operator: tuple[TestClient, str], database: Database, acme: Acme
) -> None:
    client, _ = operator
    sub = usage_sub(database, acme)
    ingest(
        database,
        [
            rec("r1", sub, "vm.hours", "120.5", "2027-01-12"),
            rec("r2", sub, "vm.hours", "300", "2027-01-14"),
            rec("r3", sub, "storage.gb", "512", "2027-01-15"),
        ],
        date(2027, 1, 15),
        "tests",
    )
    page = client.get(f"/subscriptions/{sub}").text
    table = page.split('id="usage-by-period"')[1].split("</table>")[0]
    assert "11 Jan 2027 – 10 Feb 2027" in table
    rows = [re.sub(r"<[^>]+>|\s+", " ", row).split() for row in table.split("<tr>")[2:]]
    assert rows[0][-6:] == ["vm.hours", "420.5", "hours", "€0.096", "€40.37", "2"]
    assert rows[1][-6:] == ["storage.gb", "512", "GB", "€0.02", "€10.24", "1"]
    records = page.split('id="usage-records"')[1]
    assert records.index("r3") < records.index("r2") < records.index("r1")
    assert "usage-overview" not in client.get(f"/subscriptions/{acme.s1}").text
