"""Office > Accounts: the list, an account's pages, and manual generation for an account."""

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from recur.csv_export import ACCOUNT_COLUMNS, csv_response
from recur.domain.accounts import Account
from recur.domain.catalogue import InvoiceGrouping, PartialCharges
from recur.domain.charges import Charge
from recur.domain.errors import DomainError
from recur.domain.identity import TaxTreatment
from recur.domain.invoices import InvoiceTotals, PendingInvoice, totals_by_currency
from recur.domain.issued import Invoice
from recur.domain.subscriptions import Subscription
from recur.domain.users import User
from recur.services import accounts, invoicing, receivables, subscriptions
from recur.services.invoicing import InvoiceFilter
from recur.services.validation import TAX_RATE_PLACES
from recur.web.address import address_fields, address_values, read_address
from recur.web.auth import check_csrf, ctx, operator, viewer
from recur.web.errors import found, refusal_status
from recur.web.forms import Form, sentence
from recur.web.params import ListQuery, PageId, ids_named_by
from recur.web.posted import Posted
from recur.web.templating import render

router = APIRouter()

ACCOUNT_FIELDS = {
    "name",
    "email",
    "currency",
    "billing_day",
    "partial_charges",
    "invoice_grouping",
    "payment_terms_days",
    "tax_rate",
    "status",
}
IDENTITY_TEXTS = ("tax_id", "tax_treatment", "tax_exemption_reason")
DELIVERY_FIELDS = {"billing_email", "cc_emails", "auto_send"}
FORM_FIELDS = (
    ACCOUNT_FIELDS | set(IDENTITY_TEXTS) | address_fields("billing_address") | DELIVERY_FIELDS
)


@router.get("/accounts")
def account_list(
    request: Request, view: ListQuery, q: str | None = None, user: User = Depends(viewer)
) -> Response:
    db = ctx(request).db
    search = q or None
    if view.csv:
        return csv_response(
            "accounts",
            ACCOUNT_COLUMNS,
            lambda at, size: accounts.list_accounts(db, search, size, at, view.sort),
            ctx(request).clock.today(),
        )
    page = accounts.list_accounts(db, search, view.limit, view.cursor, view.sort)
    summaries = accounts.account_summaries(db, [a.id for a in page.items])
    return render(request, "accounts/list.html", page=page, summaries=summaries, q=q or "")


@router.get("/accounts/new")
def account_new(request: Request, user: User = Depends(operator)) -> Response:
    return _account_form(request, None, _defaults())


@router.post("/accounts", dependencies=[Depends(check_csrf)])
def account_create(request: Request, form: Posted, user: User = Depends(operator)) -> Response:
    values = _read_account(form)
    _check_all(form, values)
    if form.ok:
        try:
            spec = accounts.AccountSpec(**values)
            account = accounts.create_account(ctx(request).db, spec, actor=user.actor)
            return RedirectResponse(f"/accounts/{account.id}", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, FORM_FIELDS)
    return _account_form(request, None, form.data, form.errors, status_code=422)


@router.get("/accounts/{account_id}")
def account_overview(
    request: Request, account_id: PageId, user: User = Depends(viewer)
) -> Response:
    db = ctx(request).db
    account = found(accounts.get_account, db, account_id)
    summary = accounts.account_summaries(db, [account_id])[account_id]
    issued, subs = accounts.account_counts(db, account_id)
    return render(
        request,
        "accounts/overview.html",
        account=account,
        section="overview",
        summary=summary,
        invoice_count=issued,
        subscription_count=subs,
        balances=receivables.account_balance(db, account_id),
    )


@router.get("/accounts/{account_id}/edit")
def account_edit(request: Request, account_id: PageId, user: User = Depends(operator)) -> Response:
    account = found(accounts.get_account, ctx(request).db, account_id)
    values = {name: getattr(account, name) for name in ACCOUNT_FIELDS}
    values["billing_day"] = "" if account.billing_day is None else account.billing_day
    values |= {name: getattr(account, name) or "" for name in IDENTITY_TEXTS}
    values |= address_values(account.billing_address, "billing_address")
    values |= {
        "billing_email": account.billing_email or "",
        "cc_emails": ", ".join(account.cc_emails),
        "auto_send": account.auto_send,
    }
    return _account_form(request, account, values)


@router.post("/accounts/{account_id}/edit", dependencies=[Depends(check_csrf)])
def account_update(
    request: Request, form: Posted, account_id: PageId, user: User = Depends(operator)
) -> Response:
    db = ctx(request).db
    account = found(accounts.get_account, db, account_id)
    values = _read_account(form)
    values["status"] = form.text("status") or account.status
    _check_all(form, values)
    if form.ok:
        try:
            accounts.update_account(db, account_id, values, actor=user.actor)
            return RedirectResponse(f"/accounts/{account_id}", status_code=303)
        except DomainError as error:
            form.add_domain_error(error, FORM_FIELDS)
    return _account_form(request, account, form.data, form.errors, status_code=422)


@router.get("/accounts/{account_id}/subscriptions")
def account_subscriptions(
    request: Request, account_id: PageId, view: ListQuery, user: User = Depends(viewer)
) -> Response:
    db = ctx(request).db
    account = found(accounts.get_account, db, account_id)
    subs = subscriptions.list_subscriptions(
        db, account_id=account_id, limit=view.limit, cursor=view.cursor, sort=view.sort
    )
    return render(
        request,
        "accounts/subscriptions.html",
        account=account,
        section="subscriptions",
        subscriptions=subs,
        status_of=subscriptions.effective_status,
    )


@router.get("/accounts/{account_id}/pending")
def account_pending(
    request: Request,
    account_id: PageId,
    generated: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    created = _created_invoices(request, account_id, generated)
    return _pending_page(request, account_id, created=created)


@router.get("/accounts/{account_id}/generate")
def account_generate_form(
    request: Request, account_id: PageId, user: User = Depends(operator)
) -> Response:
    return _pending_page(request, account_id, dialog=GenerateDialog(key=str(uuid.uuid4())))


@router.post("/accounts/{account_id}/generate", dependencies=[Depends(check_csrf)])
def account_generate(
    request: Request, form: Posted, account_id: PageId, user: User = Depends(operator)
) -> Response:
    dialog = GenerateDialog(
        key=form.text("idempotency_key") or str(uuid.uuid4()),
        selected=ids_named_by(form.values("selected")),
        ticked=ids_named_by(form.values("candidate")),
    )
    removed = ids_named_by(form.values("remove"))
    if removed:  # a Remove button was pressed
        dialog.selected = [s for s in dialog.selected if s not in removed]
        return _pending_page(request, account_id, dialog=dialog)
    if form.text("action") == "insert":  # Insert to Selected: the ticks move to Selected
        dialog.selected += [sid for sid in dialog.ticked if sid not in dialog.selected]
        dialog.ticked = []
        return _pending_page(request, account_id, dialog=dialog)
    if not dialog.selected:
        dialog.error = "Tick one or more subscriptions and press Insert to Selected first."
        return _pending_page(request, account_id, dialog=dialog, status_code=422)
    try:
        issued = invoicing.generate_for_account(
            ctx(request).db,
            account_id,
            dialog.selected,
            ctx(request).clock.today(),
            actor=user.actor,
            idempotency_key=dialog.key,
        )
    except DomainError as error:
        dialog.error = sentence(error.message)
        return _pending_page(request, account_id, dialog=dialog, status_code=refusal_status(error))
    ids = ",".join(str(inv.id) for inv in issued.invoices)
    return RedirectResponse(f"/accounts/{account_id}/pending?generated={ids}", status_code=303)


@router.get("/accounts/{account_id}/invoices")
def account_invoices(
    request: Request, account_id: PageId, view: ListQuery, user: User = Depends(viewer)
) -> Response:
    db = ctx(request).db
    account = found(accounts.get_account, db, account_id)
    where = InvoiceFilter(account_id=account_id)
    page = invoicing.list_invoice_rows(db, where, view.limit, view.cursor, view.sort)
    return render(request, "accounts/invoices.html", account=account, section="invoices", page=page)


@dataclass
class GenerateDialog:
    """The Generate Invoices pop-up's state: its idempotency key, the Selected list and
    the rows ticked but not inserted yet (kept when the server answers with an error)."""

    key: str
    selected: list[int] = field(default_factory=list)
    ticked: list[int] = field(default_factory=list)
    error: str | None = None
    open: bool = True


@dataclass(frozen=True)
class Candidate:
    """A subscription as the pop-up lists it: each charge it would bill if selected, with
    its period, planned date and amount."""

    subscription: Subscription
    charges: list[Charge]


@dataclass(frozen=True)
class Issuing:
    """What the Selected list will issue, from the engine's preview of exactly it."""

    documents: list[PendingInvoice]
    totals: dict[str, InvoiceTotals]


def _pending_page(
    request: Request,
    account_id: int,
    dialog: GenerateDialog | None = None,
    created: list[Invoice] | None = None,
    status_code: int = 200,
) -> Response:
    db = ctx(request).db
    today = ctx(request).clock.today()
    preview = found(invoicing.pending_for_account, db, account_id, today)
    dialog = dialog or GenerateDialog(key=str(uuid.uuid4()), open=False)
    # Every subscription with something pending is a candidate, however many there are;
    # they are read only when the pop-up is shown.
    subs = (
        subscriptions.get_subscriptions(db, account_id, preview.subscription_ids)
        if dialog.open
        else []
    )
    return render(
        request,
        "accounts/pending.html",
        status_code=status_code,
        account=found(accounts.get_account, db, account_id),
        section="generate" if dialog.open else "pending",
        preview=preview,
        behind=_charges_behind(preview.invoices),
        subs_by_id={s.id: s for s in subs},
        candidates=_candidates(subs, preview.invoices),
        issuing=_issuing(request, account_id, dialog, today),
        dialog=dialog,
        created=created or [],
    )


def _issuing(request: Request, account_id: int, dialog: GenerateDialog, today: date) -> Issuing:
    """The Selected list's documents and totals; a selection the generation would refuse
    says why instead."""
    try:
        documents = invoicing.preview_generation(
            ctx(request).db, account_id, dialog.selected, today
        )
    except DomainError as error:
        dialog.error = dialog.error or sentence(error.message)
        documents = []
    return Issuing(documents, totals_by_currency(documents))


def _candidates(subs: list[Subscription], pending: list[PendingInvoice]) -> list[Candidate]:
    charges_of: dict[int, list[Charge]] = {}
    for invoice in pending:
        for item in invoice.items:
            charges_of.setdefault(item.subscription_id, []).append(item)
    return [Candidate(sub, charges_of.get(sub.id, [])) for sub in subs]


def _charges_behind(pending: list[PendingInvoice]) -> list[Any]:
    """Every pending item, by subscription: the table under the pending invoices."""
    items = [item for invoice in pending for item in invoice.items]
    return sorted(items, key=lambda c: (c.subscription_id, c.period_start, c.kind.value))


def _created_invoices(request: Request, account_id: int, generated: str | None) -> list[Invoice]:
    if not generated:
        return []
    db = ctx(request).db
    created = [found(invoicing.get_invoice, db, i) for i in ids_named_by(generated.split(","))]
    return [inv for inv in created if inv.account_id == account_id]


def _defaults() -> dict[str, Any]:
    return {
        "name": "",
        "email": "",
        "currency": "EUR",
        "billing_day": "",
        "partial_charges": PartialCharges.ON_ORDER_DAY.value,
        "invoice_grouping": InvoiceGrouping.CONSOLIDATED.value,
        "payment_terms_days": 30,
        "tax_rate": "0",
        "status": "active",
        "tax_treatment": TaxTreatment.STANDARD.value,
    }


def _read_account(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": form.required("name"),
        "email": form.required("email"),
        "currency": form.required("currency").upper(),
        "billing_day": form.integer("billing_day", optional=True),
        "partial_charges": form.text("partial_charges") or PartialCharges.ON_ORDER_DAY.value,
        "invoice_grouping": form.text("invoice_grouping") or InvoiceGrouping.CONSOLIDATED.value,
        "payment_terms_days": form.integer("payment_terms_days"),
        "tax_rate": form.decimal("tax_rate", TAX_RATE_PLACES, default=Decimal(0)),
        "billing_address": read_address(form, "billing_address"),
        "tax_id": form.text("tax_id"),
        "tax_treatment": form.text("tax_treatment") or TaxTreatment.STANDARD.value,
        "tax_exemption_reason": form.text("tax_exemption_reason"),
        "billing_email": form.text("billing_email") or None,
        "cc_emails": [a.strip() for a in form.text("cc_emails").split(",") if a.strip()],
        "auto_send": form.flag("auto_send"),
    }
    for name, enum in (("partial_charges", PartialCharges), ("invoice_grouping", InvoiceGrouping)):
        if values[name] not in {e.value for e in enum}:
            form.errors[name] = "Choose one of the options."
    return values


def _check_all(form: Form, values: dict[str, Any]) -> None:
    """Every problem of the form at once: the services' rules on each value the form
    could read, beside what it could not."""
    readable = {name: value for name, value in values.items() if name not in form.errors}
    _, problems = accounts.account_problems(readable)
    for problem in problems:
        form.add_domain_error(problem, FORM_FIELDS)


def _account_form(
    request: Request,
    account: Account | None,
    values: Any,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "accounts/form.html",
        status_code=status_code,
        account=account,
        section="overview",
        values=values,
        errors=errors or {},
        partial_charges=list(PartialCharges),
        groupings=list(InvoiceGrouping),
    )
