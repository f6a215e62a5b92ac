"""What every API route needs: the context, today, and who is asking (bearer tokens)."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from recur.api.errors import ApiError
from recur.context import AppContext
from recur.domain.roles import Role
from recur.domain.users import Principal
from recur.services.tokens import authenticate_on_loop

_bearer = HTTPBearer(auto_error=False, description="An API token: `recur token create`")
_READS = {"GET", "HEAD", "OPTIONS"}


# Dependencies that do no I/O are `async`, so FastAPI runs them inline rather
# than hopping to its thread pool for each one.
async def get_ctx(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


async def get_today(ctx: Annotated[AppContext, Depends(get_ctx)]) -> date:
    return ctx.clock.today()


async def get_principal(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The token's principal; viewers may only read, writes need an operator or an admin."""
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "unauthorized",
            "send a valid API token: Authorization: Bearer TOKEN",
            {"WWW-Authenticate": "Bearer"},
        )
    # A revoked token is refused at once (services/tokens.py).
    principal = await authenticate_on_loop(ctx.loop_reads, ctx.tokens, credentials.credentials)
    if principal is None:
        raise ApiError(
            401, "invalid_token", "the API token is not valid", {"WWW-Authenticate": "Bearer"}
        )
    needed = Role.VIEWER if request.method in _READS else Role.OPERATOR
    _require(principal, needed)
    return principal


async def refuse_strangers(request: Request) -> None:
    """`get_principal`'s refusal, if any, for a request whose body could not be read.

    FastAPI reads and parses the body before it runs any dependency: without this, a
    caller with no token would learn from a 422 what the route expects.
    """
    await get_principal(request, await get_ctx(request), await _bearer(request))


async def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    _require(principal, Role.ADMIN)
    return principal


def _require(principal: Principal, needed: Role) -> None:
    if not principal.role.allows(needed):
        raise ApiError(
            403, "forbidden", f"a {principal.role} token cannot do this; it needs {needed} or above"
        )


Ctx = Annotated[AppContext, Depends(get_ctx)]
Today = Annotated[date, Depends(get_today)]
Caller = Annotated[Principal, Depends(get_principal)]
Admin = Annotated[Principal, Depends(require_admin)]
