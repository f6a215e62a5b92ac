"""SPEC §8, step by step, to the cent, on SQLite and PostgreSQL."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, ChargeKind
from recur.services import accounts, billing_run, catalogue, invoicing, subscriptions

D = Decimal


@dataclass
class Acme:
    account: int
    s1: int
    s2: int
    s3: int


def _option(
    db: Database, sku: str, name: str, price: str, billing_type: BillingType, setup: str = "0"
) -> int:
    spec = catalogue.PricingOptionSpec(
        "monthly", BillingCycle.MONTHLY, billing_type, D(price), "EUR", D(setup)
    )
    return (
        catalogue.create_product(db, catalogue.ProductSpec(sku, name, [spec]), "test")
        .pricing_options[0]
        .id
    )


@pytest.fixture
def acme(db: Database) -> Acme:
    o365 = _option(db, "O365-E3", "Office 365 E3", "12.50", BillingType.PREPAID)
    backup = _option(
        db, "BACKUP-1TB", "Cloud Backup 1 TB", "20.00", BillingType.PREPAID, setup="50.00"
    )
    azure = _option(db, "AZURE", "Azure usage", "100.00", BillingType.POSTPAID)
    spec = accounts.AccountSpec("Acme Ltd", "ap@acme.test", "EUR", billing_day=11, tax_rate=D(24))
    account = accounts.create_account(db, spec, "test").id

    def order(option: int, quantity: int, start: date) -> int:
        sub_spec = subscriptions.SubscriptionSpec(account, option, quantity, start)
        return subscriptions.create_subscription(db, sub_spec, "test").id

    acme = Acme(
        account,
        order(o365, 10, date(2027, 1, 11)),
        order(backup, 1, date(2027, 1, 20)),
        order(azure, 1, date(2027, 1, 11)),
    )
    # S1's January invoice was issued on 11 Jan.
    billing_run.run_billing(db, date(2027, 1, 11), date(2027, 1, 11), "test")
    return acme


def _summary(
    preview: invoicing.AccountPending,
) -> list[tuple[date, list[tuple[int, str, date, date, Decimal]], Decimal, Decimal, Decimal]]:
    return [
        (
            inv.issue_date,
            [
                (c.subscription_id, c.kind.value, c.period_start, c.period_last_day, c.amount)
                for c in inv.items
            ],
            inv.totals.subtotal,
            inv.totals.tax,
            inv.totals.total,
        )
        for inv in preview.invoices
    ]


def test_worked_example_step_by_step(db: Database, acme: Acme) -> None:
    s1, s2, s3 = acme.s1, acme.s2, acme.s3
    jan15 = date(2027, 1, 15)

    # Pending as of 15 Jan: S2 on 20 Jan, S1 and S3 on 11 Feb.
    assert _summary(invoicing.pending_for_account(db, acme.account, jan15)) == [
        (
            date(2027, 1, 20),
            [
                (s2, "setup", date(2027, 1, 20), date(2027, 1, 20), D("50.00")),
                (
                    s2,
                    "recurring",
                    date(2027, 1, 20),
                    date(2027, 2, 10),
                    D("14.19"),
                ),  # 20.00 × 22/31
            ],
            D("64.19"),
            D("15.41"),
            D("79.60"),
        ),
        (
            date(2027, 2, 11),
            [
                (s1, "recurring", date(2027, 2, 11), date(2027, 3, 10), D("125.00")),
                (s3, "recurring", date(2027, 1, 11), date(2027, 2, 10), D("100.00")),
            ],
            D("225.00"),
            D("54.00"),
            D("279.00"),
        ),
    ]

    # Generate manually on 15 Jan for S1 and S3: one invoice dated today.
    [manual] = invoicing.generate_for_account(
        db, acme.account, [s1, s3], jan15, "user:op@acme.test"
    ).invoices
    assert (manual.issue_date, manual.due_date, manual.source, manual.generated_by) == (
        jan15,
        date(2027, 2, 14),
        "manual",
        "user:op@acme.test",
    )
    assert (manual.subtotal, manual.tax, manual.total) == (D("225.00"), D("54.00"), D("279.00"))
    assert [(i.subscription_id, i.period_start, i.period_end, i.amount) for i in manual.items] == [
        (s1, date(2027, 2, 11), date(2027, 3, 10), D("125.00")),
        (s3, date(2027, 1, 11), date(2027, 2, 10), D("100.00")),
    ]
    assert manual.number == "INV-2027-000002"

    # The preview has moved on a period for S1 and S3; S2 is unchanged.
    after = _summary(invoicing.pending_for_account(db, acme.account, jan15))
    assert [(d, st, t, tot) for d, _, st, t, tot in after] == [
        (date(2027, 1, 20), D("64.19"), D("15.41"), D("79.60")),
        (date(2027, 3, 11), D("225.00"), D("54.00"), D("279.00")),
    ]
    assert after[1][1] == [
        (s1, "recurring", date(2027, 3, 11), date(2027, 4, 10), D("125.00")),
        (s3, "recurring", date(2027, 2, 11), date(2027, 3, 10), D("100.00")),
    ]

    # A run as of 20 Jan issues S2's 79.60 invoice.
    run = billing_run.run_billing(db, date(2027, 1, 20), date(2027, 1, 20), "test")
    assert (run.invoices_issued, run.charges_issued) == (1, 2)
    jan20 = _invoices(db, date(2027, 1, 20))
    assert [(i.total, [it.kind for it in i.items]) for i in jan20] == [
        (D("79.60"), [ChargeKind.SETUP, ChargeKind.RECURRING])
    ]

    # A run as of 11 Feb issues only S2 [11 Feb, 11 Mar): 20.00 + 4.80 = 24.80.
    billing_run.run_billing(db, date(2027, 2, 11), date(2027, 2, 11), "test")
    [feb] = _invoices(db, date(2027, 2, 11))
    assert [(i.subscription_id, i.period_start, i.period_end) for i in feb.items] == [
        (s2, date(2027, 2, 11), date(2027, 3, 10))
    ]
    assert (feb.subtotal, feb.tax, feb.total, feb.source) == (
        D("20.00"),
        D("4.80"),
        D("24.80"),
        "automatic",
    )

    # Idempotent: the same run again issues nothing; S1 and S3 are next billed on 11 Mar.
    assert (
        billing_run.run_billing(db, date(2027, 2, 11), date(2027, 2, 11), "test").invoices_issued
        == 0
    )
    march = invoicing.pending_for_account(db, acme.account, date(2027, 2, 11))
    assert {(inv.issue_date, tuple(inv.subscription_ids)) for inv in march.invoices} == {
        (date(2027, 3, 11), (s1, s2, s3))
    }


def test_subscription_preview_and_generation_for_one_subscription(db: Database, acme: Acme) -> None:
    jan15 = date(2027, 1, 15)
    [preview] = invoicing.pending_for_subscription(db, acme.s2, jan15)
    assert (preview.issue_date, preview.totals.total) == (date(2027, 1, 20), D("79.60"))

    [issued] = invoicing.generate_for_subscription(db, acme.s2, jan15, "user:op@acme.test").invoices
    assert (issued.issue_date, issued.total, len(issued.items)) == (jan15, D("79.60"), 2)
    # Its first full period comes next, on 11 Feb.
    [moved] = invoicing.pending_for_subscription(db, acme.s2, jan15)
    assert (moved.issue_date, moved.totals.total) == (date(2027, 2, 11), D("24.80"))


def test_idempotency_key_returns_the_first_result(db: Database, acme: Acme) -> None:
    jan15 = date(2027, 1, 15)
    first = invoicing.generate_for_account(
        db, acme.account, [acme.s1], jan15, "op", idempotency_key="k-1"
    )
    again = invoicing.generate_for_account(
        db, acme.account, [acme.s1], jan15, "op", idempotency_key="k-1"
    )
    assert (first.replayed, again.replayed) == (False, True)
    assert again.invoices == first.invoices
    assert len(invoicing.list_invoices(db).items) == 2  # the 11 Jan run's and this one


def _invoices(db: Database, issued: date) -> list[invoicing.Invoice]:
    page = invoicing.list_invoices(
        db, invoicing.InvoiceFilter(issued_from=issued, issued_to=issued)
    )
    return page.items
