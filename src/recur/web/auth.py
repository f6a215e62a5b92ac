"""Who is signed in, what they may do, and the CSRF token every form carries.

The cookie (web/session_cookie.py) holds the session's secret and a random CSRF
token. Each request looks the session up on the server with its user
(services/sessions.py): a signed-out, expired or revoked session, or a disabled
user, is refused at once, and a changed role takes effect at once.
"""

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Depends, Request

from recur.context import AppContext
from recur.domain.roles import Role
from recur.domain.users import User
from recur.services import sessions
from recur.services.sessions import SignedIn
from recur.web.errors import Forbidden, SignInRequired

SESSION_SECRET = "sid"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"


def ctx(request: Request) -> AppContext:
    context: AppContext = request.app.state.ctx
    return context


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def client_address(request: Request) -> str:
    """The client's address, as uvicorn tells it (from a trusted proxy's headers too)."""
    return request.client.host if request.client else "unknown"


def session_secret(request: Request) -> str | None:
    secret = request.session.get(SESSION_SECRET)
    return secret if isinstance(secret, str) else None


def sign_in(request: Request, signed_in: SignedIn) -> None:
    """Put the new session in the cookie; a session the cookie held before ends."""
    previous = session_secret(request)
    if previous is not None:
        sessions.end(ctx(request).db, previous)
    request.session.clear()  # a new session on sign-in: no fixation
    request.session[SESSION_SECRET] = signed_in.secret
    csrf_token(request)


def sign_out(request: Request) -> None:
    """End the session on the server, then forget the cookie."""
    secret = session_secret(request)
    if secret is not None:
        sessions.end(ctx(request).db, secret)
    request.session.clear()


def current_user(request: Request) -> User:
    secret = session_secret(request)
    user = sessions.session_user(ctx(request).db, secret) if secret else None
    if user is None:
        request.session.pop(SESSION_SECRET, None)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/")
    request.state.user = user
    return user


async def check_csrf(request: Request) -> None:
    """Every POST carries the session's token in a form field; anything else is refused."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(SESSION_CSRF)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
        )


@dataclass(frozen=True)
class RoleNeeded:
    """A dependency: the signed-in user, provided their role allows `role`."""

    role: Role

    def __call__(self, user: User = Depends(current_user)) -> User:
        if not user.role.allows(self.role):
            raise Forbidden(f"Your role ({user.role.value}) may not do this; ask an administrator.")
        return user


viewer = RoleNeeded(Role.VIEWER)
operator = RoleNeeded(Role.OPERATOR)
admin = RoleNeeded(Role.ADMIN)


def writer(role: Role) -> list[object]:
    """Dependencies of a POST: a valid CSRF token, then a role that allows it."""
    return [Depends(check_csrf), Depends(RoleNeeded(role))]
