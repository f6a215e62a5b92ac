"""The invoicing and billing-run services hand the doors domain records, not ORM rows
(issue 12): a stored invoice is its issued values with its account and timestamps, and a
billing run is a plain record with its errors. Timestamps are aware UTC on both databases."""

import ast
from dataclasses import fields
from datetime import UTC, date
from pathlib import Path

import pytest

import recur.services.billing_run as billing_run
from recur.db.session import Database
from recur.domain.accounts import AccountRef
from recur.domain.billing_runs import BillingRun, BillingRunError
from recur.domain.catalogue import InvoiceStatus
from recur.domain.invoices import AccountTerms, PendingInvoice, SubscriptionState
from recur.domain.issued import Invoice, InvoiceFilter, IssuedInvoice, IssuedItem
from recur.services import invoicing, payments
from recur.services.corrections import corrected_invoices
from tests.integration.factories import ACTOR, account, product, subscribe

T = date(2027, 1, 11)


def _issued_part(invoice: Invoice) -> IssuedInvoice:
    return IssuedInvoice(**{f.name: getattr(invoice, f.name) for f in fields(IssuedInvoice)})


def test_a_stored_invoice_is_the_issued_one_with_its_account(db: Database) -> None:
    acme = account(db, "Acme Ltd", tax_rate="20")
    subs = [subscribe(db, acme, product(db, f"Plan {n}"), T, quantity=n) for n in (1, 2)]
    [issued] = invoicing.generate_for_account(db, acme, subs, T, ACTOR).invoices

    stored = invoicing.get_invoice(db, issued.id)

    assert type(stored) is Invoice
    assert _issued_part(stored) == issued  # the same values, field by field
    assert stored.account == AccountRef(acme, "Acme Ltd")
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)
    assert all(type(item) is IssuedItem for item in stored.items)
    assert {item.subscription_id for item in stored.items} == set(subs)
    assert invoicing.get_invoice_by_number(db, issued.number) == stored
    assert corrected_invoices(db, stored) == {}


def test_lists_of_invoices_are_records_and_a_table_carries_no_items(db: Database) -> None:
    acme = account(db)
    sub = subscribe(db, acme, product(db), T)
    [issued] = invoicing.generate_for_account(db, acme, [sub], T, ACTOR).invoices
    where = InvoiceFilter(account_id=acme, number=f"  {issued.number[-6:]} ")

    [full] = invoicing.list_invoices(db, where).items
    [row] = invoicing.list_invoice_rows(db, where).items

    assert full == invoicing.get_invoice(db, issued.id)
    assert row.items == ()
    assert row == Invoice(
        **{f.name: getattr(full, f.name) for f in fields(Invoice) if f.name != "items"},
        items=(),
    )


def test_paying_answers_the_paid_record(db: Database) -> None:
    acme = account(db)
    sub = subscribe(db, acme, product(db), T)
    [issued] = invoicing.generate_for_account(db, acme, [sub], T, ACTOR).invoices

    paid = payments.pay_in_full(db, issued.id, ACTOR, T)

    assert paid.status == InvoiceStatus.PAID
    assert paid.paid_at is not None
    assert paid.paid_at.tzinfo is not None
    assert invoicing.open_balance(db, acme) == 0


def test_a_billing_run_is_a_record_with_its_errors(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed, fine = account(db, "Doomed"), account(db, "Fine")
    for acct in (doomed, fine):
        subscribe(db, acct, product(db), T)
    plan = billing_run.plan_account

    def fail_for_one(
        terms: AccountTerms, states: list[SubscriptionState], as_of: date
    ) -> list[PendingInvoice]:
        if terms.account_id == doomed:
            raise RuntimeError("engine exploded")
        return plan(terms, states, as_of)

    monkeypatch.setattr(billing_run, "plan_account", fail_for_one)
    run = billing_run.run_billing(db, T, T, ACTOR)

    assert type(run) is BillingRun
    assert (run.status, run.accounts_processed, run.invoices_issued) == ("completed", 2, 1)
    [error] = run.errors
    assert type(error) is BillingRunError
    assert (error.account_id, error.code, error.message) == (
        doomed,
        "RuntimeError",
        "engine exploded",
    )
    for instant in (run.started_at, run.finished_at, run.heartbeat_at, error.occurred_at):
        assert instant is not None
        assert instant.tzinfo is not None
    assert billing_run.get_billing_run(db, run.id) == run
    assert billing_run.list_billing_runs(db).items == [run]


SRC = Path(__file__).resolve().parents[2] / "src" / "recur"
SERVICES = ["services/invoicing.py", "services/billing_run.py", "services/run_heartbeat.py"]
SERVICES += ["services/corrections.py"]
DOORS = ["api/invoices.py", "api/billing_runs.py", "web/routes/invoices.py"]
DOORS += ["web/routes/runs.py", "cli/billing.py", "cli/documents.py", "pdf/invoice.py"]
SESSION_METHODS = {"execute", "scalars", "scalar", "get", "get_one", "add", "flush", "delete"}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, and each name it imports from one (module.name)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", SERVICES)
def test_the_invoicing_services_hold_no_sql(module: str) -> None:
    path = SRC / module
    sqlalchemy = {name for name in _imports(path) if name.split(".")[0] == "sqlalchemy"}
    assert sqlalchemy <= {"sqlalchemy.orm", "sqlalchemy.orm.Session"}
    assert not any(name.startswith("recur.db.models") for name in _imports(path))
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
    }
    assert not calls & SESSION_METHODS


@pytest.mark.parametrize("module", DOORS)
def test_the_invoicing_doors_present_records(module: str) -> None:
    assert not any(name.startswith("recur.db.models") for name in _imports(SRC / module))
