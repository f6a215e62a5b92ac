"""From the services' objects to the API's bodies: amounts as strings in the currency's places."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from recur.api import schemas as s
from recur.domain.accounts import Account
from recur.domain.audit import AuditEvent
from recur.domain.billing_runs import BillingRun
from recur.domain.catalogue import ChargeKind, InvoiceType
from recur.domain.charges import PRORATION_PLACES, Charge
from recur.domain.forecast_jobs import ForecastJob
from recur.domain.identity import Address, Buyer, Seller
from recur.domain.invoices import PendingInvoice, TaxLine
from recur.domain.issued import Invoice, IssuedInvoice, IssuedItem, issued_item
from recur.domain.metrics import MonthFigure
from recur.domain.money import to_money, to_price
from recur.domain.pages import Page
from recur.domain.products import PricingOption, Product
from recur.domain.receivables import Aging, AgingRow, Allocation, Balance, Payment, Refund
from recur.domain.subscriptions import Subscription, SubscriptionChange
from recur.domain.usage import quantity_text
from recur.services.metrics import Metrics
from recur.services.run_heartbeat import shown_status
from recur.services.subscriptions import SubscriptionFacts, effective_status, term_end

T = TypeVar("T")


def money(amount: Decimal, currency: str) -> str:
    return str(to_money(amount, currency))


def price(amount: Decimal, currency: str) -> str:
    return str(to_price(amount, currency))


def page(result: Page[Any], present: Any) -> dict[str, Any]:
    return {
        "data": [present(item) for item in result.items],
        "total": result.total,
        "next_cursor": result.next_cursor,
        "prev_cursor": result.prev_cursor,
    }


def pricing_option(option: PricingOption) -> s.PricingOptionOut:
    return s.PricingOptionOut(
        id=option.id,
        code=option.code,
        billing_period=option.billing_period,
        billing_type=option.billing_type,
        unit_price=price(option.unit_price, option.currency),
        setup_fee=price(option.setup_fee, option.currency),
        currency=option.currency,
        term_months=option.term_months,
        auto_renew=option.auto_renew,
        billing_day=option.billing_day,
        anniversary_billing=option.anniversary_billing,
        active=option.active,
        meters=[
            s.MeterOut(
                id=m.id,
                code=m.code,
                name=m.name,
                unit=m.unit,
                unit_price=price(m.unit_price, option.currency),
            )
            for m in option.meters
        ],
        usage_delay_days=option.usage_delay_days,
    )


def product(item: Product) -> s.ProductOut:
    return s.ProductOut(
        id=item.id,
        sku=item.sku,
        name=item.name,
        taxable=item.taxable,
        pricing_options=[pricing_option(o) for o in item.pricing_options],
    )


def account(item: Account) -> s.AccountOut:
    return s.AccountOut(
        id=item.id,
        name=item.name,
        email=item.email,
        currency=item.currency,
        billing_day=item.billing_day,
        partial_charges=item.partial_charges,
        invoice_grouping=item.invoice_grouping,
        payment_terms_days=item.payment_terms_days,
        tax_rate=rate(item.tax_rate),
        status=item.status,
        billing_address=address(item.billing_address),
        tax_id=item.tax_id,
        tax_treatment=item.tax_treatment,
        tax_exemption_reason=item.tax_exemption_reason,
        billing_email=item.billing_email,
        cc_emails=list(item.cc_emails),
        auto_send=item.auto_send,
    )


def address(item: Address) -> s.AddressOut:
    return s.AddressOut(
        lines=list(item.lines),
        postcode=item.postcode,
        city=item.city,
        region=item.region,
        country=item.country,
    )


def seller(item: Seller) -> s.SellerOut:
    return s.SellerOut(**_seller_fields(item), logo_url=item.logo_url)


def document_seller(item: Seller) -> s.DocumentSellerOut:
    """The seller as a document names it (its logo is the current seller's)."""
    return s.DocumentSellerOut(**_seller_fields(item))


def _seller_fields(item: Seller) -> dict[str, Any]:
    return {
        "legal_name": item.legal_name,
        "address": address(item.address),
        "tax_id": item.tax_id,
        "registration": item.registration,
        "iban": item.iban,
        "bic": item.bic,
        "bank_details": item.bank_details,
        "footer": item.footer,
    }


def buyer(item: Buyer) -> s.BuyerOut:
    return s.BuyerOut(
        name=item.name,
        address=address(item.address),
        tax_id=item.tax_id,
        tax_exemption_reason=item.tax_exemption_reason,
    )


def tax_breakdown(lines: tuple[TaxLine, ...], currency: str) -> list[s.TaxLineOut]:
    return [
        s.TaxLineOut(
            rate=rate(line.rate), base=money(line.base, currency), tax=money(line.tax, currency)
        )
        for line in lines
    ]


def rate(value: Decimal) -> str:
    """A tax rate (a percentage) with its two places: "24.00"."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def subscription(
    sub: Subscription | SubscriptionFacts, today: date, in_force: tuple[int, int]
) -> s.SubscriptionOut:
    """`in_force`: the (quantity, pricing option) of services.subscriptions.in_force today."""
    quantity, option_id = in_force
    return s.SubscriptionOut(
        id=sub.id,
        account_id=sub.account_id,
        pricing_option_id=option_id,
        quantity=quantity,
        start_date=sub.start_date,
        auto_renew=sub.auto_renew,
        status=effective_status(sub, today),
        term_end=term_end(sub, today),
        end_date=sub.end_date,
        next_charge_date=sub.next_charge_date,
    )


def change(item: SubscriptionChange) -> s.ChangeOut:
    return s.ChangeOut(
        id=item.id,
        subscription_id=item.subscription_id,
        effective_date=item.effective_date,
        quantity=item.quantity,
        pricing_option_id=item.pricing_option_id,
        created_at=item.created_at,
        created_by=item.created_by,
        withdrawable=item.withdrawable,
    )


def charge(item: Charge, tax_rate: Decimal) -> s.ItemOut:
    """A pending item: the body it will have once issued."""
    return invoice_item(issued_item(item, tax_rate), item.currency)


def pending_invoice(draft: PendingInvoice) -> s.PendingInvoiceOut:
    currency = draft.currency
    return s.PendingInvoiceOut(
        tax_treatment=draft.tax_treatment,
        tax_breakdown=tax_breakdown(draft.tax_breakdown, currency),
        account_id=draft.account_id,
        type=draft.type,
        issue_date=draft.issue_date,
        due_date=draft.due_date,
        currency=currency,
        subtotal=money(draft.totals.subtotal, currency),
        tax=money(draft.totals.tax, currency),
        total=money(draft.totals.total, currency),
        items=[charge(c, r) for c, r in zip(draft.items, draft.tax_rates, strict=True)],
    )


def preview(documents: list[PendingInvoice]) -> s.PreviewOut:
    return s.PreviewOut(data=[pending_invoice(p) for p in documents])


def invoice_item(item: IssuedItem, currency: str) -> s.ItemOut:
    return s.ItemOut(
        subscription_id=item.subscription_id,
        kind=ChargeKind(item.kind),
        description=item.description,
        explanation=item.explanation,
        period_start=item.period_start,
        period_end=item.period_end,  # stored inclusive
        quantity=item.quantity
        if item.usage_quantity is None
        else quantity_text(item.usage_quantity),
        unit_price=price(item.unit_price, currency),
        proration=str(Decimal(item.proration).quantize(Decimal(1).scaleb(-PRORATION_PLACES))),
        amount=money(item.amount, currency),
        taxable=item.taxable,
        tax_rate=rate(item.tax_rate),
        corrects_invoice_id=item.corrects_invoice_id,
        meter=item.meter,
    )


def invoice(item: IssuedInvoice, today: date) -> s.InvoiceOut:
    """A stored invoice (domain.issued.Invoice), or one as its generation issued it:
    the same body either way; `overdue` as of `today`."""
    currency = item.currency
    remaining = item.amount_remaining
    return s.InvoiceOut(
        id=item.id,
        number=item.number,
        account_id=item.account_id,
        issue_date=item.issue_date,
        due_date=item.due_date,
        currency=currency,
        type=item.type,
        status=item.status,
        source=item.source,
        generated_by=item.generated_by,
        billing_run_id=item.billing_run_id,
        subtotal=money(item.subtotal, currency),
        tax=money(item.tax, currency),
        total=money(item.total, currency),
        tax_rate=rate(item.tax_rate),
        tax_treatment=item.tax_treatment,
        tax_breakdown=tax_breakdown(item.tax_breakdown, currency),
        seller=None if item.seller is None else document_seller(item.seller),
        buyer=None if item.buyer is None else buyer(item.buyer),
        paid_at=item.paid_at,
        items=[invoice_item(i, currency) for i in item.items],
        amount_paid=money(item.amount_paid, currency),
        amount_due=money(item.amount_due, currency),
        overdue=item.is_overdue(today),
        amount_remaining=None if remaining is None else money(remaining, currency),
    )


def payment(item: Payment) -> s.PaymentOut:
    currency = item.currency
    return s.PaymentOut(
        id=item.id,
        account_id=item.account_id,
        amount=money(item.amount, currency),
        currency=currency,
        received_on=item.received_on,
        method=item.method,
        reference=item.reference,
        allocations=[
            s.AllocationOut(invoice_id=a.invoice_id, amount=money(a.amount, currency))
            for a in item.allocations
        ],
        unallocated=money(item.unallocated, currency),
        created_by=item.created_by,
        created_at=item.created_at,
        undone_at=item.undone_at,
    )


def credit_note_uses(
    note: Invoice, applications: list[Allocation], refunds: list[Refund]
) -> s.CreditNoteUsesOut:
    currency = note.currency
    return s.CreditNoteUsesOut(
        applications=[
            s.CreditApplicationOut(
                id=a.id,
                invoice_id=a.invoice_id,
                invoice_number=a.invoice_number,
                amount=money(a.amount, currency),
                applied_at=a.created_at,
            )
            for a in applications
        ],
        refunds=[
            s.RefundOut(
                id=f.id,
                amount=money(f.amount, currency),
                refunded_on=f.refunded_on,
                reference=f.reference,
            )
            for f in refunds
        ],
    )


def balance(item: Balance) -> s.BalanceOut:
    currency = item.currency
    return s.BalanceOut(
        currency=currency,
        invoiced_due=money(item.invoiced_due, currency),
        credits=money(item.credits, currency),
        balance=money(item.balance, currency),
    )


def aging(report: Aging) -> s.AgingOut:
    def row(item: AgingRow) -> s.AgingRowOut:
        amounts = {name: money(value, item.currency) for name, value in item.buckets.items()}
        return s.AgingRowOut.model_validate(
            {
                "account_id": item.account_id,
                "account_name": item.account_name,
                "currency": item.currency,
                **amounts,
                "total": money(item.total, item.currency),
            }
        )

    return s.AgingOut(
        as_of=report.as_of,
        overall=[row(r) for r in report.overall],
        accounts=[row(r) for r in report.accounts],
    )


def billing_run(run: BillingRun) -> s.BillingRunOut:
    return s.BillingRunOut(
        id=run.id,
        as_of=run.as_of,
        worker=run.worker,
        triggered_by=run.triggered_by,
        status=shown_status(run, datetime.now(UTC)),
        started_at=run.started_at,
        finished_at=run.finished_at,
        heartbeat_at=run.heartbeat_at,
        accounts_processed=run.accounts_processed,
        invoices_issued=run.invoices_issued,
        charges_issued=run.charges_issued,
        errors_count=run.errors_count,
        errors=[
            s.BillingRunErrorOut(
                account_id=e.account_id,
                code=e.code,
                message=e.message,
                occurred_at=e.occurred_at,
            )
            for e in run.errors
        ],
    )


def metrics(currency: str, today: date, figures: Metrics | None) -> s.MetricsOut:
    """`figures` None: never computed yet, every figure null while they are computed."""
    if figures is None:
        return s.MetricsOut(
            currency=currency,
            as_of=today,
            mrr=None,
            arr=None,
            mrr_change=None,
            arr_change=None,
            mrr_by_month=None,
            next_30_days=None,
            overdue=None,
            invoiced_by_month=None,
            computed_at=None,
            refreshing=True,
        )

    def months(found: list[MonthFigure]) -> list[s.MonthAmountOut]:
        return [s.MonthAmountOut(month=m.month, total=money(m.amount, currency)) for m in found]

    return s.MetricsOut(
        currency=currency,
        as_of=figures.as_of,
        mrr=money(figures.mrr, currency),
        arr=money(figures.arr, currency),
        mrr_change=money(figures.mrr_change, currency),
        arr_change=money(figures.arr_change, currency),
        mrr_by_month=months(figures.mrr_by_month),
        next_30_days=money(figures.next_30_days, currency),
        overdue=money(figures.overdue, currency),
        invoiced_by_month=months(figures.invoiced_by_month),
        computed_at=figures.computed_at,
        refreshing=figures.refreshing,
    )


def forecast_document(document: IssuedInvoice) -> s.PendingInvoiceOut:
    """A document of a forecast job, as a pending invoice is shown."""
    currency = document.currency
    return s.PendingInvoiceOut(
        tax_treatment=document.tax_treatment,
        tax_breakdown=tax_breakdown(document.tax_breakdown, currency),
        account_id=document.account_id,
        type=InvoiceType(document.type),
        issue_date=document.issue_date,
        due_date=document.due_date,
        currency=currency,
        subtotal=money(document.subtotal, currency),
        tax=money(document.tax, currency),
        total=money(document.total, currency),
        items=[invoice_item(item, currency) for item in document.items],
    )


def forecast_job(job: ForecastJob, documents_url: str) -> s.ForecastJobOut:
    return s.ForecastJobOut(
        id=job.id,
        as_of=job.as_of,
        months=job.months,
        status=job.status,
        requested_by=job.requested_by,
        started_at=job.started_at,
        finished_at=job.finished_at,
        documents=job.documents,
        error=job.error,
        documents_url=documents_url,
    )


def audit_event(event: AuditEvent) -> s.AuditEventOut:
    return s.AuditEventOut(
        id=event.id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        door=event.door,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        detail=event.detail,
    )
