"""The back office's payments: record, refuse, undo, void; balance and aging (SPEC §18)."""

from fastapi.testclient import TestClient

from tests.web.acme import Acme


def test_record_refuse_undo_and_void_on_the_invoice_page(
    operator: tuple[TestClient, str], acme: Acme
) -> None:
    client, token = operator
    page = client.get("/invoices/1").text
    assert 'id="record-payment"' in page
    assert 'id="amount-due">€155.00' in page

    def pay(amount: str, received_on: str = "2027-01-15") -> object:
        form = {"csrf_token": token, "amount": amount, "received_on": received_on}
        return client.post("/invoices/1/payments", data=form | {"method": "card"})

    for amount, received_on, status, message in [
        ("12,50", "2027-01-15", 422, "must use a point for decimals"),
        ("155.01", "2027-01-15", 409, "exceeds the 155.00 due"),
        ("10.00", "2027-01-16", 422, "must not be after today"),
    ]:
        refused = pay(amount, received_on)
        assert refused.status_code == status  # type: ignore[attr-defined]
        assert message in refused.text  # type: ignore[attr-defined]
    assert "Nothing yet." in client.get("/invoices/1").text

    assert pay("55.00").status_code == 303  # type: ignore[attr-defined]
    page = client.get("/invoices/1").text
    assert "A payment of 55.00 EUR is recorded" in page
    assert "Partially paid" in page
    assert "Undo payment" in page
    overview = client.get(f"/accounts/{acme.account_id}").text
    # Open 100.00 of 155.00, no credit: the balance table's row.
    assert '<td class="num opt">€100.00</td><td class="num opt">€0.00</td>' in overview

    undone = client.post("/payments/1/undo", data={"csrf_token": token, "invoice_id": "1"})
    assert undone.status_code == 303
    page = client.get("/invoices/1").text
    assert "Payment #1 is undone." in page
    assert "Nothing yet." in page

    assert client.post("/invoices/1/void", data={"csrf_token": token}).status_code == 303
    page = client.get("/invoices/1").text
    assert "is void: credit note CN-2027-000001 cancels it" in page


def test_aging_page_overdue_badge_and_csv(operator: tuple[TestClient, str], acme: Acme) -> None:
    client, _ = operator
    page = client.get("/reports/aging?as_of=2027-03-01").text
    assert "Aging as of" in page
    assert 'id="aging-overall"' in page
    assert "155.00" in page
    csv = client.get("/reports/aging?as_of=2027-03-01&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("as_of,account_id,account,currency,current")
    # Due 2027-02-10: 19 days past due on 1 March.
    assert lines[-1] == "2027-03-01,,,EUR,0.00,155.00,0.00,0.00,0.00,155.00"
