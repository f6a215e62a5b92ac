"""SPEC §14 through the API with the test clock: changes, their previews, adjustments and
credit notes to the cent; the refusals of §10, each changing nothing; withdrawals."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.factories import account_body, created, product_body, set_today

API = "/api/v1"

Item = tuple[str, str, str, int, str, str, str, int | None]


def items(document: dict[str, Any]) -> list[Item]:
    return [
        (
            i["kind"],
            i["period_start"],
            i["period_end"],
            i["quantity"],
            i["unit_price"],
            i["proration"],
            i["amount"],
            i["corrects_invoice_id"],
        )
        for i in document["items"]
    ]


def header(document: dict[str, Any]) -> tuple[str, ...]:
    return (
        document["type"],
        document["issue_date"],
        document["due_date"],
        document["subtotal"],
        document["tax"],
        document["total"],
    )


def by_type(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents of one issue date in a fixed order: credit notes first."""
    return sorted(documents, key=lambda d: (d["issue_date"], d["type"] != "credit"))


class Beta:
    """SPEC §14's account, catalogue and S1, and shortcuts to its subscription's routes."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        set_today(client, "2027-03-01")
        e3 = created(client, "/products", product_body("M365-E3", "30.00"))
        e5 = created(client, "/products", product_body("M365-E5", "50.00"))
        self.e3 = int(e3["pricing_options"][0]["id"])
        self.e5 = int(e5["pricing_options"][0]["id"])
        body = account_body("Beta GmbH", billing_day=1, tax_rate="20", payment_terms_days=14)
        self.account = int(created(client, "/accounts", body)["id"])
        sub = {
            "account_id": self.account,
            "pricing_option_id": self.e3,
            "quantity": 10,
            "start_date": "2027-03-01",
        }
        self.s1 = int(created(client, "/subscriptions", sub)["id"])
        self.path = f"{API}/subscriptions/{self.s1}"

    def pending(self) -> list[dict[str, Any]]:
        answer = self.client.get(f"{self.path}/pending-invoices")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["data"])

    def preview(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.client.post(f"{self.path}/changes/preview", json=body)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["data"])

    def change(self, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        answer = self.client.post(f"{self.path}/changes", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def changes(self) -> list[dict[str, Any]]:
        answer = self.client.get(f"{self.path}/changes").json()
        assert answer["total"] == len(answer["data"])
        assert answer["next_cursor"] is None
        return list(answer["data"])

    def run(self, day: str) -> list[dict[str, Any]]:
        """The billing run as of `day` (today), and the documents it issued."""
        set_today(self.client, day)
        before = {i["id"] for i in self.invoices()}
        run = created(self.client, "/billing-runs", {"as_of": day})
        issued = [i for i in self.invoices() if i["id"] not in before]
        assert run["invoices_issued"] == len(issued)
        return sorted(issued, key=lambda i: i["number"])

    def invoices(self, **filters: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"{API}/invoices", params={"account_id": self.account, **filters})
        return list(answer.json()["data"])

    def state(self) -> tuple[Any, ...]:
        """What a refusal must leave unchanged."""
        return (self.changes(), self.pending(), self.client.get(self.path).json(), self.invoices())


def test_spec_14_through_the_api(client: TestClient) -> None:
    beta = Beta(client)

    [inv1] = beta.run("2027-03-01")
    assert (inv1["number"], *header(inv1)) == (
        "INV-2027-000001",
        "invoice",
        "2027-03-01",
        "2027-03-15",
        "300.00",
        "60.00",
        "360.00",
    )
    assert items(inv1) == [
        ("recurring", "2027-03-01", "2027-03-31", 10, "30.00", "1.000000", "300.00", None)
    ]

    # 2027-03-11: quantity 15, now; the preview first, then the change, idempotently
    set_today(client, "2027-03-11")
    preview = beta.preview({"quantity": 15, "effective": "now"})
    assert beta.changes() == []  # a preview stores nothing
    assert [header(d) for d in preview] == [
        ("invoice", "2027-03-11", "2027-03-25", "101.61", "20.32", "121.93"),
        ("invoice", "2027-04-01", "2027-04-15", "450.00", "90.00", "540.00"),
    ]
    assert items(preview[0]) == [
        ("adjustment", "2027-03-11", "2027-03-31", 5, "30.00", "0.677419", "101.61", inv1["id"])
    ]
    [adjustment] = preview[0]["items"]
    assert "21/31" in adjustment["explanation"]
    assert items(preview[1]) == [
        ("recurring", "2027-04-01", "2027-04-30", 15, "30.00", "1.000000", "450.00", None)
    ]
    assert preview[1]["items"][0]["explanation"]

    first = beta.change({"quantity": 15, "effective": "now"}, **{"Idempotency-Key": "seats-15"})
    assert {k: first[k] for k in ("subscription_id", "effective_date", "quantity")} == {
        "subscription_id": beta.s1,
        "effective_date": "2027-03-11",
        "quantity": 15,
    }
    assert first["pricing_option_id"] is None
    assert first["created_at"]
    retry = beta.change({"quantity": 15, "effective": "now"}, **{"Idempotency-Key": "seats-15"})
    assert retry == first
    assert [c["id"] for c in beta.changes()] == [first["id"]]
    assert beta.pending() == preview  # the preview is what the change made pending
    shown = client.get(beta.path).json()
    assert (shown["quantity"], shown["pricing_option_id"]) == (15, beta.e3)

    [inv2] = beta.run("2027-03-11")
    assert (inv2["number"], *header(inv2)) == ("INV-2027-000002", *header(preview[0]))
    assert items(inv2) == items(preview[0])

    # 2027-03-20: switch to E5, now: a credit note for E3 and an invoice for E5
    set_today(client, "2027-03-20")
    preview = by_type(beta.preview({"pricing_option_id": beta.e5, "effective": "now"}))
    assert [header(d) for d in preview] == [
        ("credit", "2027-03-20", "2027-03-20", "-174.19", "-34.84", "-209.03"),
        ("invoice", "2027-03-20", "2027-04-03", "290.32", "58.06", "348.38"),
        ("invoice", "2027-04-01", "2027-04-15", "750.00", "150.00", "900.00"),
    ]
    assert items(preview[0]) == [
        ("adjustment", "2027-03-20", "2027-03-31", -15, "30.00", "0.387097", "-174.19", inv1["id"])
    ]
    assert items(preview[1]) == [
        ("adjustment", "2027-03-20", "2027-03-31", 15, "50.00", "0.387097", "290.32", inv1["id"])
    ]
    switch = beta.change({"pricing_option_id": beta.e5, "effective": "now"})
    assert (switch["quantity"], switch["pricing_option_id"]) == (None, beta.e5)
    assert by_type(beta.pending()) == preview
    shown = client.get(beta.path).json()
    assert (shown["quantity"], shown["pricing_option_id"]) == (15, beta.e5)
    # lists and the account's preview show the same, read in one go
    [listed] = client.get(f"{API}/subscriptions", params={"account_id": beta.account}).json()[
        "data"
    ]
    behind = client.get(f"{API}/accounts/{beta.account}/pending-invoices").json()
    assert listed == shown
    assert behind["subscriptions"] == [shown]

    cn1, inv3 = beta.run("2027-03-20")
    assert (cn1["number"], *header(cn1)) == ("CN-2027-000001", *header(preview[0]))
    assert items(cn1) == items(preview[0])
    assert (inv3["number"], *header(inv3)) == ("INV-2027-000003", *header(preview[1]))
    assert items(inv3) == items(preview[1])

    # 2027-03-25: a scheduled change can be withdrawn; quantity 12 from 2027-04-10
    set_today(client, "2027-03-25")
    before = beta.pending()
    later = beta.change({"quantity": 20, "effective": "end_of_period"})
    assert (later["effective_date"], later["withdrawable"]) == ("2027-04-01", True)
    assert beta.pending() != before
    withdrawn = client.delete(f"{beta.path}/changes/{later['id']}")
    assert (withdrawn.status_code, withdrawn.content) == (204, b"")
    assert beta.pending() == before
    assert [c["id"] for c in beta.changes()] == [first["id"], switch["id"]]
    in_effect = client.delete(f"{beta.path}/changes/{switch['id']}")
    assert in_effect.status_code == 409
    assert in_effect.json()["error"]["code"] == "change_in_effect"

    preview = beta.preview({"quantity": 12, "effective": "2027-04-10"})
    assert [header(d) for d in preview] == [
        ("invoice", "2027-04-01", "2027-04-15", "645.00", "129.00", "774.00"),
    ]
    assert items(preview[0]) == [
        ("recurring", "2027-04-01", "2027-04-09", 15, "50.00", "0.300000", "225.00", None),
        ("recurring", "2027-04-10", "2027-04-30", 12, "50.00", "0.700000", "420.00", None),
    ]
    fewer = beta.change({"quantity": 12, "effective": "2027-04-10"})
    assert beta.pending() == preview
    listed = beta.changes()
    assert [(c["id"], c["effective_date"], c["withdrawable"]) for c in listed] == [
        (first["id"], "2027-03-11", False),
        (switch["id"], "2027-03-20", False),
        (fewer["id"], "2027-04-10", True),
    ]

    [inv4] = beta.run("2027-04-01")
    assert (inv4["number"], *header(inv4)) == ("INV-2027-000004", *header(preview[0]))
    assert items(inv4) == items(preview[0])

    # 2027-04-16: cancel now, previewed first: the unused days are credited
    set_today(client, "2027-04-16")
    shown = client.get(beta.path).json()
    assert (shown["quantity"], shown["pricing_option_id"]) == (12, beta.e5)
    answer = client.post(f"{beta.path}/cancel/preview", json={"at": "now"})
    assert answer.status_code == 200, answer.text
    preview = answer.json()["data"]
    assert [header(d) for d in preview] == [
        ("credit", "2027-04-16", "2027-04-16", "-300.00", "-60.00", "-360.00"),
    ]
    assert items(preview[0]) == [
        ("adjustment", "2027-04-16", "2027-04-30", -12, "50.00", "0.500000", "-300.00", inv4["id"])
    ]
    assert client.get(beta.path).json()["end_date"] is None  # a preview stores nothing
    cancelled = client.post(f"{beta.path}/cancel", json={"at": "now"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["end_date"] == "2027-04-16"
    assert beta.pending() == preview

    [cn2] = beta.run("2027-04-16")
    assert (cn2["number"], *header(cn2)) == ("CN-2027-000002", *header(preview[0]))
    assert items(cn2) == items(preview[0])
    assert beta.pending() == []

    # credit notes are listed with invoices, newest first, and can be filtered
    assert [i["number"] for i in beta.invoices(type="credit")] == [
        "CN-2027-000002",
        "CN-2027-000001",
    ]
    assert [i["number"] for i in beta.invoices(type="invoice")] == [
        "INV-2027-000004",
        "INV-2027-000003",
        "INV-2027-000002",
        "INV-2027-000001",
    ]
    assert len(beta.invoices()) == 6
    assert client.get(f"{API}/invoices/{cn1['id']}").json() == cn1

    # a change to an ended subscription is refused, and changes nothing
    state = beta.state()
    ended = client.post(f"{beta.path}/changes", json={"quantity": 3, "effective": "now"})
    assert (ended.status_code, ended.json()["error"]["code"]) == (409, "subscription_ended")
    assert beta.state() == state


def test_refusals_change_nothing(client: TestClient) -> None:
    beta = Beta(client)
    beta.run("2027-03-01")
    set_today(client, "2027-03-25")
    annual = created(
        client, "/products", product_body("M365-E5-Y", "500.00", billing_period="annual")
    )["pricing_options"][0]["id"]
    usd = created(client, "/products", product_body("M365-E5-US", "55.00", currency="USD"))[
        "pricing_options"
    ][0]["id"]
    once = created(client, "/products", product_body("SETUP", "99.00", billing_period="one_time"))[
        "pricing_options"
    ][0]["id"]
    one_time = created(
        client,
        "/subscriptions",
        {
            "account_id": beta.account,
            "pricing_option_id": once,
            "quantity": 1,
            "start_date": "2027-03-25",
        },
    )
    scheduled = beta.change({"quantity": 12, "effective": "2027-04-10"})
    state = beta.state()

    for path, body, status, code in (
        (beta.path, {"quantity": 5, "effective": "2027-03-24"}, 422, "invalid_effective"),
        (beta.path, {"quantity": 5, "effective": "next tuesday"}, 422, "invalid_effective"),
        (beta.path, {"quantity": 5, "effective": "2027-02-30"}, 422, "invalid_effective"),
        (beta.path, {"effective": "now"}, 422, "nothing_to_change"),
        (beta.path, {"quantity": 0}, 422, "invalid_request"),
        (beta.path, {"quantity": "5"}, 422, "invalid_request"),
        (beta.path, {"pricing_option_id": annual}, 422, "incompatible_pricing_option"),
        (beta.path, {"pricing_option_id": usd}, 422, "incompatible_pricing_option"),
        (beta.path, {"pricing_option_id": 999_999}, 404, "pricing_option_not_found"),
        (f"{API}/subscriptions/999999", {"quantity": 5}, 404, "subscription_not_found"),
        (
            f"{API}/subscriptions/{one_time['id']}",
            {"quantity": 2},
            422,
            "unchangeable_subscription",
        ),
    ):
        for route in ("changes", "changes/preview"):
            answer = client.post(f"{path}/{route}", json=body)
            assert answer.status_code == status, (route, body, answer.text)
            assert answer.json()["error"]["code"] == code, (route, body)
            assert answer.json()["error"]["message"]
    assert beta.state() == state

    for change_id, status, code in ((999_999, 404, "change_not_found"),):
        answer = client.delete(f"{beta.path}/changes/{change_id}")
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert beta.state() == state

    # a key reused with another body is refused; the scheduled change stays
    key = {"Idempotency-Key": "k-1"}
    assert client.post(f"{beta.path}/changes", json={"quantity": 4}, headers=key).status_code == 201
    other = client.post(f"{beta.path}/changes", json={"quantity": 7}, headers=key)
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert [c["id"] for c in beta.changes()][-1] == scheduled["id"]
    assert len(beta.changes()) == 2


def test_withdrawal_honours_an_idempotency_key(client: TestClient) -> None:
    beta = Beta(client)
    scheduled = beta.change({"quantity": 12, "effective": "2027-04-10"})
    path = f"{beta.path}/changes/{scheduled['id']}"
    key = {"Idempotency-Key": "withdraw-1"}
    first = client.delete(path, headers=key)
    retry = client.delete(path, headers=key)
    assert (first.status_code, retry.status_code) == (204, 204)
    assert (first.content, retry.content) == (b"", b"")
    assert retry.headers["idempotent-replayed"] == "true"
    gone = client.delete(path)  # without the key: a new request, for a change that is gone
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "change_not_found")
    assert beta.changes() == []


def test_anniversary_billing_on_pricing_options(client: TestClient) -> None:
    plain = created(client, "/products", product_body("PLAIN"))["pricing_options"][0]
    assert plain["anniversary_billing"] is False
    excluded = created(client, "/products", product_body("EXCL", anniversary_billing=True))
    assert excluded["pricing_options"][0]["anniversary_billing"] is True
    assert client.get(f"{API}/products/{excluded['id']}").json() == excluded
    both = client.post(
        f"{API}/products", json=product_body("BOTH", anniversary_billing=True, billing_day=5)
    )
    assert (both.status_code, both.json()["error"]["code"]) == (422, "invalid_anniversary_billing")


def test_openapi_documents_the_new_routes_and_their_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/subscriptions/{subscription_id}/changes", "post"): {"201", "404", "409", "422"},
        ("/api/v1/subscriptions/{subscription_id}/changes", "get"): {"200", "404", "422"},
        ("/api/v1/subscriptions/{subscription_id}/changes/{change_id}", "delete"): {
            "204",
            "404",
            "409",
            "422",
        },
        ("/api/v1/subscriptions/{subscription_id}/changes/preview", "post"): {
            "200",
            "404",
            "409",
            "422",
        },
        ("/api/v1/subscriptions/{subscription_id}/cancel/preview", "post"): {
            "200",
            "404",
            "409",
            "422",
        },
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, sorted(responses))
        for status in statuses - {"200", "201", "204"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorResponse"), (path, method, status)
    parameters = paths["/api/v1/subscriptions/{subscription_id}/changes"]["post"]["parameters"]
    assert "Idempotency-Key" in {p["name"] for p in parameters}
    invoice_filters = {p["name"] for p in paths["/api/v1/invoices"]["get"]["parameters"]}
    assert "type" in invoice_filters
    schemas = spec["components"]["schemas"]
    assert {"corrects_invoice_id", "explanation", "kind"} <= set(schemas["ItemOut"]["properties"])
    assert "type" in schemas["PendingInvoiceOut"]["properties"]
    assert "anniversary_billing" in schemas["PricingOptionIn"]["properties"]
