"""SPEC §14 (changes, adjustments, credit notes), step by step, to the cent, on SQLite and
PostgreSQL, through the services. SPEC §8 is tests/integration/test_worked_example.py."""

from datetime import date
from decimal import Decimal

from recur.db.session import Database
from recur.domain.catalogue import CancelAt, InvoiceType
from recur.services.changes import (
    ChangeSpec,
    list_changes,
    preview_cancellation,
    preview_change,
)
from recur.services.invoicing import (
    InvoiceFilter,
    list_invoices,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription, in_force

from .factories import ACTOR, account, invoices, subscribe
from .lifecycle import (
    DAY,
    Timeline,
    assert_documents_whole,
    bill,
    billed_per_day,
    change,
    expected_per_day,
    header,
    lines,
    new_documents,
    option,
    pending_lines,
)

D = Decimal


def test_changes_worked_example_step_by_step(db: Database) -> None:
    beta = account(db, "Beta GmbH", billing_day=1, tax_rate="20", payment_terms_days=14)
    e3 = option(db, "Microsoft 365 E3", "30.00")
    e5 = option(db, "Microsoft 365 E5", "50.00")
    s1 = subscribe(db, beta, e3, date(2027, 3, 1), quantity=10)
    timeline = Timeline(date(2027, 3, 1), 10, e3)

    # 2027-03-01, run: INV-2027-000001, S1 [1 Mar – 31 Mar] 10 × 30.00.
    assert bill(db, date(2027, 3, 1)) == (1, 1)
    (inv1,) = invoices(db, beta)
    assert header(inv1) == (
        "INV-2027-000001",
        "invoice",
        date(2027, 3, 1),
        date(2027, 3, 15),
        D("300.00"),
        D("60.00"),
        D("360.00"),
    )
    assert lines(inv1) == [
        ("recurring", 10, D("30.00"), date(2027, 3, 1), date(2027, 3, 31), D("300.00"))
    ]

    # 2027-03-11: quantity 15, now. The preview before it is confirmed, and after.
    mar11 = date(2027, 3, 11)
    expected_mar11 = [
        (
            mar11,
            "invoice",
            date(2027, 3, 25),
            [("adjustment", 5, D("30.00"), mar11, date(2027, 3, 31), D("101.61"))],
            D("101.61"),
            D("20.32"),
            D("121.93"),
        ),
        (
            date(2027, 4, 1),
            "invoice",
            date(2027, 4, 15),
            [("recurring", 15, D("30.00"), date(2027, 4, 1), date(2027, 4, 30), D("450.00"))],
            D("450.00"),
            D("90.00"),
            D("540.00"),
        ),
    ]
    shown = preview_change(db, s1, ChangeSpec(quantity=15), mar11)
    assert pending_lines(shown) == expected_mar11
    assert list_changes(db, s1, mar11) == []  # the preview stored nothing
    assert in_force(db, s1, mar11) == (10, e3)
    made = change(db, s1, mar11, quantity=15)
    timeline.add(made)
    assert (made.effective_date, made.quantity, made.pricing_option_id) == (mar11, 15, None)
    assert made.withdrawable is False
    assert in_force(db, s1, mar11) == (15, e3)
    assert in_force(db, s1, mar11 - DAY) == (10, e3)
    preview = pending_for_account(db, beta, mar11).invoices
    assert pending_lines(preview) == expected_mar11
    (adjustment,) = preview[0].items
    assert adjustment.corrects_invoice_id == inv1.id
    assert "21/31" in adjustment.explanation
    assert "30.00" in adjustment.explanation

    before = invoices(db, beta)
    assert bill(db, mar11) == (1, 1)
    (inv2,) = new_documents(db, before, beta)
    assert header(inv2) == (
        "INV-2027-000002",
        "invoice",
        mar11,
        date(2027, 3, 25),
        D("101.61"),
        D("20.32"),
        D("121.93"),
    )
    assert lines(inv2) == [("adjustment", 5, D("30.00"), mar11, date(2027, 3, 31), D("101.61"))]
    assert inv2.items[0].corrects_invoice_id == inv1.id
    assert inv2.items[0].explanation == adjustment.explanation

    # 2027-03-20: switch to E5, now. The run issues a credit note and an invoice.
    mar20 = date(2027, 3, 20)
    timeline.add(change(db, s1, mar20, option_id=e5))
    assert in_force(db, s1, mar20) == (15, e5)
    before = invoices(db, beta)
    assert bill(db, mar20) == (2, 2)
    by_number = {inv.number: inv for inv in new_documents(db, before, beta)}
    assert set(by_number) == {"CN-2027-000001", "INV-2027-000003"}
    cn1, inv3 = by_number["CN-2027-000001"], by_number["INV-2027-000003"]
    assert header(cn1) == (
        "CN-2027-000001",
        "credit",
        mar20,
        mar20,
        D("-174.19"),
        D("-34.84"),
        D("-209.03"),
    )
    assert lines(cn1) == [("adjustment", -15, D("30.00"), mar20, date(2027, 3, 31), D("-174.19"))]
    assert cn1.items[0].corrects_invoice_id == inv1.id
    assert header(inv3) == (
        "INV-2027-000003",
        "invoice",
        mar20,
        date(2027, 4, 3),
        D("290.32"),
        D("58.06"),
        D("348.38"),
    )
    assert lines(inv3) == [("adjustment", 15, D("50.00"), mar20, date(2027, 3, 31), D("290.32"))]
    assert inv3.items[0].corrects_invoice_id == inv1.id  # the invoice that first billed March

    # 2027-03-25: quantity 12 from 2027-04-10; April is split in two runs of days.
    mar25, apr10 = date(2027, 3, 25), date(2027, 4, 10)
    made = change(db, s1, mar25, quantity=12, effective="2027-04-10")
    timeline.add(made)
    assert (made.effective_date, made.withdrawable) == (apr10, True)
    listed = list_changes(db, s1, mar25)
    assert [
        (c.effective_date, c.quantity, c.pricing_option_id, c.withdrawable) for c in listed
    ] == [
        (mar11, 15, None, False),
        (mar20, None, e5, False),
        (apr10, 12, None, True),
    ]
    assert in_force(db, s1, apr10 - DAY) == (15, e5)
    assert in_force(db, s1, apr10) == (12, e5)
    april = [
        (
            date(2027, 4, 1),
            "invoice",
            date(2027, 4, 15),
            [
                ("recurring", 15, D("50.00"), date(2027, 4, 1), date(2027, 4, 9), D("225.00")),
                ("recurring", 12, D("50.00"), apr10, date(2027, 4, 30), D("420.00")),
            ],
            D("645.00"),
            D("129.00"),
            D("774.00"),
        )
    ]
    assert pending_lines(pending_for_account(db, beta, mar25).invoices) == april
    assert pending_lines(pending_for_subscription(db, s1, mar25)) == april
    assert bill(db, mar25) == (0, 0)

    # 2027-04-01, run: INV-2027-000004, those two items.
    before = invoices(db, beta)
    assert bill(db, date(2027, 4, 1)) == (1, 2)
    (inv4,) = new_documents(db, before, beta)
    assert header(inv4) == (
        "INV-2027-000004",
        "invoice",
        date(2027, 4, 1),
        date(2027, 4, 15),
        D("645.00"),
        D("129.00"),
        D("774.00"),
    )
    assert lines(inv4) == april[0][3]
    assert all(i.corrects_invoice_id is None for i in inv4.items)

    # 2027-04-16: cancel now. The preview shows the credit note before it is confirmed.
    apr16 = date(2027, 4, 16)
    credit = [
        (
            apr16,
            "credit",
            apr16,
            [("adjustment", -12, D("50.00"), apr16, date(2027, 4, 30), D("-300.00"))],
            D("-300.00"),
            D("-60.00"),
            D("-360.00"),
        )
    ]
    assert pending_lines(preview_cancellation(db, s1, CancelAt.NOW, apr16)) == credit
    # Nothing stored by the preview: May is still pending, at 12 × 50.00.
    assert pending_lines(pending_for_account(db, beta, apr16).invoices) == [
        (
            date(2027, 5, 1),
            "invoice",
            date(2027, 5, 15),
            [("recurring", 12, D("50.00"), date(2027, 5, 1), date(2027, 5, 31), D("600.00"))],
            D("600.00"),
            D("120.00"),
            D("720.00"),
        )
    ]
    cancelled = cancel_subscription(db, s1, CancelAt.NOW, apr16, ACTOR)
    assert cancelled.end_date == apr16
    timeline.end = apr16
    assert pending_lines(pending_for_account(db, beta, apr16).invoices) == credit
    before = invoices(db, beta)
    assert bill(db, apr16) == (1, 1)
    (cn2,) = new_documents(db, before, beta)
    assert header(cn2) == (
        "CN-2027-000002",
        "credit",
        apr16,
        apr16,
        D("-300.00"),
        D("-60.00"),
        D("-360.00"),
    )
    assert lines(cn2) == credit[0][3]
    assert cn2.items[0].corrects_invoice_id == inv4.id

    # Nothing is pending after it, now or later; a run issues nothing more.
    assert pending_for_account(db, beta, apr16).invoices == []
    assert pending_for_account(db, beta, date(2027, 7, 1)).invoices == []
    assert bill(db, date(2027, 7, 1)) == (0, 0)

    # Every day billed, net, at what was in force: 10 / 15 E3, 15 / 12 E5, then nothing.
    billed = billed_per_day(db, s1, {D("30.00"): e3, D("50.00"): e5})
    assert billed == expected_per_day(timeline, sorted(billed))
    assert min(billed) == date(2027, 3, 1)
    assert max(billed) == date(2027, 4, 30)
    assert_documents_whole(db, {beta: D(20)})
    numbers = {
        kind: [inv.number for inv in list_invoices(db, InvoiceFilter(type=kind)).items]
        for kind in InvoiceType
    }
    assert {kind: sorted(found) for kind, found in numbers.items()} == {
        InvoiceType.INVOICE: [f"INV-2027-00000{n}" for n in range(1, 5)],
        InvoiceType.CREDIT: ["CN-2027-000001", "CN-2027-000002"],
    }
