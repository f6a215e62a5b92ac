"""Signing in and out."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.services.users import authenticate
from recur.web.auth import check_csrf, ctx, sign_in, sign_out
from recur.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/accounts"


@router.get("/")
def home() -> Response:
    return RedirectResponse("/accounts", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next), email="", error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(request: Request) -> Response:
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    user = authenticate(ctx(request).db, email, password)
    if user is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=target,
            email=email,
            error="That e-mail address and password do not match a user. Check both and try again.",
        )
    sign_in(request, user)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/login", status_code=303)
