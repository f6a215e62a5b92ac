"""Every API error, mapped once to `{"error": {"code", "message"}}` and its HTTP status."""

import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from recur.api.schemas import ErrorResponse
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound

API_PREFIX = "/api/"

STATUS_OF: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, InvalidInput: 422}

_DESCRIPTIONS = {
    401: "No valid bearer token",
    403: "The token's role does not allow this",
    404: "Not found",
    409: "The current state refuses the request",
    422: "The request is invalid",
    413: "The request body is larger than the server takes (RECUR_MAX_BODY_BYTES)",
    500: "An unexpected error, logged on the server",
}

# The `code`s each status can carry, for integrators (tests/api/test_openapi.py checks
# that every code the API's services raise is listed under its status). `<field>` stands
# for the name of a request field.
ERROR_CODES: dict[int, tuple[str, ...]] = {
    401: ("unauthorized", "invalid_token"),
    413: ("body_too_large",),
    500: ("internal_error",),
    403: ("forbidden",),
    404: (
        "account_not_found",
        "api_token_not_found",
        "billing_run_not_found",
        "change_not_found",
        "credit_application_not_found",
        "invoice_not_found",
        "payment_not_found",
        "pricing_option_not_found",
        "product_not_found",
        "refund_not_found",
        "subscription_not_found",
        "forecast_job_not_found",
    ),
    409: (
        "account_closed",
        "already_cancelled",
        "already_ended",
        "ambiguous_account",
        "billing_schedule_locked",
        "change_in_effect",
        "currency_locked",
        "currency_mismatch",
        "idempotency_key_in_progress",
        "invoice_not_open",
        "invoice_not_unpaid",
        "invoice_of_another_account",
        "invoice_partly_paid",
        "invoice_void",
        "not_a_credit_note",
        "not_an_invoice",
        "nothing_pending",
        "over_allocated",
        "payment_undone",
        "pricing_option_in_use",
        "pricing_option_inactive",
        "sku_taken",
        "subscription_ended",
        "usage_id_taken",
        "forecast_not_ready",
    ),
    422: (
        "invalid_request",
        "invalid_<field>",
        "missing_<field>",
        "incomplete_<field>",
        "amount_too_large",
        "as_of_in_future",
        "as_of_too_far",
        "currency_mismatch",
        "duplicate_meter_code",
        "duplicate_pricing_code",
        "empty_selection",
        "future_usage",
        "idempotency_key_reused",
        "incompatible_pricing_option",
        "meters_without_usage",
        "nothing_to_change",
        "null_field",
        "subscription_of_another_account",
        "unchangeable_subscription",
        "unknown_currency",
        "unknown_field",
        "unknown_meter",
        "usage_out_of_service",
        "months_out_of_range",
    ),
}

_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer`: the scheme the API expects",
        "schema": {"type": "string", "examples": ["Bearer"]},
    }
}


class ApiError(Exception):
    """An HTTP-level refusal (authentication, authorisation) in the same shape as domain errors."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(error: DomainError) -> JSONResponse:
    status = next((s for kind, s in STATUS_OF.items() if isinstance(error, kind)), 400)
    return error_response(status, error.code, error.message)


def validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for error in list(errors)[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}" if location else error["msg"])
    more = len(errors) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def described(status: int) -> str:
    """An error status's description: what it means and the codes it carries."""
    codes = ", ".join(f"`{code}`" for code in ERROR_CODES[status])
    return f"{_DESCRIPTIONS[status]}. `error.code` is one of: {codes}"


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer (401 and 422 always):
    recur's error body, the codes each status carries, and the 401's challenge header."""
    return {status: _error_response(status) for status in sorted({401, 422, *statuses})}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorResponse, "description": described(status)}
    if status == 401:
        response["headers"] = _WWW_AUTHENTICATE
    return response


class ApiRoute(APIRoute):
    """A route whose domain, validation and auth errors answer in the API's error shape.

    Scoped to the API's routes, so the back office keeps its own error pages.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Imported here: deps.py raises this module's ApiError.
        from recur.api.deps import refuse_strangers

        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                try:
                    return await handler(request)
                except RequestValidationError as error:
                    await refuse_strangers(request)  # who asks comes before what is sent
                    message = validation_message(error.errors())
                    return error_response(422, "invalid_request", message)
                except StarletteHTTPException as error:
                    if error.status_code != 400:
                        raise
                    # FastAPI's "There was an error parsing the body" (say, not UTF-8)
                    await refuse_strangers(request)
                    return error_response(422, "invalid_request", str(error.detail))
            except DomainError as error:
                return domain_error_response(error)
            except ApiError as error:
                return error_response(error.status, error.code, error.message, error.headers)

        return handle


def install_http_errors(app: FastAPI) -> None:
    """Unmatched API paths and methods (404, 405) and crashes answer in the API's shape too.

    Installed after the back office, whose handler (if any) keeps the other paths.
    """
    previous = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                error = StarletteHTTPException(405, error.detail, {"Allow": allowed})
        if request.url.path.startswith(API_PREFIX):
            code = code_for(error.status_code)
            headers = dict(error.headers) if error.headers else None
            return error_response(error.status_code, code, str(error.detail), headers)
        answer = previous(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    async def on_crash(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith(API_PREFIX):
            return PlainTextResponse("Internal Server Error", status_code=500)
        message = "an unexpected error occurred; it has been logged"
        return error_response(500, "internal_error", message)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    if Exception not in app.exception_handlers:
        app.add_exception_handler(Exception, on_crash)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at the request's path. Starlette's 405 names only
    those of the first route it tried (GET /accounts/{id}, not the PATCH route), so ask
    the routes again for each method (mounts aside: they take any method)."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    path = {
        "type": "http",
        "path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
    }
    return ", ".join(
        method
        for method in _METHODS
        if any(route.matches({**path, "method": method})[0] is Match.FULL for route in routes)
    )


def code_for(status: int) -> str:
    """The error code of an HTTP-level refusal."""
    codes = {
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
    }
    return codes.get(status, f"http_{status}")
