"""Users (administrators only): who may sign in to the back office, their passwords."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from recur.domain.errors import DomainError, InvalidInput
from recur.domain.roles import Role
from recur.domain.users import User
from recur.services import users
from recur.web.auth import admin, check_csrf, ctx
from recur.web.forms import Form as SubmittedForm
from recur.web.forms import sentence
from recur.web.templating import flash, render

router = APIRouter()

FormText = Annotated[str, Form()]


@router.get("/users")
def user_list(request: Request, user: User = Depends(admin)) -> Response:
    return _page(request, {"role": Role.OPERATOR.value})


@router.post("/users", dependencies=[Depends(check_csrf)])
def user_create(
    request: Request,
    email: FormText = "",
    role: FormText = "",
    password: FormText = "",
    user: User = Depends(admin),
) -> Response:
    """A plain `def` route: hashing the password runs in the thread pool, not on the loop."""
    form = SubmittedForm(FormData(email=email, role=role, password=password))
    email, role, password = form.required("email"), form.text("role"), form.required("password")
    if form.ok:
        try:
            created = users.create_user(ctx(request).db, email, role, password, actor=user.actor)
            flash(request, f"User {created.email} ({created.role.value}) can now sign in.")
            return RedirectResponse("/users", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, {"email", "role", "password"})
    values = {"email": email, "role": role}  # never echo the password
    return _page(request, values, form.errors, status_code=422)


@router.post("/users/{user_id}/disable", dependencies=[Depends(check_csrf)])
def user_disable(request: Request, user_id: int, user: User = Depends(admin)) -> Response:
    return _set_disabled(request, user_id, True, user)


@router.post("/users/{user_id}/enable", dependencies=[Depends(check_csrf)])
def user_enable(request: Request, user_id: int, user: User = Depends(admin)) -> Response:
    return _set_disabled(request, user_id, False, user)


def _set_disabled(request: Request, user_id: int, disabled: bool, user: User) -> Response:
    changed = users.set_disabled(ctx(request).db, user_id, disabled, actor=user.actor)
    if disabled:
        flash(request, f"{changed.email} is disabled: signed out, and cannot sign in.")
    else:
        flash(request, f"{changed.email} can sign in again.")
    return RedirectResponse("/users", status_code=303)


@router.get("/users/{user_id}/password")
def reset_form(request: Request, user_id: int, user: User = Depends(admin)) -> Response:
    subject = users.get_user(ctx(request).db, user_id)
    return render(request, "users/password.html", subject=subject, errors={})


@router.post("/users/{user_id}/password", dependencies=[Depends(check_csrf)])
def reset_password(
    request: Request,
    user_id: int,
    password: FormText = "",
    user: User = Depends(admin),
) -> Response:
    """A plain `def` route: hashing the new password runs in the thread pool."""
    db = ctx(request).db
    subject = users.get_user(db, user_id)
    try:
        users.reset_password(db, subject.id, password, actor=user.actor)
    except InvalidInput as error:
        errors = {"password": sentence(error.message)}
        return render(
            request, "users/password.html", status_code=422, subject=subject, errors=errors
        )
    flash(request, f"The password of {subject.email} is reset; their sessions are signed out.")
    return RedirectResponse("/users", status_code=303)


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
