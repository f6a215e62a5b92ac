"""Delivery by e-mail: send a document, its delivery log, accounts' delivery options
and the SMTP settings (admins only). docs/delivery.md."""

from fastapi import APIRouter

from recur.api.deps import Admin, Caller, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.params import IdPath
from recur.api.schemas import (
    AccountDeliveryIn,
    AccountDeliveryOut,
    DeliveryOut,
    MailSettingsIn,
    MailSettingsOut,
    SendOut,
)
from recur.domain.delivery import AccountDelivery, MailSettings
from recur.services import delivery

router = APIRouter(tags=["delivery"], route_class=ApiRoute)


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
    """Every e-mail of the document: queued, sent or failed, and to whom."""
    return [
        DeliveryOut(
            outbox_id=e.outbox_id,
            outcome=e.outcome.value,
            at=e.at,
            recipients=e.recipients,
            error=e.error,
        )
        for e in delivery.deliveries(ctx.db, invoice_id)
    ]


@router.get(
    "/accounts/{account_id}/delivery",
    operation_id="get_account_delivery",
    summary="Get an account's delivery options",
    response_model=AccountDeliveryOut,
    responses=documented(404),
)
def account_delivery(account_id: IdPath, ctx: Ctx) -> AccountDeliveryOut:
    """Where the account's documents are e-mailed and whether they are sent when issued."""
    return _options(delivery.account_delivery(ctx.db, account_id))


@router.put(
    "/accounts/{account_id}/delivery",
    operation_id="update_account_delivery",
    summary="Set an account's delivery options",
    response_model=AccountDeliveryOut,
    responses=documented(403, 404),
)
def update_account_delivery(
    account_id: IdPath, body: AccountDeliveryIn, ctx: Ctx, caller: Caller
) -> AccountDeliveryOut:
    """The billing e-mail (null: the account's own), copies, and automatic sending."""
    updated = delivery.update_account_delivery(
        ctx.db, account_id, body.billing_email, body.cc_emails, body.auto_send, caller.actor
    )
    return _options(updated)


def _options(options: AccountDelivery) -> AccountDeliveryOut:
    return AccountDeliveryOut(
        account_id=options.account_id,
        billing_email=options.billing_email,
        cc_emails=list(options.cc_emails),
        auto_send=options.auto_send,
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
        subject_template=settings.subject_template,
        body_template=settings.body_template,
    )
