"""`Idempotency-Key` on any write: a retry gets the first answer, same status and body."""

import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from recur.api import presenters as present
from recur.api.errors import domain_error_response
from recur.api.responses import ModelResponse
from recur.api.schemas import GenerateOut
from recur.context import AppContext
from recur.domain.errors import DomainError
from recur.domain.idempotency import StoredResponse
from recur.domain.users import Principal
from recur.services import idempotency
from recur.services.invoicing import Generated
from recur.services.validation import MAX_KEY_LENGTH

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=MAX_KEY_LENGTH,
        # services.validation refuses an empty key (invalid_idempotency_key)
        json_schema_extra={"minLength": 1},
        description="Retrying with the same key returns the first answer (same status and body)",
    ),
]

REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(body: BaseModel | None) -> str:
    """The request's identity: its body, canonically serialised (key order does not matter)."""
    data = None if body is None else body.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def respond(
    ctx: AppContext,
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel | None,
    status: int,
    produce: Callable[[], BaseModel | None],
) -> Response:
    """Answer with `produce()` (None: no body, as a 204 has); with a key, answer a retry
    with the stored first answer."""
    if key is None:
        return _answer(status, produce)
    scope = f"api:{request.method}:{request.url.path}:{principal.token_id}"
    stored = idempotency.reserve(ctx.db, scope, key, fingerprint(body))
    if stored is not None:
        return _response(stored.body, stored.status, {REPLAYED_HEADER: "true"})
    try:
        response = _answer(status, produce)
    except BaseException:
        idempotency.release(ctx.db, scope, key)
        raise
    content = json.loads(bytes(response.body)) if response.body else None
    idempotency.complete(ctx.db, scope, key, StoredResponse(response.status_code, content))
    return response


def generated(result: Generated, today: date) -> ModelResponse:
    """A manual generation's answer. Its key was kept in the issuing transaction itself
    (services.invoicing), so a retry is answered from there, not by `respond`."""
    invoices = [present.invoice(invoice, today) for invoice in result.invoices]
    return ModelResponse(
        GenerateOut(invoices=invoices),
        201,
        headers={REPLAYED_HEADER: "true"} if result.replayed else None,
    )


def _answer(status: int, produce: Callable[[], BaseModel | None]) -> Response:
    try:
        model = produce()
    except DomainError as error:
        return domain_error_response(error)
    return _response(None if model is None else model.model_dump(mode="json"), status)


def _response(content: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    if content is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(content, status, headers=headers)
