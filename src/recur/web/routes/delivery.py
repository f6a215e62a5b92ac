"""Delivery by e-mail in the back office: Send / Resend on a document's page, the
SMTP settings and the e-mail templates (administrators only)."""

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from recur.domain.delivery import PLACEHOLDERS, MailKind
from recur.domain.errors import DomainError
from recur.domain.users import User
from recur.services import delivery, invoicing
from recur.web.auth import admin, check_csrf, ctx, operator
from recur.web.errors import found
from recur.web.forms import Form as SubmittedForm
from recur.web.params import PageId
from recur.web.templating import flash, render

router = APIRouter()

FormText = Annotated[str, Form()]

SETTINGS_FIELDS = {"host", "port", "security", "sender", "username", "password"}
TEMPLATE_FIELDS = {"subject", "body"}


@router.post("/invoices/{invoice_id}/send", dependencies=[Depends(check_csrf)])
def invoice_send(request: Request, invoice_id: PageId, user: User = Depends(operator)) -> Response:
    db = ctx(request).db
    invoice = found(invoicing.get_invoice, db, invoice_id)
    delivery.send_document(db, invoice_id, actor=user.actor)
    flash(
        request, f"{invoice.number} is queued to be e-mailed; the delivery log shows when it goes."
    )
    return RedirectResponse(f"/invoices/{invoice_id}", status_code=303)


@router.get("/settings/mail")
def settings_form(request: Request, user: User = Depends(admin)) -> Response:
    settings = delivery.mail_settings(ctx(request).db, ctx(request).settings)
    values = {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "sender": settings.sender,
        "username": settings.username or "",
    }
    return _settings_page(request, values, {}, settings.has_password)


@router.post("/settings/mail", dependencies=[Depends(check_csrf)])
def settings_save(
    request: Request,
    host: FormText = "",
    port: FormText = "",
    security: FormText = "",
    sender: FormText = "",
    username: FormText = "",
    password: FormText = "",
    remove_password: FormText = "",
    user: User = Depends(admin),
) -> Response:
    """A plain `def` route: the service's transaction runs in the thread pool."""
    form = SubmittedForm(
        FormData(host=host, port=port, security=security, sender=sender, username=username)
    )
    number = form.integer("port")
    # An empty password field keeps the saved password; "remove" clears it.
    kept = (
        "" if SubmittedForm(FormData(remove=remove_password)).flag("remove") else (password or None)
    )
    context = ctx(request)
    if form.ok and number is not None:
        spec = delivery.MailSettingsSpec(
            host=form.text("host"),
            port=number,
            security=form.text("security"),
            sender=form.text("sender"),
            username=form.text("username") or None,
            password=kept,
        )
        try:
            delivery.update_mail_settings(context.db, spec, user.actor, context.settings)
            flash(request, "The e-mail settings are saved.")
            return RedirectResponse("/settings/mail", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, SETTINGS_FIELDS)
    values = {name: form.text(name) for name in ("host", "port", "security", "sender")} | {
        "username": username
    }  # never echo the password
    saved = delivery.mail_settings(context.db, context.settings).has_password
    return _settings_page(request, values, form.errors, saved, 422)


def _settings_page(
    request: Request,
    values: Mapping[str, object],
    errors: dict[str, str],
    has_password: bool,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "delivery/settings.html",
        status_code=status_code,
        values=values,
        errors=errors,
        has_password=has_password,
        securities=[("none", "None (a local relay)"), ("starttls", "STARTTLS"), ("tls", "TLS")],
    )


@router.get("/settings/mail/templates")
def templates_form(request: Request, user: User = Depends(admin)) -> Response:
    saved = delivery.mail_templates(ctx(request).db)
    values = {kind: {"subject": t.subject, "body": t.body} for kind, t in saved.items()}
    return _templates_page(request, values, {})


@router.post("/settings/mail/templates/{kind}", dependencies=[Depends(check_csrf)])
def template_save(
    request: Request,
    kind: MailKind,
    subject: FormText = "",
    body: FormText = "",
    user: User = Depends(admin),
) -> Response:
    """A plain `def` route: the service's transaction runs in the thread pool."""
    db = ctx(request).db
    try:
        delivery.update_mail_template(db, kind.value, subject, body, user.actor)
    except DomainError as error:
        form = SubmittedForm(FormData())
        form.add_domain_error(error, TEMPLATE_FIELDS)
        saved = delivery.mail_templates(db)
        values = {k: {"subject": t.subject, "body": t.body} for k, t in saved.items()}
        values[kind] = {"subject": subject, "body": body}
        return _templates_page(request, values, {kind: form.errors}, 422)
    flash(request, f"The {kind.value.replace('_', ' ')} e-mail templates are saved.")
    return RedirectResponse("/settings/mail/templates", status_code=303)


def _templates_page(
    request: Request,
    values: Mapping[MailKind, Mapping[str, str]],
    errors: Mapping[MailKind, dict[str, str]],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "delivery/templates.html",
        status_code=status_code,
        kinds=[
            (kind, _KIND_TITLES[kind], values[kind], errors.get(kind, {}), PLACEHOLDERS[kind])
            for kind in MailKind
        ],
    )


_KIND_TITLES = {
    MailKind.INVOICE: "Invoice",
    MailKind.CREDIT_NOTE: "Credit note",
    MailKind.STATEMENT: "Statement of account",
}
