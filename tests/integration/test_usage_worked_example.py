"""SPEC §15, step by step, to the cent, through the services, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from recur.db.models import Subscription, UsageRecord
from recur.db.session import Database
from recur.domain.errors import Conflict, InvalidInput
from recur.domain.invoices import PendingInvoice
from recur.domain.issued import InvoiceFilter
from recur.services import billing_run, invoicing, usage
from tests.integration.factories import ACTOR, account, subscribe
from tests.integration.usage import azure_option, rec

D = Decimal
Shown = tuple[date, list[tuple[str | None, date, date, Decimal | None, Decimal]], Decimal, Decimal]


def shown(invoices: list[PendingInvoice]) -> list[Shown]:
    return [
        (
            inv.issue_date,
            [
                (
                    c.usage and c.usage.meter.code,
                    c.period_start,
                    c.period_last_day,
                    c.usage and c.usage.quantity,
                    c.amount,
                )
                for c in inv.items
            ],
            inv.totals.subtotal,
            inv.totals.total,
        )
        for inv in invoices
    ]


def billed_by(db: Database) -> dict[str, int | None]:
    with db.read() as session:
        return dict(session.execute(select(UsageRecord.id, UsageRecord.invoice_item_id)).all())


def next_charge(db: Database, sub: int) -> date | None:
    with db.read() as session:
        return session.get_one(Subscription, sub).next_charge_date


@pytest.fixture
def acme_u1(db: Database) -> tuple[int, int]:
    """Acme Ltd of §8 (billing day 11, tax 24 %) and U1, its Azure plan from 2027-01-11."""
    acme = account(db, billing_day=11, tax_rate="24")
    return acme, subscribe(db, acme, azure_option(db), date(2027, 1, 11))


def test_usage_worked_example_step_by_step(db: Database, acme_u1: tuple[int, int]) -> None:
    acme, u1 = acme_u1
    assert next_charge(db, u1) is None  # nothing to bill without records
    for day, record in [
        ("2027-01-15", rec("r1", u1, "vm.hours", "120.5", "2027-01-15")),
        ("2027-01-31", rec("r2", u1, "vm.hours", "300", "2027-01-31")),
        ("2027-02-01", rec("r3", u1, "storage.gb", "512", "2027-02-01")),
    ]:
        assert usage.ingest(db, [record], date.fromisoformat(day), ACTOR).accepted == 1
    again = rec("r2", u1, "vm.hours", "300", "2027-01-31")
    assert usage.ingest(db, [again], date(2027, 2, 1), ACTOR) == usage.Ingested(0, 1)
    assert next_charge(db, u1) == date(2027, 2, 14)

    jan11, feb10 = date(2027, 1, 11), date(2027, 2, 10)
    expected = [
        (
            date(2027, 2, 14),
            [
                ("vm.hours", jan11, feb10, D("420.5"), D("40.37")),
                ("storage.gb", jan11, feb10, D("512"), D("10.24")),
            ],
            D("50.61"),
            D("62.76"),
        )
    ]
    preview = invoicing.pending_for_account(db, acme, date(2027, 2, 1))
    assert shown(preview.invoices) == expected
    assert preview.invoices[0].totals.tax == D("12.15")
    assert [c.explanation for c in preview.invoices[0].items] == [
        "420.5 hours × 0.096, 2 records (11 Jan – 10 Feb 2027)",
        "512 GB × 0.02, 1 record (11 Jan – 10 Feb 2027)",
    ]

    assert (
        billing_run.run_billing(db, date(2027, 2, 13), date(2027, 2, 13), ACTOR).invoices_issued
        == 0
    )
    run = billing_run.run_billing(db, date(2027, 2, 14), date(2027, 2, 14), ACTOR)
    (issued,) = invoicing.list_invoices(db, InvoiceFilter(account_id=acme)).items
    assert run.invoices_issued == 1
    assert (issued.issue_date, issued.subtotal, issued.tax, issued.total) == (
        date(2027, 2, 14),
        D("50.61"),
        D("12.15"),
        D("62.76"),
    )
    assert [(i.meter, i.usage_quantity, i.amount) for i in issued.items] == [
        ("vm.hours", D("420.5"), D("40.37")),
        ("storage.gb", D("512"), D("10.24")),
    ]
    links = billed_by(db)
    assert None not in links.values()
    assert len(set(links.values())) == 2  # r1 and r2 on one item, r3 on the other
    assert next_charge(db, u1) is None

    late = [
        rec("r4", u1, "vm.hours", "10", "2027-02-05"),
        rec("r5", u1, "vm.hours", "50", "2027-02-20"),
    ]
    assert usage.ingest(db, late, date(2027, 2, 20), ACTOR) == usage.Ingested(2, 0)
    assert shown(invoicing.pending_for_account(db, acme, date(2027, 2, 20)).invoices) == [
        (
            date(2027, 3, 14),
            [
                ("vm.hours", jan11, feb10, D("10"), D("0.96")),
                ("vm.hours", date(2027, 2, 11), date(2027, 3, 10), D("50"), D("4.80")),
            ],
            D("5.76"),
            D("7.14"),
        )
    ]
    with pytest.raises(Conflict):
        usage.ingest(db, [rec("r5", u1, "vm.hours", "51", "2027-02-20")], date(2027, 2, 20), ACTOR)
    with pytest.raises(InvalidInput):
        usage.ingest(db, [rec("r6", u1, "gpu", "1", "2027-02-20")], date(2027, 2, 20), ACTOR)

    run = billing_run.run_billing(db, date(2027, 3, 14), date(2027, 3, 14), ACTOR)
    assert run.invoices_issued == 1
    assert None not in billed_by(db).values()
    again_run = billing_run.run_billing(db, date(2027, 3, 14), date(2027, 3, 14), ACTOR)
    assert again_run.invoices_issued == 0


def test_a_manual_generation_bills_the_records_received_so_far(
    db: Database, acme_u1: tuple[int, int]
) -> None:
    acme, u1 = acme_u1
    usage.ingest(db, [rec("r1", u1, "vm.hours", "120.5", "2027-01-15")], date(2027, 1, 15), ACTOR)
    preview = invoicing.pending_for_account(db, acme, date(2027, 1, 20)).invoices
    (manual,) = invoicing.generate_for_account(db, acme, [u1], date(2027, 1, 20), ACTOR).invoices
    assert manual.issue_date == date(2027, 1, 20)
    assert [(i.meter, i.usage_quantity, i.amount) for i in manual.items] == [
        ("vm.hours", D("120.5"), D("11.57"))
    ]
    assert [c.amount for c in preview[0].items] == [i.amount for i in manual.items]
    # The rest of the period goes out on its own date, and what was billed never again.
    usage.ingest(db, [rec("r2", u1, "vm.hours", "300", "2027-01-31")], date(2027, 1, 31), ACTOR)
    (rest,) = invoicing.pending_for_account(db, acme, date(2027, 2, 1)).invoices
    assert (rest.issue_date, [c.amount for c in rest.items]) == (date(2027, 2, 14), [D("28.80")])
    billing_run.run_billing(db, date(2027, 2, 14), date(2027, 2, 14), ACTOR)
    assert invoicing.pending_for_account(db, acme, date(2027, 2, 14)).invoices == []
    assert None not in billed_by(db).values()
