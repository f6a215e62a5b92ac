"""SPEC §3, §5, §6, §8: pending invoices, manual generation and billing runs."""

from datetime import date
from fractions import Fraction

import pytest

from recur.domain.catalogue import BillingType, ChargeKind, InvoiceGrouping
from recur.domain.charges import BilledState, SubscriptionTerms
from recur.domain.invoices import (
    PendingInvoice,
    SubscriptionState,
    due_invoices,
    manual_invoices,
    pending_invoices,
)

from .factories import account, after_billing, billed_through, terms

Line = tuple[int, ChargeKind, date, date, str]


def lines(invoice: PendingInvoice) -> list[Line]:
    """Each item as (subscription, kind, first day, last day inclusive, amount)."""
    return [
        (c.subscription_id, c.kind, c.period_start, c.period_last_day, str(c.amount))
        for c in invoice.items
    ]


def totals(invoice: PendingInvoice) -> tuple[str, str, str]:
    return (str(invoice.totals.subtotal), str(invoice.totals.tax), str(invoice.totals.total))


def dates(invoice: PendingInvoice) -> tuple[date, date]:
    return (invoice.issue_date, invoice.due_date)


SETUP, RECURRING = ChargeKind.SETUP, ChargeKind.RECURRING


class TestWorkedExample:
    """SPEC §8, step by step, to the cent."""

    ACME = account(account_id=1, currency="EUR", tax_rate="24", payment_terms_days=30)
    S1 = terms(
        subscription_id=1,
        product_id=1,
        product_name="Office 365 E3",
        unit_price="12.50",
        quantity=10,
        start_date=date(2027, 1, 11),
        billing_day=11,
    )
    S2 = terms(
        subscription_id=2,
        product_id=2,
        product_name="Cloud Backup 1 TB",
        unit_price="20.00",
        setup_fee="50.00",
        quantity=1,
        start_date=date(2027, 1, 20),
        billing_day=11,
    )
    S3 = terms(
        subscription_id=3,
        product_id=3,
        product_name="Azure usage",
        billing_type=BillingType.POSTPAID,
        unit_price="100.00",
        quantity=1,
        start_date=date(2027, 1, 11),
        billing_day=11,
    )

    def initial_ledger(self) -> dict[int, BilledState]:
        # S1's January invoice was issued on 11 Jan: billed through 11 Feb.
        return {1: billed_through(date(2027, 2, 11)), 2: BilledState(), 3: BilledState()}

    def states(
        self, ledger: dict[int, BilledState], *subscriptions: SubscriptionTerms
    ) -> list[SubscriptionState]:
        chosen = subscriptions or (self.S1, self.S2, self.S3)
        return [(s, ledger[s.subscription_id]) for s in chosen]

    def record(self, ledger: dict[int, BilledState], invoices: list[PendingInvoice]) -> None:
        for invoice in invoices:
            for sid in invoice.subscription_ids:
                mine = [c for c in invoice.items if c.subscription_id == sid]
                ledger[sid] = after_billing(ledger[sid], mine)

    def test_pending_as_of_15_january(self) -> None:
        first, second = pending_invoices(
            self.ACME, self.states(self.initial_ledger()), date(2027, 1, 15)
        )
        # 20.00 × 22/31 = 14.19; 50.00 + 14.19 = 64.19; 64.19 × 24 % = 15.4056 → 15.41
        assert dates(first) == (date(2027, 1, 20), date(2027, 2, 19))
        assert lines(first) == [
            (2, SETUP, date(2027, 1, 20), date(2027, 1, 20), "50.00"),
            (2, RECURRING, date(2027, 1, 20), date(2027, 2, 10), "14.19"),
        ]
        assert first.items[1].proration == Fraction(22, 31)
        assert totals(first) == ("64.19", "15.41", "79.60")
        # 12.50 × 10 = 125.00; + 100.00 = 225.00; × 24 % = 54.00
        assert dates(second) == (date(2027, 2, 11), date(2027, 3, 13))
        assert lines(second) == [
            (1, RECURRING, date(2027, 2, 11), date(2027, 3, 10), "125.00"),
            (3, RECURRING, date(2027, 1, 11), date(2027, 2, 10), "100.00"),
        ]
        assert totals(second) == ("225.00", "54.00", "279.00")
        assert (first.currency, first.account_id) == ("EUR", 1)

    def test_manual_generation_for_s1_and_s3_issues_what_the_preview_showed(self) -> None:
        ledger = self.initial_ledger()
        preview = pending_invoices(self.ACME, self.states(ledger), date(2027, 1, 15))
        [issued] = manual_invoices(
            self.ACME, self.states(ledger, self.S1, self.S3), date(2027, 1, 15)
        )
        assert dates(issued) == (date(2027, 1, 15), date(2027, 2, 14))
        assert totals(issued) == ("225.00", "54.00", "279.00")
        assert issued.items == preview[1].items  # SPEC §5 invariant
        assert issued.subscription_ids == [1, 3]

    def test_after_the_manual_generation_the_preview_moves_on(self) -> None:
        ledger = self.initial_ledger()
        self.record(
            ledger,
            manual_invoices(self.ACME, self.states(ledger, self.S1, self.S3), date(2027, 1, 15)),
        )
        assert ledger[1].recurring_until == date(2027, 3, 11)
        assert ledger[3].recurring_until == date(2027, 2, 11)

        first, second = pending_invoices(self.ACME, self.states(ledger), date(2027, 1, 15))
        assert first.issue_date == date(2027, 1, 20)
        assert totals(first) == ("64.19", "15.41", "79.60")
        assert dates(second) == (date(2027, 3, 11), date(2027, 4, 10))
        assert lines(second) == [
            (1, RECURRING, date(2027, 3, 11), date(2027, 4, 10), "125.00"),
            (3, RECURRING, date(2027, 2, 11), date(2027, 3, 10), "100.00"),
        ]
        assert totals(second) == ("225.00", "54.00", "279.00")

    def test_billing_runs_on_20_january_and_11_february(self) -> None:
        ledger = self.initial_ledger()
        self.record(
            ledger,
            manual_invoices(self.ACME, self.states(ledger, self.S1, self.S3), date(2027, 1, 15)),
        )
        preview = pending_invoices(self.ACME, self.states(ledger), date(2027, 1, 15))

        run = due_invoices(self.ACME, self.states(ledger), date(2027, 1, 20))
        [s2_start] = run
        assert dates(s2_start) == (date(2027, 1, 20), date(2027, 2, 19))
        assert s2_start.items == preview[0].items
        assert totals(s2_start) == ("64.19", "15.41", "79.60")
        self.record(ledger, run)
        assert due_invoices(self.ACME, self.states(ledger), date(2027, 1, 20)) == []

        run = due_invoices(self.ACME, self.states(ledger), date(2027, 2, 11))
        [february] = run
        # 20.00 × 24 % = 4.80
        assert lines(february) == [(2, RECURRING, date(2027, 2, 11), date(2027, 3, 10), "20.00")]
        assert totals(february) == ("20.00", "4.80", "24.80")
        self.record(ledger, run)

        # S1 and S3 are next billed on 11 Mar.
        assert due_invoices(self.ACME, self.states(ledger), date(2027, 3, 10)) == []
        [march] = due_invoices(self.ACME, self.states(ledger), date(2027, 3, 11))
        assert [(sid, start) for sid, _, start, _, _ in lines(march)] == [
            (1, date(2027, 3, 11)),
            (2, date(2027, 3, 11)),
            (3, date(2027, 2, 11)),
        ]


class TestEffectiveIssueDate:
    def test_overdue_charges_are_shown_on_the_as_of_date(self) -> None:
        # Planned 11 Jan, 11 Feb and 11 Mar, nothing billed: all due as of 15 Mar.
        subscription = terms(unit_price="10.00", start_date=date(2027, 1, 11))
        due_now, next_one = pending_invoices(
            account(payment_terms_days=14), [(subscription, BilledState())], date(2027, 3, 15)
        )
        assert dates(due_now) == (date(2027, 3, 15), date(2027, 3, 29))
        assert [c.period_start for c in due_now.items] == [
            date(2027, 1, 11),
            date(2027, 2, 11),
            date(2027, 3, 11),
        ]
        assert totals(due_now) == ("30.00", "7.20", "37.20")
        assert dates(next_one) == (date(2027, 4, 11), date(2027, 4, 25))


class TestManualMerge:
    def test_merged_invoice_rounds_tax_once_over_all_its_items(self) -> None:
        # Two pending invoices of 10.10 each (tax 10.10 × 24 % = 2.424 → 2.42 apiece).
        a = terms(subscription_id=1, unit_price="10.10", start_date=date(2027, 1, 20))
        b = terms(subscription_id=2, unit_price="10.10", start_date=date(2027, 1, 25))
        states = [(a, BilledState()), (b, BilledState())]
        preview = pending_invoices(account(), states, date(2027, 1, 15))
        assert [(p.issue_date, totals(p)) for p in preview] == [
            (date(2027, 1, 20), ("10.10", "2.42", "12.52")),
            (date(2027, 1, 25), ("10.10", "2.42", "12.52")),
        ]
        # Merged: 20.20 × 24 % = 4.848 → 4.85, not 2.42 + 2.42 = 4.84.
        [merged] = manual_invoices(account(), states, date(2027, 1, 15))
        assert dates(merged) == (date(2027, 1, 15), date(2027, 2, 14))
        assert merged.items == preview[0].items + preview[1].items
        assert totals(merged) == ("20.20", "4.85", "25.05")

    def test_manual_generation_takes_due_and_next_charges(self) -> None:
        # As of 15 Mar nothing billed: Jan, Feb, Mar are due and April is next.
        subscription = terms(start_date=date(2027, 1, 11))
        [invoice] = manual_invoices(account(), [(subscription, BilledState())], date(2027, 3, 15))
        assert [c.period_start for c in invoice.items] == [
            date(2027, 1, 11),
            date(2027, 2, 11),
            date(2027, 3, 11),
            date(2027, 4, 11),
        ]
        assert totals(invoice) == ("40.00", "9.60", "49.60")


class TestGrouping:
    # Two subscriptions of product 1 (10.00 and 5.00) and one of product 2 (7.00), all on 11 Jan.
    STATES: tuple[SubscriptionState, ...] = (
        (terms(subscription_id=1, product_id=1, unit_price="10.00"), BilledState()),
        (terms(subscription_id=2, product_id=1, unit_price="5.00"), BilledState()),
        (terms(subscription_id=3, product_id=2, unit_price="7.00"), BilledState()),
    )
    RUN = date(2027, 1, 11)

    def test_consolidated_one_invoice_per_issue_date(self) -> None:
        [invoice] = due_invoices(
            account(grouping=InvoiceGrouping.CONSOLIDATED), self.STATES, self.RUN
        )
        # 10.00 + 5.00 + 7.00 = 22.00; × 24 % = 5.28
        assert invoice.subscription_ids == [1, 2, 3]
        assert totals(invoice) == ("22.00", "5.28", "27.28")

    def test_per_product(self) -> None:
        invoices = due_invoices(
            account(grouping=InvoiceGrouping.PER_PRODUCT), self.STATES, self.RUN
        )
        # product 1: 15.00, tax 3.60; product 2: 7.00, tax 1.68
        assert sorted((i.subscription_ids, totals(i)) for i in invoices) == [
            ([1, 2], ("15.00", "3.60", "18.60")),
            ([3], ("7.00", "1.68", "8.68")),
        ]
        assert {i.issue_date for i in invoices} == {self.RUN}

    def test_per_subscription(self) -> None:
        invoices = due_invoices(
            account(grouping=InvoiceGrouping.PER_SUBSCRIPTION), self.STATES, self.RUN
        )
        assert sorted((i.subscription_ids, totals(i)) for i in invoices) == [
            ([1], ("10.00", "2.40", "12.40")),
            ([2], ("5.00", "1.20", "6.20")),
            ([3], ("7.00", "1.68", "8.68")),
        ]

    def test_per_product_preview_splits_each_issue_date(self) -> None:
        invoices = pending_invoices(
            account(grouping=InvoiceGrouping.PER_PRODUCT), self.STATES, date(2027, 1, 11)
        )
        assert sorted((i.issue_date, i.subscription_ids) for i in invoices) == [
            (date(2027, 1, 11), [1, 2]),
            (date(2027, 1, 11), [3]),
            (date(2027, 2, 11), [1, 2]),
            (date(2027, 2, 11), [3]),
        ]

    def test_manual_generation_follows_the_grouping(self) -> None:
        invoices = manual_invoices(
            account(grouping=InvoiceGrouping.PER_SUBSCRIPTION), self.STATES[:2], date(2027, 1, 5)
        )
        assert sorted((dates(i), i.subscription_ids) for i in invoices) == [
            ((date(2027, 1, 5), date(2027, 2, 4)), [1]),
            ((date(2027, 1, 5), date(2027, 2, 4)), [2]),
        ]


class TestTax:
    def test_only_taxable_products_are_taxed(self) -> None:
        # taxable 33.33 × 7.5 % = 2.49975 → 2.50; non-taxable 50.00 untaxed.
        states = [
            (terms(subscription_id=1, unit_price="33.33", taxable=True), BilledState()),
            (terms(subscription_id=2, unit_price="50.00", taxable=False), BilledState()),
        ]
        [invoice] = due_invoices(account(tax_rate="7.5"), states, date(2027, 1, 11))
        assert totals(invoice) == ("83.33", "2.50", "85.83")

    def test_an_exempt_account(self) -> None:
        states = [(terms(unit_price="33.33"), BilledState())]
        [invoice] = due_invoices(account(tax_rate="0"), states, date(2027, 1, 11))
        assert totals(invoice) == ("33.33", "0.00", "33.33")

    def test_an_invoice_of_non_taxable_items_only(self) -> None:
        states = [(terms(unit_price="50.00", taxable=False), BilledState())]
        [invoice] = due_invoices(account(tax_rate="24"), states, date(2027, 1, 11))
        assert totals(invoice) == ("50.00", "0.00", "50.00")


class TestOtherCurrencies:
    @pytest.mark.parametrize(
        ("currency", "tax_rate", "price", "setup", "expected_lines", "expected_totals"),
        [
            # 1000 × 22/31 = 709.68 → 710; 500 + 710 = 1210; × 7.5 % = 90.75 → 91
            ("JPY", "7.5", "1000", "500", ["500", "710"], ("1210", "91", "1301")),
            # 5.000 × 22/31 = 3.548387 → 3.548; 1.250 + 3.548 = 4.798; × 5 % = 0.2399 → 0.240
            ("KWD", "5", "5.000", "1.250", ["1.250", "3.548"], ("4.798", "0.240", "5.038")),
        ],
    )
    def test_amounts_in_the_currency_minor_unit(
        self,
        currency: str,
        tax_rate: str,
        price: str,
        setup: str,
        expected_lines: list[str],
        expected_totals: tuple[str, str, str],
    ) -> None:
        subscription = terms(
            currency=currency,
            unit_price=price,
            setup_fee=setup,
            start_date=date(2027, 1, 20),
            billing_day=11,
        )
        [invoice] = due_invoices(
            account(currency=currency, tax_rate=tax_rate),
            [(subscription, BilledState())],
            date(2027, 1, 20),
        )
        assert invoice.currency == currency
        assert [line[-1] for line in lines(invoice)] == expected_lines
        assert totals(invoice) == expected_totals

    def test_a_kwd_tax_tie_rounds_up(self) -> None:
        # 0.010 × 5 % = 0.0005 → 0.001
        states = [(terms(currency="KWD", unit_price="0.010"), BilledState())]
        [invoice] = due_invoices(account(currency="KWD", tax_rate="5"), states, date(2027, 1, 11))
        assert totals(invoice) == ("0.010", "0.001", "0.011")

    def test_a_jpy_tax_tie_rounds_up(self) -> None:
        # 150 × 1 % = 1.5 → 2
        states = [(terms(currency="JPY", unit_price="150"), BilledState())]
        [invoice] = due_invoices(account(currency="JPY", tax_rate="1"), states, date(2027, 1, 11))
        assert totals(invoice) == ("150", "2", "152")
