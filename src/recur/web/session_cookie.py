"""The session cookie, named and flagged for the way each request came.

Over HTTPS (as uvicorn sees it, X-Forwarded-Proto included from a trusted proxy)
the cookie is `__Host-recur_session`, Secure, Path=/ and without Domain: a browser
then refuses it from plain HTTP or from a sibling domain. Over plain HTTP (`make
run` on 127.0.0.1) it is `recur_session`. Either way it is HttpOnly, SameSite=Lax,
and signed by Starlette; it carries the session's secret, checked on the server
on every request (services/sessions.py), and the form's CSRF token.
"""

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from recur.services.sessions import LIFETIME

PLAIN_COOKIE = "recur_session"
SECURE_COOKIE = "__Host-recur_session"


class SessionCookies:
    """Starlette's session middleware, once per cookie flavour, chosen per request."""

    def __init__(self, app: ASGIApp, secret_key: str, always_secure: bool) -> None:
        self.secure = _cookie(app, secret_key, SECURE_COOKIE, secure=True)
        self.plain = _cookie(app, secret_key, PLAIN_COOKIE, secure=False)
        self.always_secure = always_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.always_secure or scope.get("scheme") in ("https", "wss"):
            await self.secure(scope, receive, send)
        else:
            await self.plain(scope, receive, send)


def _cookie(app: ASGIApp, secret_key: str, name: str, secure: bool) -> SessionMiddleware:
    return SessionMiddleware(
        app,
        secret_key=secret_key,
        session_cookie=name,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        same_site="lax",
        https_only=secure,
    )
