"""Delivery by e-mail in the back office: Send / Resend on a document's page, an
account's delivery options, and the SMTP settings (administrators only)."""

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from recur.domain.errors import DomainError
from recur.domain.users import User
from recur.services import accounts, delivery, invoicing
from recur.web.auth import admin, check_csrf, ctx, operator
from recur.web.errors import found
from recur.web.forms import Form as SubmittedForm
from recur.web.params import PageId
from recur.web.templating import flash, render

router = APIRouter()

FormText = Annotated[str, Form()]

SETTINGS_FIELDS = {"host", "port", "security", "sender", "username", "password"} | {
    "subject_template",
    "body_template",
}
OPTIONS_FIELDS = {"billing_email", "cc_emails", "auto_send"}


@router.post("/invoices/{invoice_id}/send", dependencies=[Depends(check_csrf)])
def invoice_send(request: Request, invoice_id: PageId, user: User = Depends(operator)) -> Response:
    db = ctx(request).db
    invoice = found(invoicing.get_invoice, db, invoice_id)
    delivery.send_document(db, invoice_id, actor=f"user:{user.email}")
    flash(
        request, f"{invoice.number} is queued to be e-mailed; the delivery log shows when it goes."
    )
    return RedirectResponse(f"/invoices/{invoice_id}", status_code=303)


@router.get("/accounts/{account_id}/delivery")
def options_form(request: Request, account_id: PageId, user: User = Depends(operator)) -> Response:
    db = ctx(request).db
    options = found(delivery.account_delivery, db, account_id)
    values = {
        "billing_email": options.billing_email,
        "cc_emails": ", ".join(options.cc_emails),
        "auto_send": options.auto_send,
    }
    return _options_page(request, account_id, values, {})


@router.post("/accounts/{account_id}/delivery", dependencies=[Depends(check_csrf)])
def options_save(
    request: Request,
    account_id: PageId,
    billing_email: FormText = "",
    cc_emails: FormText = "",
    auto_send: FormText = "",
    user: User = Depends(operator),
) -> Response:
    """A plain `def` route: the service's transaction runs in the thread pool."""
    form = SubmittedForm(
        FormData(billing_email=billing_email, cc_emails=cc_emails, auto_send=auto_send)
    )
    cc = [address.strip() for address in form.text("cc_emails").split(",") if address.strip()]
    try:
        delivery.update_account_delivery(
            ctx(request).db,
            account_id,
            form.text("billing_email") or None,
            cc,
            form.flag("auto_send"),
            actor=f"user:{user.email}",
        )
    except DomainError as error:
        form.add_domain_error(error, OPTIONS_FIELDS)
        values = {name: form.text(name) for name in OPTIONS_FIELDS} | {
            "auto_send": form.flag("auto_send")
        }
        return _options_page(request, account_id, values, form.errors, 422)
    flash(request, "The account's delivery options are saved.")
    return RedirectResponse(f"/accounts/{account_id}", status_code=303)


def _options_page(
    request: Request,
    account_id: int,
    values: Mapping[str, object],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    account = found(accounts.get_account, ctx(request).db, account_id)
    return render(
        request,
        "delivery/account.html",
        status_code=status_code,
        account=account,
        values=values,
        errors=errors,
    )


@router.get("/settings/mail")
def settings_form(request: Request, user: User = Depends(admin)) -> Response:
    settings = delivery.mail_settings(ctx(request).db, ctx(request).settings)
    values = {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "sender": settings.sender,
        "username": settings.username or "",
        "subject_template": settings.subject_template,
        "body_template": settings.body_template,
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
    subject_template: FormText = "",
    body_template: FormText = "",
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
            subject_template=subject_template,
            body_template=body_template,
        )
        try:
            delivery.update_mail_settings(context.db, spec, f"user:{user.email}", context.settings)
            flash(request, "The e-mail settings are saved.")
            return RedirectResponse("/settings/mail", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, SETTINGS_FIELDS)
    values = {name: form.text(name) for name in ("host", "port", "security", "sender")} | {
        "username": username,
        "subject_template": subject_template,
        "body_template": body_template,
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
