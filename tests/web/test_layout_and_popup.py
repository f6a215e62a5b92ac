"""Formatting and layout of the back office, and the Generate pop-up's state through
the server: forms with all their errors in words, plurals, billed through, header
scopes, the skip link, ticks kept through an error, the Selected list's total."""

import re

from fastapi.testclient import TestClient

from tests.web.acme import Acme

MAIN_PAGES = (
    "/accounts",
    "/accounts/{a}",
    "/accounts/{a}/pending",
    "/accounts/{a}/generate",
    "/subscriptions",
    "/subscriptions/{s}",
    "/invoices",
    "/invoices/1",
    "/products",
    "/billing-runs",
    "/billing-runs/preview",
    "/reports/aging",
)


def _field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]+)</p>', html))


def test_the_account_form_shows_all_its_errors_at_once_in_words(
    operator: tuple[TestClient, str],
) -> None:
    client, token = operator
    form = {
        "csrf_token": token,
        "name": "",
        "email": "not an address",
        "currency": "EURO",
        "billing_day": "40",
        "payment_terms_days": "abc",
        "tax_rate": "100.5",
        "tax_treatment": "exempt",
    }
    response = client.post("/accounts", data=form)
    assert response.status_code == 422
    errors = _field_errors(response.text)
    assert set(errors) >= {
        "name",
        "email",
        "currency",
        "billing_day",
        "payment_terms_days",
        "tax_rate",
    }, errors
    assert not [text for text in errors.values() if "_" in text], errors  # no column names


def test_the_tax_treatment_rule_speaks_in_words(operator: tuple[TestClient, str]) -> None:
    client, token = operator
    form = {
        "csrf_token": token,
        "name": "Exempt Co",
        "email": "ap@exempt.example",
        "currency": "EUR",
        "payment_terms_days": "30",
        "tax_treatment": "exempt",
    }
    response = client.post("/accounts", data=form)
    assert response.status_code == 422
    assert "Tax exemption reason is required when tax treatment is exempt." in response.text


def test_the_subscription_form_shows_all_its_errors_at_once(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    form = {
        "csrf_token": token,
        "account_id": str(acme.account_id),
        "pricing_option_id": "",
        "quantity": "0",
        "start_date": "1900-01-01",
    }
    response = client.post("/subscriptions", data=form)
    assert response.status_code == 422
    assert set(_field_errors(response.text)) >= {"pricing_option_id", "quantity", "start_date"}


def test_plurals_and_billed_through(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, _ = operator
    page = client.get(f"/subscriptions/{acme.s1}").text
    # S1 is invoiced for 11 Jan – 10 Feb 2027 (the seed's run): its last billed day.
    assert re.search(r'id="billed-through">10 Feb 2027<', page)
    assert not re.search(r"\b1 months\b", page)
    never = client.get(f"/subscriptions/{acme.s2}").text
    assert re.search(r'id="billed-through">Not billed yet<', never)
    pending = client.get(f"/accounts/{acme.account_id}/pending").text
    assert "2 items —" in pending


def test_every_header_cell_has_a_scope_and_every_page_a_skip_link(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    for path in MAIN_PAGES:
        html = client.get(path.format(a=acme.account_id, s=acme.s1)).text
        unscoped = re.findall(r"<th(?![^>]*\bscope=)[ >][^<]*", html)
        assert not unscoped, (path, unscoped)
        assert '<a class="skip-link" href="#main">Skip to content</a>' in html, path
        assert '<main class="page" id="main"' in html, path


def test_ticks_survive_an_error(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, token = operator
    response = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={
            "csrf_token": token,
            "idempotency_key": "ticks-1",
            "candidate": [str(acme.s1), str(acme.s2)],
            "action": "generate",
        },
    )
    assert response.status_code == 422
    ticked = re.findall(r'name="candidate" value="(\d+)" id="cand-\d+" checked', response.text)
    assert ticked == [str(acme.s1), str(acme.s2)]


def test_the_selected_list_shows_its_total_before_generating(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    page = client.post(
        f"/accounts/{acme.account_id}/generate",
        data={
            "csrf_token": token,
            "idempotency_key": "total-1",
            "candidate": [str(acme.s1), str(acme.s3)],
            "action": "insert",
        },
    ).text
    # SPEC §8: S1's February and S3's January, issued today: 225.00 + 24 % = 279.00.
    row = re.search(r'<tr data-currency="EUR">(.*?)</tr>', page, re.S)
    assert row
    cells = re.findall(r"<t[hd][^>]*>([^<]+)</t[hd]>", row.group(1))
    assert cells == ["EUR", "€225.00", "€54.00", "€279.00"]
    assert "1 document" in page
    # Each row says what it will bill and when: S1's next period, planned on 11 Feb.
    s1_row = re.search(rf'<tr data-subscription="{acme.s1}">(.*?)</tr>', page, re.S)
    assert s1_row
    assert "11 Feb 2027 – 10 Mar 2027" in s1_row.group(1)
    assert "planned 11 Feb 2027" in s1_row.group(1)


def test_the_subscription_page_has_its_own_generate_button(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, _ = operator
    page = client.get(f"/subscriptions/{acme.s2}").text
    assert re.search(
        rf'<a class="button" id="generate-open" href="/subscriptions/{acme.s2}/generate">', page
    )
    dialog = client.get(f"/subscriptions/{acme.s2}/generate").text
    row = re.search(r'<tr data-currency="EUR">(.*?)</tr>', dialog, re.S)
    assert row
    assert "€79.60" in row.group(1)  # S2's first invoice: (14.19 + 50.00) + 24 %


def test_run_now_needs_a_date_it_can_run(operator: tuple[TestClient, str]) -> None:
    client, _ = operator
    future = client.get("/billing-runs/preview", params={"as_of": "2027-02-01"})
    assert future.status_code == 422
    assert "is after today" in future.text
    assert "Confirm the run" not in future.text
    nonsense = client.get("/billing-runs/preview", params={"as_of": "soon"})
    assert nonsense.status_code == 422
    assert "Enter a date (YYYY-MM-DD)." in nonsense.text
