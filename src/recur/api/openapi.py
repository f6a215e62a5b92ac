"""What /openapi.json says beyond the routes' own decorators: the tags, the servers,
the file responses, and the `Idempotent-Replayed` header of every idempotent write.

tests/api/test_openapi.py holds every operation to it; `redocly lint` (make test) too.
"""

from typing import Any

from fastapi import FastAPI

from recur.api.errors import API_PREFIX, described
from recur.api.idempotency import REPLAYED_HEADER

# Every tag an operation uses, with what it groups (redocly's tag-description rule).
TAGS: list[dict[str, str]] = [
    {"name": "products", "description": "The catalogue: products and their pricing options"},
    {"name": "accounts", "description": "Customers, their pending invoices, manual generation"},
    {"name": "subscriptions", "description": "Ordering, cancelling, pending invoices, generation"},
    {"name": "changes", "description": "Quantity changes and plan switches, with previews"},
    {"name": "invoices", "description": "Issued invoices and credit notes, and their PDF"},
    {"name": "billing runs", "description": "The Billing Service: run it now, and its record"},
    {"name": "usage", "description": "Usage records, in batches, and a subscription's records"},
    {"name": "payments", "description": "Payments, credit notes applied or refunded, receivables"},
    {"name": "delivery", "description": "Documents sent by e-mail, and the SMTP settings"},
    {"name": "seller", "description": "The seller's identity printed on every document"},
    {"name": "metrics", "description": "The business in figures, and the engine's forecast"},
    {"name": "audit", "description": "Who changed what, when, and through which door"},
    {"name": "test clock", "description": "Move today (only with RECUR_TEST_CLOCK=1)"},
    {"name": "health", "description": "Liveness and readiness, without a token"},
    {"name": "search", "description": "Accounts, invoices and subscriptions found by text"},
]

# The server that serves the document: a relative URL, right behind any host or proxy.
SERVERS: list[dict[str, str]] = [{"url": "/", "description": "This Recur server"}]

# No token needed (OpenAPI's `security: []` overrides any global requirement).
PUBLIC: dict[str, Any] = {"security": []}


def file_response(
    media_type: str, description: str, example: str, binary: bool = True
) -> dict[str, Any]:
    """A 200 that is a file: its bytes (`format: binary`, which generated clients read as
    bytes) or its text, and the `Content-Disposition` that names it."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {
        "description": description,
        "content": {media_type: {"schema": schema}},
        "headers": {
            "Content-Disposition": {
                "description": "The file's name",
                "schema": {"type": "string", "examples": [example]},
            }
        },
    }


def install_openapi(app: FastAPI) -> None:
    """Complete the generated document once, when first asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _document_replays(document)
            _document_any_request(document)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_replays(document: dict[str, Any]) -> None:
    """Every operation that takes an `Idempotency-Key` may answer a retry with its first
    answer, marked by `Idempotent-Replayed: true` (api/idempotency.py): a success or a
    refusal of the services, not one of the token (401, 403), which comes first."""
    header = {
        "description": "`true`: a retry with the same `Idempotency-Key`, answered with "
        "the first answer (same status and body)",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for path in document["paths"].values():
        for operation in path.values():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "Idempotency-Key" not in names:
                continue
            for status, response in operation["responses"].items():
                if status not in ("401", "403"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = header


def _document_any_request(document: dict[str, Any]) -> None:
    """What any API request may answer, whatever its operation: a body over the size
    limit (413, before the route is reached) and an unexpected error (500)."""

    def error(status: int) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/ErrorResponse"}
        return {
            "description": described(status),
            "content": {"application/json": {"schema": schema}},
        }

    for path, item in document["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for operation in item.values():
            responses = operation["responses"]
            if "requestBody" in operation:
                responses.setdefault("413", error(413))
            responses.setdefault("500", error(500))
