"""Who is signed in, what they may do, and the CSRF token every form carries.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax) holding the
user's id and a random CSRF token; the user's role is read from the database
on each request, so a changed role takes effect at once.
"""

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Depends, Request

from recur.context import AppContext
from recur.services.roles import Role
from recur.services.users import UserInfo, find_user
from recur.web.errors import Forbidden, SignInRequired

SESSION_USER = "uid"
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


def sign_in(request: Request, user: UserInfo) -> None:
    request.session.clear()  # a new session on sign-in: no fixation
    request.session[SESSION_USER] = user.id
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


def current_user(request: Request) -> UserInfo:
    user_id = request.session.get(SESSION_USER)
    user = find_user(ctx(request).db, user_id) if isinstance(user_id, int) else None
    if user is None:
        request.session.pop(SESSION_USER, None)
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

    def __call__(self, user: UserInfo = Depends(current_user)) -> UserInfo:
        if not user.role.allows(self.role):
            raise Forbidden(f"Your role ({user.role.value}) may not do this; ask an administrator.")
        return user


viewer = RoleNeeded(Role.VIEWER)
operator = RoleNeeded(Role.OPERATOR)
admin = RoleNeeded(Role.ADMIN)


def writer(role: Role) -> list[object]:
    """Dependencies of a POST: a valid CSRF token, then a role that allows it."""
    return [Depends(check_csrf), Depends(RoleNeeded(role))]
