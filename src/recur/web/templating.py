"""Jinja2 templates (autoescaped) with the back office's filters and page context."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from recur import presentation as fmt
from recur.domain.roles import Role
from recur.domain.usage import quantity_text
from recur.domain.users import User
from recur.web.auth import CSRF_FIELD, csrf_token, ctx

TEMPLATES = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(
    money=fmt.money,
    price=fmt.price,
    day=fmt.day,
    timestamp=fmt.timestamp,
    period=fmt.period,
    charge_period=fmt.charge_period,
    ratio=fmt.ratio,
    percent=fmt.percent,
    label=fmt.label,
    doc_type=fmt.document_type,
    quantity=quantity_text,
    item_quantity=fmt.item_quantity,
    plural=fmt.plural,
    last_day=fmt.last_day,
)
templates.env.globals.update(CSRF_FIELD=CSRF_FIELD, Role=Role)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with what every layout needs: the user, today, the CSRF token."""
    user: User | None = getattr(request.state, "user", None)
    base = {
        "user": user,
        "can_operate": user is not None and user.role.allows(Role.OPERATOR),
        "can_admin": user is not None and user.role.allows(Role.ADMIN),
        "today": ctx(request).clock.today(),
        "csrf_token": csrf_token(request),
        "flash": request.session.pop("flash", None),
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def flash(request: Request, message: str) -> None:
    """A one-line notice shown on the next page (after a redirect)."""
    request.session["flash"] = message
