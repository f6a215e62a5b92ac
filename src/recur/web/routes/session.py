"""Signing in and out, and changing one's own password.

The routes that hash a password are plain `def` routes: FastAPI runs them in its
thread pool, never on the event loop (argon2 takes a few hundred milliseconds).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.errors import Conflict, DomainError, InvalidInput, TooManyAttempts
from recur.domain.users import User
from recur.services import users
from recur.services.sign_in import sign_in as check_sign_in
from recur.services.sign_in import throttle
from recur.web.auth import (
    check_csrf,
    client_address,
    ctx,
    session_secret,
    sign_in,
    sign_out,
    viewer,
)
from recur.web.forms import sentence
from recur.web.templating import flash, render

router = APIRouter()

FormText = Annotated[str, Form()]
# Where the password form shows each refusal.
_PASSWORD_FIELDS = {
    "wrong_current_password": "current_password",
    "password_too_short": "new_password",
}


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"  # the dashboard


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next), email="", error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request, email: FormText = "", password: FormText = "", next: FormText = ""
) -> Response:
    target = _safe_next(next)
    context = ctx(request)
    try:
        signed_in = check_sign_in(
            context.db,
            email,
            password,
            client_address(request),
            throttle(context.settings.sign_in_first_wait),
        )
    except (TooManyAttempts, InvalidInput, Conflict) as error:
        status, headers = 401, {}
        if isinstance(error, TooManyAttempts):
            status, headers = 429, {"Retry-After": str(error.retry_after)}
        elif isinstance(error, Conflict):
            status = 403
        response = render(
            request, "login.html", status_code=status, next=target, email=email, error=error.message
        )
        response.headers.update(headers)
        return response
    sign_in(request, signed_in)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/password")
def password_form(request: Request, user: User = Depends(viewer)) -> Response:
    return render(request, "password.html", errors={})


@router.post("/password", dependencies=[Depends(check_csrf)])
def password_change(
    request: Request,
    current_password: FormText = "",
    new_password: FormText = "",
    user: User = Depends(viewer),
) -> Response:
    """Any signed-in user changes their own password; their other sessions end."""
    try:
        users.change_password(
            ctx(request).db,
            user.id,
            current_password,
            new_password,
            actor=user.actor,
            keep_session=session_secret(request),
        )
    except DomainError as error:
        errors = {_PASSWORD_FIELDS.get(error.code, "_form"): sentence(error.message)}
        return render(request, "password.html", status_code=422, errors=errors)
    flash(request, "Your password is changed. Your other sessions are signed out.")
    return RedirectResponse("/accounts", status_code=303)
