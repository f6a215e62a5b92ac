"""Users (administrators only): who may sign in to the back office."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.domain.errors import DomainError
from recur.services import users
from recur.services.roles import Role
from recur.services.users import UserInfo
from recur.web.auth import admin, check_csrf, ctx
from recur.web.forms import Form
from recur.web.templating import flash, render

router = APIRouter()


@router.get("/users")
def user_list(request: Request, user: UserInfo = Depends(admin)) -> Response:
    return _page(request, {"role": Role.OPERATOR.value})


@router.post("/users", dependencies=[Depends(check_csrf)])
async def user_create(request: Request, user: UserInfo = Depends(admin)) -> Response:
    form = Form(await request.form())
    email, role, password = form.required("email"), form.text("role"), form.required("password")
    if form.ok:
        try:
            created = users.create_user(
                ctx(request).db, email, role, password, actor=f"user:{user.email}"
            )
            flash(request, f"User {created.email} ({created.role.value}) can now sign in.")
            return RedirectResponse("/users", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, {"email", "role", "password"})
    values = {"email": email, "role": role}  # never echo the password
    return _page(request, values, form.errors, status_code=422)


def _page(
    request: Request, values: Any, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "users/list.html",
        status_code=status_code,
        users=users.list_users(ctx(request).db),
        values=values,
        errors=errors or {},
        roles=list(Role),
    )
