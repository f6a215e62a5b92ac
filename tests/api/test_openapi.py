"""The OpenAPI document as a product: every operation named, summarised, described, its
errors and headers documented; money as patterned strings; the non-empty rules the
services enforce; servers, public health routes and described tags.

An operation added later without these fails here."""

import ast
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from recur.api.errors import ERROR_CODES, STATUS_OF
from recur.app import create_app
from recur.settings import Settings
from tests.api.conftest import START
from tests.api.factories import account_body, created, option_id, subscription

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
METHODS = {"get", "post", "put", "patch", "delete"}
WRITES = METHODS - {"get"}

# The operationIds clients are generated with today: renaming one breaks them.
STABLE_IDS = {
    "healthz", "readyz",
    "create_product", "list_products", "get_product",
    "create_account", "list_accounts", "get_account", "update_account",
    "list_account_pending_invoices", "generate_account_invoices",
    "create_subscription", "list_subscriptions", "get_subscription", "cancel_subscription",
    "preview_cancellation", "list_subscription_pending_invoices",
    "generate_subscription_invoices",
    "create_change", "list_changes", "withdraw_change", "preview_change",
    "list_invoices", "get_invoice", "get_invoice_pdf", "pay_invoice",
    "start_billing_run", "list_billing_runs", "get_billing_run",
    "ingest_usage", "list_usage",
    "record_payment", "list_payments", "undo_payment", "apply_credit_note",
    "refund_credit_note", "void_invoice", "get_account_balance", "get_aging_report",
    "send_invoice", "list_invoice_deliveries",
    "get_mail_settings", "update_mail_settings",
    "get_seller", "update_seller", "get_test_clock", "set_test_clock",
}  # fmt: skip

# Amounts of money, in requests and responses (the AgingRowOut buckets by alias).
MONEY = {
    "amount", "unit_price", "setup_fee", "tax_rate", "subtotal", "tax", "total",
    "proration", "amount_paid", "amount_due", "amount_remaining", "unallocated",
    "invoiced_due", "credits", "balance", "current", "1_30", "31_60", "61_90", "over_90",
}  # fmt: skip


@pytest.fixture(scope="module")
def full_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app with every route, the test clock's included (no database is opened)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'none.sqlite3'}"
    return create_app(Settings(database_url=url, test_clock=True, today=START, scheduler="off"))


@pytest.fixture(scope="module")
def document(full_app: FastAPI) -> dict[str, Any]:
    return full_app.openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_has_a_summary_a_description_and_a_stable_operation_id(
    full_app: FastAPI, document: dict[str, Any]
) -> None:
    ids = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert operation.get("summary", "").strip(), f"{where}: no summary"
        assert operation.get("description", "").strip(), f"{where}: no description"
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", operation["operationId"]), where
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(ids) >= STABLE_IDS, sorted(STABLE_IDS - set(ids))
    # Set on the decorator, not derived from the path: FastAPI's default id changes when
    # a route moves.
    implicit = [
        route.path
        for route in full_app.routes
        if isinstance(route, APIRoute) and route.include_in_schema and not route.operation_id
    ]
    assert implicit == []


def test_every_api_operation_documents_its_errors_and_their_codes(
    document: dict[str, Any],
) -> None:
    for path, method, operation in operations(document):
        if not path.startswith(API):
            continue
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        errors = {int(s) for s in responses if s.startswith(("4", "5"))}
        needed = {401, 422, 500} | ({404} if "_id}" in path else set())
        if "requestBody" in operation:
            needed.add(413)  # any body may be over the size limit
        if method in WRITES:
            needed.add(403)
        assert needed <= errors, (where, sorted(errors))
        for status in errors:
            response = responses[str(status)]
            schema = response["content"]["application/json"]["schema"]
            assert schema["$ref"] == "#/components/schemas/ErrorResponse", (where, status)
            for code in ERROR_CODES[status]:
                assert f"`{code}`" in response["description"], (where, status, code)
        challenge = responses["401"]["headers"]["WWW-Authenticate"]
        assert challenge["schema"]["type"] == "string", where


def _raised_codes() -> dict[str, set[int]]:
    """Every literal code raised by a module the API's routes import (directly or not),
    with its status; an f-string code `invalid_{field}` reads `invalid_<field>`."""
    modules = {
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (SRC / "recur").rglob("*.py")
    }
    statuses = {kind.__name__: status for kind, status in STATUS_OF.items()}
    seen: set[str] = set()
    todo = [m for m in modules if m.startswith("recur.api")]
    codes: dict[str, set[int]] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse(modules[name].read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names]
                todo = [m for m in todo if m in modules]
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in statuses and node.args:
                status, code = statuses[node.func.id], node.args[0]
            elif node.func.id == "ApiError":
                status, code = ast.literal_eval(node.args[0]), node.args[1]
            else:
                continue
            if isinstance(code, ast.JoinedStr):
                text = "".join(
                    part.value if isinstance(part, ast.Constant) else "<field>"
                    for part in code.values
                )
            elif isinstance(code, ast.Constant):
                text = code.value
            else:
                continue  # a name: its value is raised elsewhere as a literal too
            codes.setdefault(text, set()).add(status)
    return codes


def test_every_code_the_api_can_answer_is_documented_under_its_status() -> None:
    raised = _raised_codes()
    assert {"account_not_found", "forbidden", "invalid_<field>"} <= raised.keys()

    def listed(code: str, status: int) -> bool:
        # `invalid_<field>` covers invalid_allocations as well as invalid_<field> itself.
        return any(
            re.fullmatch(re.escape(known).replace("<field>", r"\w+"), code.replace("<field>", "x"))
            for known in ERROR_CODES[status]
        )

    missing = sorted(
        (status, code)
        for code, statuses in raised.items()
        for status in statuses
        if not listed(code, status)
    )
    assert missing == []


def test_replays_files_and_their_headers_are_documented(document: dict[str, Any]) -> None:
    replayable = 0
    for path, _method, operation in operations(document):
        names = {p["name"] for p in operation.get("parameters", [])}
        if "Idempotency-Key" not in names:
            continue
        replayable += 1
        for status, response in operation["responses"].items():
            # The token (401, 403) and the body size (413) are checked before a replay
            # is looked up; a crash (500) is never stored as an answer.
            if status not in ("401", "403", "413", "500"):
                assert "Idempotent-Replayed" in response.get("headers", {}), (path, status)
    assert replayable >= 10

    pdf = document["paths"][f"{API}/invoices/{{invoice_id}}/pdf"]["get"]["responses"]["200"]
    assert pdf["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert "Content-Disposition" in pdf["headers"]
    aging = document["paths"][f"{API}/reports/aging"]["get"]["responses"]["200"]
    assert {"application/json", "text/csv"} <= aging["content"].keys()
    assert "Content-Disposition" in aging["headers"]


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        for variant in prop.get("anyOf", [prop]):
            yield name, variant


def test_money_is_a_patterned_string_and_no_body_holds_a_json_number(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    money = 0
    for schema_name, schema in schemas.items():
        for name, variant in _properties(schema):
            where = f"{schema_name}.{name}"
            # Usage quantities (not money) still take a JSON number, as documented.
            if where != "UsageRecordIn.quantity":
                assert variant.get("type") != "number", where
            if schema_name.startswith("ListOut"):
                continue  # its `total` counts items
            if name in MONEY and variant.get("type") != "null" and "$ref" not in variant:
                money += 1
                assert variant["type"] == "string", where
                assert re.fullmatch(variant["pattern"], "125.00"), where
                assert not re.fullmatch(variant["pattern"], "12,50"), where
    assert money > 30


def test_a_json_number_for_money_is_refused_with_a_clear_422(client: TestClient) -> None:
    account = created(client, "/accounts", account_body())
    body = {
        "account_id": account["id"],
        "amount": 12.5,
        "currency": "EUR",
        "received_on": "2027-01-11",
        "method": "bank_transfer",
    }
    refused = client.post(f"{API}/payments", json=body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_request"
    assert 'amount must be a JSON string such as "12.50"' in refused.json()["error"]["message"]


# (path, method, body without the value, property, its schema, the empty value)
EMPTY = [
    ("/accounts/{account}/invoices/generate", "post", {}, "subscription_ids", "GenerateIn", []),
    ("/subscriptions/{subscription}/changes", "post", {"quantity": 2}, "effective", "ChangeIn", ""),
    ("/seller", "put", {}, "legal_name", "SellerIn", ""),
]


@pytest.mark.parametrize(("path", "method", "body", "field", "schema", "empty"), EMPTY)
def test_the_minimums_the_schema_states_are_the_servers(
    client: TestClient,
    document: dict[str, Any],
    path: str,
    method: str,
    body: dict[str, Any],
    field: str,
    schema: str,
    empty: Any,
) -> None:
    declared = document["components"]["schemas"][schema]["properties"][field]
    assert declared["minItems" if isinstance(empty, list) else "minLength"] == 1
    account = created(client, "/accounts", account_body())
    sub = subscription(client, account["id"], option_id(client), "2027-01-11")
    url = API + path.format(account=account["id"], subscription=sub["id"])
    refused = client.request(method, url, json={**body, field: empty})
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["error"]["message"] or refused.json()["error"]["code"] in {
        "empty_selection",
        f"missing_{field}",
        f"invalid_{field}",
    }


def test_the_documented_minimums_of_other_inputs(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for field in ("host", "security", "sender"):
        assert schemas["MailSettingsIn"]["properties"][field]["minLength"] == 1, field
    for field in ("id", "meter"):
        assert schemas["UsageRecordIn"]["properties"][field]["minLength"] == 1, field
    assert schemas["UsageBatchIn"]["properties"]["records"]["minItems"] == 1
    assert schemas["ProductIn"]["properties"]["pricing_options"]["minItems"] == 1
    cc = schemas["AccountIn"]["properties"]["cc_emails"]["items"]
    assert cc["minLength"] == 1
    key = next(
        p
        for p in document["paths"][f"{API}/payments"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert key["schema"]["minLength"] == 1


def test_servers_public_health_routes_and_described_tags(document: dict[str, Any]) -> None:
    assert document["servers"]
    assert all(s["url"] for s in document["servers"])
    for path in ("/healthz", "/readyz"):
        assert document["paths"][path]["get"]["security"] == []
    for path, _method, operation in operations(document):
        if path.startswith(API):
            assert operation["security"] == [{"HTTPBearer": []}], path
    described = {t["name"] for t in document["tags"] if t.get("description", "").strip()}
    used = {tag for _p, _m, operation in operations(document) for tag in operation["tags"]}
    assert used <= described, sorted(used - described)


def test_the_document_passes_redocly_lint_with_the_recommended_rules(
    document: dict[str, Any], tmp_path: Path
) -> None:
    """`make node-deps` installs the pinned @redocly/cli of package-lock.json."""
    redocly = ROOT / "node_modules" / ".bin" / "redocly"
    assert redocly.exists(), "run `make node-deps` (npm ci) first"
    dumped = tmp_path / "openapi.json"
    dumped.write_text(json.dumps(document))
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        [str(redocly), "lint", str(dumped), "--config", str(ROOT / "redocly.yaml"),
         "--format", "json"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    report = json.loads(result.stdout)
    # Warnings count too: a document that only warns is not clean.
    assert report["problems"] == [], json.dumps(report["problems"], indent=1)[:3000]
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_aging_csv_is_named_as_documented(client: TestClient) -> None:
    answer = client.get(f"{API}/reports/aging", params={"format": "csv", "as_of": "2027-01-11"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="aging-2027-01-11.csv"'
