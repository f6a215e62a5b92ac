"""What every HTTP exchange obeys, whichever route answers it.

Every answer carries the security headers below, and a request body larger than
RECUR_MAX_BODY_BYTES is refused with 413 before anything parses it: at once when its
Content-Length says so, else as soon as the bytes streamed in pass the limit.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which runs each request in a
task of its own and streams the answer through a memory channel: a cost the API's
latency-benchmarked routes would pay on every request.
"""

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recur.api.errors import API_PREFIX, code_for, error_response

# No inline script or style anywhere (the back office and /docs load theirs from
# files), no framing by any site; images may be data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors, for browsers that predate it
]


# Where usage records come in bulk (a batch of 10,000, a file of 100,000 rows): their
# bodies have a limit of their own, RECUR_MAX_UPLOAD_BYTES.
UPLOAD_PATHS = frozenset({"/api/v1/usage", "/usage/check"})


def too_large_message(limit: int, setting: str = "RECUR_MAX_BODY_BYTES") -> str:
    return f"the request body is larger than {limit} bytes ({setting})"


class HttpGuards:
    """The security headers on every answer, and the request body's size limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        limit, setting = self._limit(scope)
        if self._declared_length(scope) > limit:
            await self._refusal(scope, limit, setting)(scope, receive, send_guarded)
            return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI and Starlette's form parser let an HTTPException through,
                    # so the app's own handlers answer it (in the API's error shape).
                    raise HTTPException(413, too_large_message(limit, setting))
            return message

        await self.app(scope, receive_limited, send_guarded)

    def _limit(self, scope: Scope) -> tuple[int, str]:
        if scope["path"] in UPLOAD_PATHS:
            return self.max_upload_bytes, "RECUR_MAX_UPLOAD_BYTES"
        return self.max_body_bytes, "RECUR_MAX_BODY_BYTES"

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    @staticmethod
    def _refusal(scope: Scope, limit: int, setting: str) -> Response:
        message = too_large_message(limit, setting)
        if scope["path"].startswith(API_PREFIX):
            return error_response(413, code_for(413), message)
        return PlainTextResponse(message, status_code=413)
