"""The back office: server-rendered pages."""

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound

STATIC = Path(__file__).parent / "static"

_ERROR_PAGES: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Conflict: (409, "Not possible now"),
    InvalidInput: (422, "Cannot do that"),
}


def install(app: FastAPI) -> None:
    """Mount the back office's routes, static files and session cookie on the application."""
    # Imported here so that importing `recur.web` does not load every route.
    from recur.web.errors import Forbidden, PageNotFound, SignInRequired
    from recur.web.routes import router
    from recur.web.session_cookie import SessionCookies
    from recur.web.templating import render

    settings = app.state.ctx.settings
    app.add_middleware(
        SessionCookies, secret_key=settings.secret_key, always_secure=settings.cookie_secure
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forbidden | PageNotFound)
        status, title = (403, "Not allowed") if isinstance(exc, Forbidden) else (404, "Not found")
        return render(request, "error.html", status_code=status, title=title, message=exc.message)

    async def domain_error(request: Request, exc: Exception) -> Response:
        # Forms show their errors next to their fields; anything that reaches here
        # (a stale link, a tampered cursor) gets a page in words, never a stack trace.
        assert isinstance(exc, DomainError)
        status, title = _ERROR_PAGES.get(type(exc), (422, "Cannot do that"))
        return render(request, "error.html", status_code=status, title=title, message=exc.message)

    async def invalid_address(request: Request, exc: Exception) -> Response:
        # The API answers its own (api/errors.py); here a page's address or link was
        # wrong: an id in the path that names no page is a 404, the rest a 422.
        assert isinstance(exc, RequestValidationError)
        refusal: DomainError
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            refusal = NotFound("page_not_found", "There is no such page: check the address.")
        else:
            refusal = InvalidInput("invalid_address", "This link has a value the page cannot read.")
        return await domain_error(request, refusal)

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_address)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Forbidden, refused)
    app.add_exception_handler(PageNotFound, refused)
