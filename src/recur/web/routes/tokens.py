"""API tokens (administrators only): when each was last used, and revoking one."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.users import User
from recur.services import tokens
from recur.web.auth import admin, check_csrf, ctx
from recur.web.templating import flash, render

router = APIRouter()


@router.get("/tokens")
def token_list(request: Request, user: User = Depends(admin)) -> Response:
    return render(request, "tokens.html", tokens=tokens.list_tokens(ctx(request).db))


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(check_csrf)])
def token_revoke(request: Request, token_id: int, user: User = Depends(admin)) -> Response:
    context = ctx(request)
    tokens.revoke_token(context.db, token_id, user.actor, context.tokens)
    flash(request, f"API token #{token_id} is revoked: its next request is refused.")
    return RedirectResponse("/tokens", status_code=303)
