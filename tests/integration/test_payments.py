"""Payments, credit notes applied and refunded, voids, balances and aging (SPEC §18), on
both databases and to the cent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recur.csv_export import aging_lines
from recur.db.models import Allocation, AuditEvent, Invoice, Payment, Refund
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, CancelAt, InvoiceStatus
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.domain.issued import Invoice as InvoiceRecord
from recur.domain.receivables import AllocationSpec, PaymentSpec, RefundSpec
from recur.services import invoicing, payments, receivables, subscriptions
from tests.integration.factories import ACTOR, account, product, subscribe

T = date(2027, 1, 11)
D = Decimal


def issue(
    db: Database, account_id: int, price: str, day: date = T, currency: str = "EUR"
) -> InvoiceRecord:
    """An invoice of `price` (a one-time charge) issued on `day`, due 30 days later."""
    option = product(db, unit_price=price, currency=currency, cycle=BillingCycle.ONE_TIME)
    sub = subscribe(db, account_id, option, day)
    [issued] = invoicing.generate_for_account(db, account_id, [sub], day, ACTOR).invoices
    return invoicing.get_invoice(db, issued.id)


def pay(
    db: Database,
    account_id: int,
    amount: str,
    *allocations: tuple[int, str],
    day: date = T,
    currency: str = "EUR",
) -> int:
    spec = PaymentSpec(
        account_id,
        D(amount),
        currency,
        day,
        "bank_transfer",
        "REF-1",
        tuple(AllocationSpec(i, D(a)) for i, a in allocations),
    )
    return payments.record_payment(db, spec, ACTOR, day).id


def state(db: Database) -> tuple[object, ...]:
    """Everything a payment writes, to show a refusal changed nothing."""
    with db.read() as session:
        return (
            session.execute(
                select(Invoice.id, Invoice.status, Invoice.amount_paid, Invoice.paid_at).order_by(
                    Invoice.id
                )
            ).all(),
            session.scalar(select(func.count()).select_from(Payment)),
            session.scalar(select(func.count()).select_from(Allocation)),
            session.scalar(select(func.count()).select_from(Refund)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def balance(db: Database, account_id: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [
        (b.currency, b.invoiced_due, b.credits, b.balance)
        for b in receivables.account_balance(db, account_id)
    ]


def test_a_partial_payment_then_the_rest(db: Database) -> None:
    acme = account(db)
    invoice = issue(db, acme, "100.00")

    pay(db, acme, "30.00", (invoice.id, "30.00"))
    part = invoicing.get_invoice(db, invoice.id)
    assert (part.status, part.amount_paid, part.amount_due) == ("partially_paid", D("30"), D("70"))
    assert part.paid_at is None
    assert balance(db, acme) == [("EUR", D("70.00"), D(0), D("70.00"))]
    assert [
        i.number
        for i in invoicing.list_invoices(
            db, invoicing.InvoiceFilter(status=InvoiceStatus.PARTIALLY_PAID)
        ).items
    ] == [invoice.number]

    paid = payments.pay_in_full(db, invoice.id, ACTOR, T)
    assert (paid.status, paid.amount_paid, paid.amount_due) == ("paid", D("100"), D(0))
    assert paid.paid_at is not None
    assert balance(db, acme) == [("EUR", D(0), D(0), D(0))]
    with pytest.raises(Conflict) as refused:
        payments.pay_in_full(db, invoice.id, ACTOR, T)
    assert refused.value.code == "invoice_not_unpaid"


def test_one_payment_over_several_invoices_leaves_its_rest_as_credit(db: Database) -> None:
    acme = account(db)
    first, second, third = (issue(db, acme, p) for p in ("33.36", "33.36", "33.35"))

    payment_id = pay(
        db, acme, "120.00", (first.id, "33.36"), (second.id, "33.36"), (third.id, "33.35")
    )

    assert {invoicing.get_invoice(db, i.id).status for i in (first, second, third)} == {"paid"}
    assert balance(db, acme) == [("EUR", D(0), D("19.93"), D("-19.93"))]
    [listed] = payments.list_payments(db, acme).items
    assert (listed.id, listed.unallocated) == (payment_id, D("19.93"))
    assert [a.amount for a in listed.allocations] == [D("33.36"), D("33.36"), D("33.35")]


def test_bad_payments_are_refused_and_change_nothing(db: Database) -> None:
    acme, beta = account(db), account(db, "Beta")
    invoice = issue(db, acme, "50.00")
    other = issue(db, beta, "10.00")
    pay(db, acme, "20.00", (invoice.id, "20.00"))
    before = state(db)

    refusals: list[tuple[tuple[object, ...], str]] = [
        (("60.00", (invoice.id, "30.00"), (invoice.id, "30.00")), "invalid_allocations"),
        (("20.00", (invoice.id, "20.01")), "over_allocated"),
        (("40.00", (invoice.id, "30.01")), "over_allocated"),
        (("10.00", (other.id, "10.00")), "invoice_of_another_account"),
        (("10.00", (999, "10.00")), "invoice_not_found"),
        (("0", (invoice.id, "0")), "invalid_amount"),
        (("10.001", (invoice.id, "10")), "invalid_amount"),
        (("10.00", (invoice.id, "-1")), "invalid_allocation_amount"),
    ]
    for (amount, *allocations), code in refusals:
        with pytest.raises(DomainError) as refused:
            pay(db, acme, amount, *allocations)  # type: ignore[arg-type]
        assert refused.value.code == code, refused.value.message
    tomorrow = T + timedelta(days=1)
    with pytest.raises(InvalidInput, match="after today"):
        payments.record_payment(
            db, PaymentSpec(acme, D(1), "EUR", tomorrow, "card", "", ()), ACTOR, T
        )
    with pytest.raises(InvalidInput, match="method"):
        payments.record_payment(db, PaymentSpec(acme, D(1), "EUR", T, "cheque", "", ()), ACTOR, T)
    with pytest.raises(Conflict, match="is in EUR, not USD"):
        pay(db, acme, "5.00", (invoice.id, "5.00"), currency="USD")
    with pytest.raises(NotFound):
        pay(db, 999, "5.00")
    assert state(db) == before


def test_undo_a_payment_reopens_its_invoices_with_an_audit_entry(db: Database) -> None:
    acme = account(db)
    first, second = issue(db, acme, "40.00"), issue(db, acme, "60.00")
    payment_id = pay(db, acme, "70.00", (first.id, "40.00"), (second.id, "30.00"))

    payments.undo_payment(db, payment_id, ACTOR)

    for invoice in (first, second):
        reopened = invoicing.get_invoice(db, invoice.id)
        assert (reopened.status, reopened.amount_paid, reopened.paid_at) == ("unpaid", 0, None)
    assert balance(db, acme) == [("EUR", D("100.00"), D(0), D("100.00"))]
    [undone] = payments.list_payments(db, acme).items
    assert undone.undone_at is not None
    assert undone.unallocated == 0
    with db.read() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["payment.recorded", "payment.undone"]
    with pytest.raises(Conflict, match="already undone"):
        payments.undo_payment(db, payment_id, ACTOR)
    with pytest.raises(NotFound):
        payments.undo_payment(db, 999, ACTOR)


def credit_note(db: Database, account_id: int) -> InvoiceRecord:
    """A credit note of 52.00: 31.00 a month from 1 Jan, January and February billed on
    1 Jan (62.00), cancelled on 11 Jan: 21 days of January and all of February back."""
    start = date(2027, 1, 1)
    sub = subscribe(db, account_id, product(db, unit_price="31.00"), start)
    invoicing.generate_for_account(db, account_id, [sub], start, ACTOR)
    subscriptions.cancel_subscription(db, sub, CancelAt.NOW, T, ACTOR)
    [note] = invoicing.generate_for_account(db, account_id, [sub], T, ACTOR).invoices
    assert (note.type, note.total) == ("credit", D("-52.00"))
    return invoicing.get_invoice(db, note.id)


def test_a_credit_note_applied_to_an_invoice_then_refunded(db: Database) -> None:
    acme = account(db)
    note = credit_note(db, acme)
    invoice = issue(db, acme, "15.00")
    assert balance(db, acme) == [("EUR", D("77.00"), D("52.00"), D("25.00"))]

    applied = payments.apply_credit_note(db, note.id, invoice.id, D("15.00"), ACTOR)

    assert (applied.status, applied.amount_remaining) == ("partially_paid", D("37.00"))
    assert invoicing.get_invoice(db, invoice.id).status == "paid"
    assert balance(db, acme) == [("EUR", D("62.00"), D("37.00"), D("25.00"))]
    before = state(db)
    with pytest.raises(Conflict, match=r"exceeds the 37\.00 left"):
        payments.refund_credit_note(db, note.id, RefundSpec(D("37.01"), T, ""), ACTOR, T)
    with pytest.raises(Conflict, match="not an open invoice"):
        payments.apply_credit_note(db, note.id, invoice.id, D("1.00"), ACTOR)
    assert state(db) == before

    refunded = payments.refund_credit_note(db, note.id, RefundSpec(D("37.00"), T, "R-9"), ACTOR, T)

    assert (refunded.status, refunded.amount_remaining) == ("paid", D(0))
    allocations, refunds = payments.settlements(db, note.id)
    assert [(a.invoice_number, a.amount) for a in allocations] == [(invoice.number, D("15.00"))]
    assert [(r.amount, r.reference) for r in refunds] == [(D("37.00"), "R-9")]
    assert balance(db, acme) == [("EUR", D("62.00"), D(0), D("62.00"))]


def test_voiding_issues_a_credit_note_for_the_full_amount(db: Database) -> None:
    acme = account(db, tax_rate="20")
    invoice = issue(db, acme, "12.34")
    assert invoice.total == D("14.81")

    voided = payments.void_invoice(db, invoice.id, ACTOR, T + timedelta(days=3))

    note = voided.credit_note
    assert (voided.invoice.status, voided.invoice.amount_due) == ("void", 0)
    assert (note.type, note.number, note.issue_date) == (
        "credit",
        "CN-2027-000001",
        date(2027, 1, 14),
    )
    assert (note.subtotal, note.tax, note.total, note.amount_remaining) == (
        D("-12.34"),
        D("-2.47"),
        D("-14.81"),
        D(0),
    )
    assert [i.corrects_invoice_id for i in note.items] == [invoice.id]
    assert invoicing.get_invoice(db, invoice.id).number == invoice.number  # never deleted
    assert balance(db, acme) == [("EUR", D(0), D(0), D(0))]
    with pytest.raises(Conflict, match="already void"):
        payments.void_invoice(db, invoice.id, ACTOR, T)
    part = issue(db, acme, "10.00")
    pay(db, acme, "1.00", (part.id, "1.00"))
    before = state(db)
    with pytest.raises(Conflict) as refused:
        payments.void_invoice(db, part.id, ACTOR, T)
    assert refused.value.code == "invoice_partly_paid"
    with pytest.raises(Conflict, match="is a credit note"):
        payments.void_invoice(db, note.id, ACTOR, T)
    assert state(db) == before


def test_overdue_follows_the_clock(db: Database) -> None:
    acme = account(db)
    invoice = issue(db, acme, "10.00")
    assert invoice.due_date == date(2027, 2, 10)

    assert not invoice.is_overdue(date(2027, 2, 10))
    assert invoice.is_overdue(date(2027, 2, 11))
    pay(db, acme, "4.00", (invoice.id, "4.00"))
    assert invoicing.get_invoice(db, invoice.id).is_overdue(date(2027, 2, 11))
    pay(db, acme, "6.00", (invoice.id, "6.00"))
    assert not invoicing.get_invoice(db, invoice.id).is_overdue(date(2027, 2, 11))


def test_aging_to_the_cent_per_currency_and_account(db: Database) -> None:
    acme, gulf = account(db), account(db, "Gulf", currency="USD")
    as_of = date(2027, 6, 30)
    # Due 30 days after issue: 0, 1, 30, 31, 60, 61, 90, 91 days past due on 30 Jun.
    for past_due, price in [
        (-5, "1.01"),
        (0, "2.02"),
        (1, "3.03"),
        (30, "4.04"),
        (31, "5.05"),
        (60, "6.06"),
        (61, "7.07"),
        (90, "8.08"),
        (91, "9.09"),
    ]:
        issue(db, acme, price, as_of - timedelta(days=30 + past_due))
    usd = issue(db, gulf, "100.00", as_of - timedelta(days=45), currency="USD")
    pay(db, gulf, "40.01", (usd.id, "40.01"), day=as_of, currency="USD")
    issue(db, acme, "50.00", as_of + timedelta(days=1))  # not issued yet on as_of

    report = receivables.aging(db, as_of)

    euros = {
        "current": D("3.03"),
        "1_30": D("7.07"),
        "31_60": D("11.11"),
        "61_90": D("15.15"),
        "over_90": D("9.09"),
    }
    dollars = dict.fromkeys(euros, D(0)) | {"1_30": D("59.99")}
    assert [(r.currency, r.buckets) for r in report.overall] == [("EUR", euros), ("USD", dollars)]
    assert [(r.account_name, r.currency, r.total) for r in report.accounts] == [
        ("Acme Ltd", "EUR", D("45.45")),
        ("Gulf", "USD", D("59.99")),
    ]
    assert [r.account_name for r in receivables.aging(db, as_of, gulf).accounts] == ["Gulf"]
    text = "".join(aging_lines(report))
    assert (
        text.count("\r\n") == len(report.accounts) + len(report.overall) + 1
    )  # as lists: RFC 4180
    lines = text.splitlines()
    assert lines[0] == "as_of,account_id,account,currency,current,1_30,31_60,61_90,over_90,total"
    assert lines[1] == f"2027-06-30,{acme},Acme Ltd,EUR,3.03,7.07,11.11,15.15,9.09,45.45"
    assert lines[-1] == "2027-06-30,,,USD,0.00,59.99,0.00,0.00,0.00,59.99"
