"""SPEC §4–§5: which charges a subscription owes, for which period, issued when."""

from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import islice

from recur.domain.catalogue import BillingCycle, BillingType, ChargeKind, PartialCharges
from recur.domain.charges import (
    BilledState,
    Charge,
    SubscriptionTerms,
    due_charges,
    pending_charges,
    unbilled_charges,
)

from .factories import billed_through, periods_of, terms

NOTHING_BILLED = BilledState()


def first(subscription: SubscriptionTerms, count: int) -> list[Charge]:
    return list(islice(unbilled_charges(subscription, NOTHING_BILLED), count))


def issue_dates(charges: list[Charge]) -> list[date]:
    return [c.planned_issue_date for c in charges]


class TestPlannedIssueDate:
    def test_prepaid_is_issued_on_the_period_start(self) -> None:
        charges = first(terms(start_date=date(2027, 1, 11)), 3)
        assert periods_of(charges) == [
            (date(2027, 1, 11), date(2027, 2, 11)),
            (date(2027, 2, 11), date(2027, 3, 11)),
            (date(2027, 3, 11), date(2027, 4, 11)),
        ]
        assert issue_dates(charges) == [date(2027, 1, 11), date(2027, 2, 11), date(2027, 3, 11)]

    def test_postpaid_is_issued_on_the_exclusive_end(self) -> None:
        subscription = terms(start_date=date(2027, 1, 11), billing_type=BillingType.POSTPAID)
        charges = first(subscription, 3)
        assert periods_of(charges)[0] == (date(2027, 1, 11), date(2027, 2, 11))
        assert issue_dates(charges) == [date(2027, 2, 11), date(2027, 3, 11), date(2027, 4, 11)]

    def test_postpaid_partial_first_period_is_issued_on_the_billing_day(self) -> None:
        subscription = terms(
            start_date=date(2027, 1, 20), billing_day=11, billing_type=BillingType.POSTPAID
        )
        charges = first(subscription, 2)
        assert periods_of(charges) == [
            (date(2027, 1, 20), date(2027, 2, 11)),
            (date(2027, 2, 11), date(2027, 3, 11)),
        ]
        assert issue_dates(charges) == [date(2027, 2, 11), date(2027, 3, 11)]


class TestAmounts:
    def test_full_period_is_unit_price_times_quantity(self) -> None:
        [charge] = first(terms(unit_price="12.50", quantity=10), 1)
        assert (charge.quantity, charge.unit_price, charge.proration) == (
            10,
            Decimal("12.50"),
            Fraction(1),
        )
        assert str(charge.amount) == "125.00"
        assert charge.kind is ChargeKind.RECURRING

    def test_a_partial_period_is_prorated_by_days(self) -> None:
        # 20.00 × 22/31 = 14.1935… → 14.19 (SPEC §8, S2)
        [charge] = first(terms(unit_price="20.00", start_date=date(2027, 1, 20), billing_day=11), 1)
        assert charge.proration == Fraction(22, 31)
        assert str(charge.amount) == "14.19"

    def test_proration_is_applied_to_the_exact_product(self) -> None:
        # 0.35 × 10 × 1/31 = 0.112903… → 0.11; rounding per unit first
        # (0.35 × 1/31 = 0.0113 → 0.01) would give 0.01 × 10 = 0.10.
        [charge] = first(
            terms(unit_price="0.35", quantity=10, start_date=date(2027, 1, 31), billing_day=1), 1
        )
        assert charge.proration == Fraction(1, 31)
        assert str(charge.amount) == "0.11"


class TestSetupFee:
    def test_setup_fee_is_its_own_item_on_the_start_date_with_quantity_one(self) -> None:
        subscription = terms(
            unit_price="20.00", setup_fee="50.00", quantity=3, start_date=date(2027, 1, 20)
        )
        setup, recurring = first(subscription, 2)
        assert setup.kind is ChargeKind.SETUP
        assert (setup.quantity, setup.unit_price, str(setup.amount)) == (
            1,
            Decimal("50.00"),
            "50.00",
        )
        assert setup.planned_issue_date == date(2027, 1, 20)
        assert (setup.period_start, setup.period_last_day) == (date(2027, 1, 20), date(2027, 1, 20))
        assert recurring.kind is ChargeKind.RECURRING
        assert str(recurring.amount) == "60.00"  # 20.00 × 3

    def test_postpaid_setup_fee_is_still_issued_on_the_start_date(self) -> None:
        subscription = terms(
            setup_fee="50.00", billing_type=BillingType.POSTPAID, start_date=date(2027, 1, 20)
        )
        setup, recurring = first(subscription, 2)
        assert (setup.kind, setup.planned_issue_date) == (ChargeKind.SETUP, date(2027, 1, 20))
        assert recurring.planned_issue_date == date(2027, 2, 20)

    def test_a_billed_setup_fee_is_not_charged_again(self) -> None:
        subscription = terms(setup_fee="50.00", start_date=date(2027, 1, 20))
        charges = list(
            islice(unbilled_charges(subscription, billed_through(None, ChargeKind.SETUP)), 2)
        )
        assert [c.kind for c in charges] == [ChargeKind.RECURRING, ChargeKind.RECURRING]

    def test_no_setup_item_without_a_fee(self) -> None:
        assert first(terms(setup_fee="0"), 1)[0].kind is ChargeKind.RECURRING


class TestOneTimePrice:
    def test_one_time_price_is_charged_once_on_the_start_date(self) -> None:
        subscription = terms(
            cycle=BillingCycle.ONE_TIME,
            unit_price="300.00",
            quantity=2,
            start_date=date(2027, 1, 20),
            billing_day=11,  # an aligned billing day does not apply to a one-time price
        )
        [charge] = unbilled_charges(subscription, NOTHING_BILLED)
        assert charge.kind is ChargeKind.ONE_TIME
        assert (charge.quantity, str(charge.amount)) == (2, "600.00")  # 300.00 × 2
        assert charge.planned_issue_date == date(2027, 1, 20)
        assert (charge.period_start, charge.period_last_day) == (
            date(2027, 1, 20),
            date(2027, 1, 20),
        )

    def test_one_time_price_with_a_setup_fee(self) -> None:
        subscription = terms(cycle=BillingCycle.ONE_TIME, unit_price="300.00", setup_fee="25.00")
        charges = list(unbilled_charges(subscription, NOTHING_BILLED))
        assert [(c.kind, str(c.amount)) for c in charges] == [
            (ChargeKind.SETUP, "25.00"),
            (ChargeKind.ONE_TIME, "300.00"),
        ]

    def test_a_billed_one_time_price_has_nothing_left(self) -> None:
        subscription = terms(cycle=BillingCycle.ONE_TIME, setup_fee="25.00")
        billed = billed_through(None, ChargeKind.SETUP, ChargeKind.ONE_TIME)
        assert list(unbilled_charges(subscription, billed)) == []
        assert pending_charges(subscription, billed, date(2030, 1, 1)) == []


class TestPartialCharges:
    def test_on_order_day_issues_the_partial_period_on_the_start_date(self) -> None:
        subscription = terms(
            start_date=date(2027, 1, 20),
            billing_day=11,
            partial_charges=PartialCharges.ON_ORDER_DAY,
        )
        charges = first(subscription, 2)
        assert issue_dates(charges) == [date(2027, 1, 20), date(2027, 2, 11)]

    def test_next_billing_day_issues_the_partial_with_the_first_full_period(self) -> None:
        subscription = terms(
            setup_fee="50.00",
            start_date=date(2027, 1, 20),
            billing_day=11,
            partial_charges=PartialCharges.NEXT_BILLING_DAY,
        )
        setup, partial, full, second = first(subscription, 4)
        assert setup.planned_issue_date == date(2027, 1, 20)  # the setup fee is not deferred
        assert (partial.period_start, partial.period_end) == (date(2027, 1, 20), date(2027, 2, 11))
        assert partial.planned_issue_date == date(2027, 2, 11)
        assert (full.period_start, full.planned_issue_date) == (
            date(2027, 2, 11),
            date(2027, 2, 11),
        )
        assert second.planned_issue_date == date(2027, 3, 11)

    def test_next_billing_day_changes_nothing_without_a_partial_period(self) -> None:
        subscription = terms(
            start_date=date(2027, 1, 11),
            billing_day=11,
            partial_charges=PartialCharges.NEXT_BILLING_DAY,
        )
        assert issue_dates(first(subscription, 2)) == [date(2027, 1, 11), date(2027, 2, 11)]


class TestCancellation:
    def test_cancelled_mid_period_the_last_charge_is_clipped(self) -> None:
        # [11 Mar, 20 Mar) is 9/31 of the month: 125.00 × 9/31 = 36.290… → 36.29
        subscription = terms(unit_price="12.50", quantity=10, end_date=date(2027, 3, 20))
        charges = list(unbilled_charges(subscription, NOTHING_BILLED))
        assert periods_of(charges) == [
            (date(2027, 1, 11), date(2027, 2, 11)),
            (date(2027, 2, 11), date(2027, 3, 11)),
            (date(2027, 3, 11), date(2027, 3, 20)),
        ]
        assert [str(c.amount) for c in charges] == ["125.00", "125.00", "36.29"]
        assert charges[-1].proration == Fraction(9, 31)
        assert issue_dates(charges) == [date(2027, 1, 11), date(2027, 2, 11), date(2027, 3, 11)]

    def test_nothing_is_pending_on_or_after_the_end_date(self) -> None:
        subscription = terms(end_date=date(2027, 3, 20))
        billed = billed_through(date(2027, 3, 20))
        assert pending_charges(subscription, billed, date(2027, 3, 20)) == []
        assert pending_charges(subscription, billed, date(2028, 1, 1)) == []

    def test_a_postpaid_last_period_is_still_issued_on_the_end_date(self) -> None:
        # [11 Mar, 20 Mar): 100.00 × 9/31 = 29.032… → 29.03, issued on the end date.
        subscription = terms(
            unit_price="100.00", billing_type=BillingType.POSTPAID, end_date=date(2027, 3, 20)
        )
        billed = billed_through(date(2027, 3, 11))
        [last] = due_charges(subscription, billed, date(2027, 3, 20))
        assert (last.period_start, last.period_end) == (date(2027, 3, 11), date(2027, 3, 20))
        assert last.planned_issue_date == date(2027, 3, 20)
        assert str(last.amount) == "29.03"
        assert due_charges(subscription, billed, date(2027, 3, 19)) == []

    def test_a_deferred_partial_cut_before_the_billing_day_is_issued_on_the_end_date(self) -> None:
        # next_billing_day, D = 11, start 20 Jan, cancelled with end 1 Feb: the
        # partial [20 Jan, 1 Feb) (12/31) ends on the end date, so it goes out then.
        subscription = terms(
            unit_price="31.00",
            start_date=date(2027, 1, 20),
            billing_day=11,
            partial_charges=PartialCharges.NEXT_BILLING_DAY,
            end_date=date(2027, 2, 1),
        )
        [charge] = unbilled_charges(subscription, NOTHING_BILLED)
        assert (charge.period_end, charge.planned_issue_date) == (
            date(2027, 2, 1),
            date(2027, 2, 1),
        )
        assert str(charge.amount) == "12.00"  # 31.00 × 12/31

    def test_cancelled_before_it_started_nothing_is_billed_not_even_setup(self) -> None:
        subscription = terms(
            setup_fee="50.00",
            start_date=date(2027, 1, 20),
            billing_day=11,
            end_date=date(2027, 1, 20),
        )
        assert list(unbilled_charges(subscription, NOTHING_BILLED)) == []
        assert pending_charges(subscription, NOTHING_BILLED, date(2027, 1, 15)) == []

    def test_a_suspended_subscription_has_no_further_charges(self) -> None:
        subscription = terms(setup_fee="50.00", suspended=True)
        assert list(unbilled_charges(subscription, NOTHING_BILLED)) == []
        billed = billed_through(date(2027, 2, 11), ChargeKind.SETUP)
        assert pending_charges(subscription, billed, date(2027, 6, 1)) == []


class TestTermEnd:
    def test_without_renewal_periods_stop_at_the_term_end(self) -> None:
        # 12-month term from 11 Jan 2027: term_end = end_date = 11 Jan 2028.
        subscription = terms(start_date=date(2027, 1, 11), end_date=date(2028, 1, 11))
        charges = list(unbilled_charges(subscription, NOTHING_BILLED))
        assert len(charges) == 12
        assert periods_of(charges)[-1] == (date(2027, 12, 11), date(2028, 1, 11))

    def test_an_aligned_annual_term_ends_with_a_clipped_period(self) -> None:
        # D = 11, start 20 Jan 2027, 12-month term → end 20 Jan 2028:
        # [20 Jan 2027, 11 Feb 2027) = 22/365, then [11 Feb 2027, 20 Jan 2028) = 343/365.
        subscription = terms(
            cycle=BillingCycle.ANNUAL,
            unit_price="365.00",
            start_date=date(2027, 1, 20),
            billing_day=11,
            end_date=date(2028, 1, 20),
        )
        charges = list(unbilled_charges(subscription, NOTHING_BILLED))
        assert [(c.proration, str(c.amount)) for c in charges] == [
            (Fraction(22, 365), "22.00"),
            (Fraction(343, 365), "343.00"),
        ]

    def test_with_renewal_periods_go_on(self) -> None:
        subscription = terms(start_date=date(2027, 1, 11), end_date=None)
        charges = first(subscription, 13)
        assert periods_of(charges)[-1] == (date(2028, 1, 11), date(2028, 2, 11))
        assert all(c.proration == 1 for c in charges)


class TestPendingAndDue:
    def test_pending_is_due_charges_plus_the_next_issue_date(self) -> None:
        # As of 15 Mar: Jan, Feb, Mar are due; the April period is the next one.
        pending = pending_charges(
            terms(start_date=date(2027, 1, 11)), NOTHING_BILLED, date(2027, 3, 15)
        )
        assert [c.period_start for c in pending] == [
            date(2027, 1, 11),
            date(2027, 2, 11),
            date(2027, 3, 11),
            date(2027, 4, 11),
        ]

    def test_a_charge_planned_on_the_as_of_date_is_due(self) -> None:
        subscription = terms(start_date=date(2027, 1, 11))
        billed = billed_through(date(2027, 3, 11))
        assert [c.period_start for c in due_charges(subscription, billed, date(2027, 3, 11))] == [
            date(2027, 3, 11)
        ]
        assert [
            c.period_start for c in pending_charges(subscription, billed, date(2027, 3, 11))
        ] == [
            date(2027, 3, 11),
            date(2027, 4, 11),
        ]

    def test_before_the_start_pending_is_everything_on_the_start_date(self) -> None:
        subscription = terms(
            setup_fee="50.00", unit_price="20.00", start_date=date(2027, 1, 20), billing_day=11
        )
        pending = pending_charges(subscription, NOTHING_BILLED, date(2027, 1, 15))
        assert [(c.kind, c.period_start, c.planned_issue_date) for c in pending] == [
            (ChargeKind.SETUP, date(2027, 1, 20), date(2027, 1, 20)),
            (ChargeKind.RECURRING, date(2027, 1, 20), date(2027, 1, 20)),
        ]
        assert due_charges(subscription, NOTHING_BILLED, date(2027, 1, 15)) == []

    def test_pending_takes_every_charge_on_the_next_date(self) -> None:
        subscription = terms(
            setup_fee="50.00",
            start_date=date(2027, 1, 20),
            billing_day=11,
            partial_charges=PartialCharges.NEXT_BILLING_DAY,
        )
        # As of 15 Jan only the setup fee is next; the partial waits for 11 Feb.
        pending = pending_charges(subscription, NOTHING_BILLED, date(2027, 1, 15))
        assert [c.kind for c in pending] == [ChargeKind.SETUP]
        # Once the setup fee is billed, both charges of 11 Feb are pending together.
        billed = billed_through(None, ChargeKind.SETUP)
        pending = pending_charges(subscription, billed, date(2027, 1, 20))
        assert periods_of(pending) == [
            (date(2027, 1, 20), date(2027, 2, 11)),
            (date(2027, 2, 11), date(2027, 3, 11)),
        ]

    def test_due_charges_are_those_planned_up_to_the_date(self) -> None:
        subscription = terms(setup_fee="50.00", start_date=date(2027, 1, 20), billing_day=11)
        assert [c.kind for c in due_charges(subscription, NOTHING_BILLED, date(2027, 2, 10))] == [
            ChargeKind.SETUP,
            ChargeKind.RECURRING,
        ]
        due = due_charges(subscription, NOTHING_BILLED, date(2027, 2, 11))
        assert periods_of(due)[1:] == [
            (date(2027, 1, 20), date(2027, 2, 11)),
            (date(2027, 2, 11), date(2027, 3, 11)),
        ]

    def test_a_billed_cursor_moves_the_preview_on(self) -> None:
        subscription = terms(start_date=date(2027, 1, 11))
        billed = billed_through(date(2027, 3, 11))
        pending = pending_charges(subscription, billed, date(2027, 1, 15))
        assert [(c.period_start, c.planned_issue_date) for c in pending] == [
            (date(2027, 3, 11), date(2027, 3, 11))
        ]

    def test_the_ledger_key_is_subscription_kind_and_period_start(self) -> None:
        subscription = terms(subscription_id=7, setup_fee="5.00", start_date=date(2027, 1, 20))
        setup, recurring = first(subscription, 2)
        assert setup.ledger_key == (7, ChargeKind.SETUP, date(2027, 1, 20))
        assert recurring.ledger_key == (7, ChargeKind.RECURRING, date(2027, 1, 20))


def test_the_billed_state_after_issuing_moves_the_cursor_and_marks_one_off_charges() -> None:
    # Monthly from 20 Jan 2027, billing day 11, setup 50: setup, [20 Jan, 11 Feb), [11 Feb, 11 Mar)
    sub = terms(start_date=date(2027, 1, 20), billing_day=11, setup_fee=Decimal("50.00"))
    first_three = list(islice(unbilled_charges(sub, BilledState()), 3))
    after = BilledState().after(first_three)
    assert after == BilledState(date(2027, 3, 11), frozenset({ChargeKind.SETUP}))
    # Issuing nothing changes nothing; the cursor never moves back.
    assert after.after([]) == after
    assert after.after(first_three[1:2]).recurring_until == date(2027, 3, 11)
