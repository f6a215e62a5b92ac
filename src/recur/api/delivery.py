"""Delivery by e-mail: send a document or a statement of account, their delivery logs,
the e-mail templates and the SMTP settings (admins only). docs/delivery.md."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from recur.api.deps import Admin, Caller, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.openapi import file_response
from recur.api.params import IdPath
from recur.api.schemas import (
    DeliveryOut,
    MailSettingsIn,
    MailSettingsOut,
    MailTemplateIn,
    MailTemplateOut,
    SendOut,
    StatementSendIn,
)
from recur.domain.delivery import DeliveryEvent, MailSettings, MailTemplate
from recur.services import delivery, statements

router = APIRouter(tags=["delivery"], route_class=ApiRoute)

PeriodFrom = Annotated[date, Query(alias="from", description="The period's first day")]
PeriodTo = Annotated[date, Query(alias="to", description="The period's last day")]


@router.post(
    "/invoices/{invoice_id}/send",
    operation_id="send_invoice",
    summary="E-mail an invoice",
    status_code=202,
    response_model=SendOut,
    responses=documented(403, 404),
)
def send_invoice(invoice_id: IdPath, ctx: Ctx, caller: Caller) -> SendOut:
    """Queue an e-mail of the invoice or credit note, its PDF attached (Send and Resend)."""
    return SendOut(
        outbox_id=delivery.send_document(ctx.db, invoice_id, caller.actor), status="queued"
    )


@router.get(
    "/invoices/{invoice_id}/deliveries",
    operation_id="list_invoice_deliveries",
    summary="List an invoice's deliveries",
    response_model=list[DeliveryOut],
    responses=documented(404),
)
def invoice_deliveries(invoice_id: IdPath, ctx: Ctx) -> list[DeliveryOut]:
    """Each queueing and each attempt; `attempt` > 1 is a retry after a failure."""
    return [_event(e) for e in delivery.deliveries(ctx.db, invoice_id)]


@router.get(
    "/accounts/{account_id}/statement",
    response_class=Response,
    summary="An account's statement as PDF",
    operation_id="account_statement_pdf",
    responses={
        200: file_response(
            "application/pdf",
            "The statement as PDF",
            'inline; filename="statement-12-2027-01-01-2027-03-31.pdf"',
        ),
        **documented(404),
    },
)
async def account_statement(
    account_id: IdPath, ctx: Ctx, period_from: PeriodFrom, period_to: PeriodTo
) -> Response:
    """Opening balance, the period's documents, payments, refunds and credit notes
    applied with the running balance, and the closing balance, per currency."""
    pdf = await run_in_threadpool(
        statements.statement_pdf,
        ctx.db,
        account_id,
        period_from,
        period_to,
        ctx.settings.seller_name,
    )
    name = statements.statement_file_name(account_id, period_from, period_to)
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(
    "/accounts/{account_id}/statement/send",
    status_code=202,
    response_model=SendOut,
    summary="E-mail an account's statement",
    operation_id="send_account_statement",
    responses=documented(403, 404),
)
def send_statement(account_id: IdPath, body: StatementSendIn, ctx: Ctx, caller: Caller) -> SendOut:
    """Queue an e-mail of the statement over `from`..`to`, its PDF attached, to the
    account's e-mail with its CC addresses."""
    queued = statements.send_statement(
        ctx.db, account_id, body.period_from, body.period_to, caller.actor
    )
    return SendOut(outbox_id=queued, status="queued")


@router.get(
    "/accounts/{account_id}/statement/deliveries",
    response_model=list[DeliveryOut],
    summary="The delivery log of an account's statements",
    operation_id="account_statement_deliveries",
    responses=documented(404),
)
def statement_deliveries(account_id: IdPath, ctx: Ctx) -> list[DeliveryOut]:
    """Each queueing and each attempt; `attempt` > 1 is a retry after a failure."""
    return [_event(e) for e in delivery.statement_deliveries(ctx.db, account_id)]


def _event(event: DeliveryEvent) -> DeliveryOut:
    return DeliveryOut(
        outbox_id=event.outbox_id,
        outcome=event.outcome.value,
        at=event.at,
        recipients=event.recipients,
        error=event.error,
        attempt=event.attempt,
        retry=event.retry,
    )


@router.get(
    "/mail-templates",
    response_model=list[MailTemplateOut],
    summary="The e-mail templates",
    operation_id="list_mail_templates",
    responses=documented(403),
)
def mail_templates(ctx: Ctx, _admin: Admin) -> list[MailTemplateOut]:
    """Subject and body of each kind of e-mail (`invoice`, `credit_note`, `statement`)
    with the placeholders it may use."""
    return [_template(t) for t in delivery.mail_templates(ctx.db).values()]


@router.put(
    "/mail-templates/{kind}",
    response_model=MailTemplateOut,
    summary="Replace one kind of e-mail's templates",
    operation_id="update_mail_template",
    responses=documented(403),
)
def update_mail_template(
    kind: str, body: MailTemplateIn, ctx: Ctx, admin: Admin
) -> MailTemplateOut:
    """Both templates are checked first: an unknown placeholder or a syntax error is
    refused (`422`) and nothing changes."""
    return _template(
        delivery.update_mail_template(ctx.db, kind, body.subject, body.body, admin.actor)
    )


def _template(template: MailTemplate) -> MailTemplateOut:
    return MailTemplateOut(
        kind=template.kind.value,
        subject=template.subject,
        body=template.body,
        placeholders=template.placeholders,
    )


@router.get(
    "/mail-settings",
    operation_id="get_mail_settings",
    summary="Get the SMTP settings",
    response_model=MailSettingsOut,
    responses=documented(403),
)
def mail_settings(ctx: Ctx, _admin: Admin) -> MailSettingsOut:
    """The mail server and templates documents are sent with (admins only)."""
    return _settings(delivery.mail_settings(ctx.db, ctx.settings))


@router.put(
    "/mail-settings",
    operation_id="update_mail_settings",
    summary="Set the SMTP settings",
    response_model=MailSettingsOut,
    responses=documented(403),
)
def update_mail_settings(body: MailSettingsIn, ctx: Ctx, admin: Admin) -> MailSettingsOut:
    """Replace the mail server and templates (admins only)."""
    spec = delivery.MailSettingsSpec(**body.model_dump())
    return _settings(delivery.update_mail_settings(ctx.db, spec, admin.actor, ctx.settings))


def _settings(settings: MailSettings) -> MailSettingsOut:
    return MailSettingsOut(
        host=settings.host,
        port=settings.port,
        security=settings.security.value,
        sender=settings.sender,
        username=settings.username,
        password_set=settings.has_password,
    )
