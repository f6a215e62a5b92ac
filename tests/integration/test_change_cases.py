"""Changes to subscriptions, case by case (SPEC §10–§12), on SQLite and PostgreSQL.

Every figure is worked out by hand from the SPEC: an adjustment is
(in force − billed) × unit price × days of its run / days of the full period,
rounded half away from zero; credits go on credit notes due on their issue date.
Unless a case says otherwise: EUR, billing day 1, tax 0 %, terms 30 days,
"Seats" at 30.00 and "Seats Plus" at 50.00 a month, prepaid.
"""

from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, CancelAt, PartialCharges
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.services.changes import (
    ChangeSpec,
    change_subscription,
    list_changes,
    preview_cancellation,
    preview_change,
    withdraw_change,
)
from recur.services.invoicing import (
    generate_for_subscription,
    pending_for_account,
    pending_for_subscription,
)
from recur.services.subscriptions import cancel_subscription, in_force

from .factories import ACTOR, account, invoices, product, subscribe
from .lifecycle import (
    Line,
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
JAN1, FEB1, MAR1 = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)


def d(month: int, day: int) -> date:
    return date(2027, month, day)


def seats(db: Database, **kwargs: object) -> tuple[int, int]:
    """The two switchable options: (30.00, 50.00)."""
    return (
        option(db, "Seats", "30.00", **kwargs),  # type: ignore[arg-type]
        option(db, "Seats Plus", "50.00", **kwargs),  # type: ignore[arg-type]
    )


def check_days(db: Database, sub: int, timeline: Timeline, prices: dict[Decimal, int]) -> None:
    """Every billed day is billed, net, at exactly what is in force that day."""
    billed = billed_per_day(db, sub, prices)
    assert billed == expected_per_day(timeline, sorted(billed))


def issued_on(db: Database, as_of: date, account_id: int) -> list[tuple[str, list[Line]]]:
    """Run as of `as_of`; (type, lines) of each document it issued."""
    before = invoices(db, account_id)
    bill(db, as_of)
    return [(inv.type, lines(inv)) for inv in new_documents(db, before, account_id)]


# --- where in a period a change falls ----------------------------------------------


def test_a_change_on_a_periods_first_day(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)

    # Scheduled on the first day of an unbilled period: that period is billed at 12.
    timeline.add(change(db, sub, d(1, 15), quantity=12, effective="2027-02-01"))
    assert issued_on(db, FEB1, acct) == [
        ("invoice", [("recurring", 12, D("30.00"), FEB1, d(2, 28), D("360.00"))])
    ]
    # Made on the first day of a period already billed that day: the whole period.
    bill(db, MAR1)
    timeline.add(change(db, sub, MAR1, quantity=15))
    assert issued_on(db, MAR1, acct) == [
        ("invoice", [("adjustment", 3, D("30.00"), MAR1, d(3, 31), D("90.00"))])
    ]
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_a_change_on_a_periods_last_day(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)

    timeline.add(change(db, sub, d(1, 31), quantity=4))
    # One day of 31 credited: −6 × 30.00 × 1/31 = −5.806… → −5.81.
    [(kind, credit)] = issued_on(db, d(1, 31), acct)
    assert (kind, credit) == (
        "credit",
        [("adjustment", -6, D("30.00"), d(1, 31), d(1, 31), D("-5.81"))],
    )
    assert issued_on(db, FEB1, acct) == [
        ("invoice", [("recurring", 4, D("30.00"), FEB1, d(2, 28), D("120.00"))])
    ]
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_a_change_on_a_boundary_of_a_period_billed_ahead(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)
    [manual] = generate_for_subscription(db, sub, d(1, 20), ACTOR).invoices  # February

    made = change(db, sub, d(1, 25), quantity=7, effective="end_of_period")
    timeline.add(made)
    assert made.effective_date == FEB1  # the boundary, not inside January
    # The whole of February is credited, on its first day.
    credit = ("adjustment", -3, D("30.00"), FEB1, d(2, 28), D("-90.00"))
    assert pending_lines(pending_for_account(db, acct, d(1, 25)).invoices) == [
        (FEB1, "credit", FEB1, [credit], D("-90.00"), D("0.00"), D("-90.00"))
    ]
    assert issued_on(db, d(1, 31), acct) == []
    before = invoices(db, acct)
    bill(db, FEB1)
    (cn,) = new_documents(db, before, acct)
    assert header(cn) == (
        "CN-2027-000001",
        "credit",
        FEB1,
        FEB1,
        D("-90.00"),
        D("0.00"),
        D("-90.00"),
    )
    assert lines(cn) == [credit]
    assert cn.items[0].corrects_invoice_id == manual.id
    # January was not touched; March is billed at 7.
    assert issued_on(db, MAR1, acct) == [
        ("invoice", [("recurring", 7, D("30.00"), MAR1, d(3, 31), D("210.00"))])
    ]
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_several_changes_in_one_period_billed_and_unbilled(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)

    timeline.add(change(db, sub, d(1, 10), quantity=12))
    timeline.add(change(db, sub, d(1, 20), quantity=8))
    timeline.add(change(db, sub, d(1, 20), quantity=9, effective="2027-02-15"))
    timeline.add(change(db, sub, d(1, 25), quantity=11, effective="2027-02-05"))

    # January, billed at 10: +2 for 10–19 Jan (19.354… → 19.35), −2 for 20–31 Jan
    # (−23.225… → −23.23), both due by 25 Jan.
    assert sorted(issued_on(db, d(1, 25), acct)) == [
        ("credit", [("adjustment", -2, D("30.00"), d(1, 20), d(1, 31), D("-23.23"))]),
        ("invoice", [("adjustment", 2, D("30.00"), d(1, 10), d(1, 19), D("19.35"))]),
    ]
    # February, unbilled: one item per run of days (4, 10 and 14 of 28 days).
    assert issued_on(db, FEB1, acct) == [
        (
            "invoice",
            [
                ("recurring", 8, D("30.00"), FEB1, d(2, 4), D("34.29")),
                ("recurring", 11, D("30.00"), d(2, 5), d(2, 14), D("117.86")),
                ("recurring", 9, D("30.00"), d(2, 15), d(2, 28), D("135.00")),
            ],
        )
    ]
    assert in_force(db, sub, d(2, 14)) == (11, a)
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_a_scheduled_change_withdrawn_after_its_period_was_billed(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    down = subscribe(db, acct, a, JAN1, quantity=10)
    up = subscribe(db, acct, a, JAN1, quantity=10)
    timelines = {down: Timeline(JAN1, 10, a), up: Timeline(JAN1, 10, a)}
    bill(db, JAN1)
    scheduled = {
        down: change(db, down, d(1, 5), quantity=4, effective="2027-02-10"),
        up: change(db, up, d(1, 5), quantity=15, effective="2027-02-10"),
    }
    for sub, made in scheduled.items():
        timelines[sub].add(made)
        assert made.withdrawable

    # February billed ahead in two runs of days: 10 × 30.00 × 9/28 = 96.43, then the change.
    [ahead] = generate_for_subscription(db, down, d(1, 20), ACTOR).invoices
    assert [(i.quantity, i.period_start, i.period_end, i.amount) for i in ahead.items] == [
        (10, FEB1, d(2, 9), D("96.43")),
        (4, d(2, 10), d(2, 28), D("81.43")),
    ]
    generate_for_subscription(db, up, d(1, 20), ACTOR)

    for sub, made in scheduled.items():
        withdraw_change(db, sub, made.id, d(1, 25), ACTOR)
        timelines[sub].withdraw(made.id)
        assert list_changes(db, sub, d(1, 25)) == []
        assert in_force(db, sub, d(2, 10)) == (10, a)

    # What the billed runs of days differ by comes back on 10 Feb (19 of 28 days).
    assert pending_lines(pending_for_subscription(db, down, d(1, 25))) == [
        (
            d(2, 10),
            "invoice",
            d(3, 12),
            [("adjustment", 6, D("30.00"), d(2, 10), d(2, 28), D("122.14"))],
            D("122.14"),
            D("0.00"),
            D("122.14"),
        )
    ]
    assert sorted(issued_on(db, d(2, 10), acct)) == [
        ("credit", [("adjustment", -5, D("30.00"), d(2, 10), d(2, 28), D("-101.79"))]),
        ("invoice", [("adjustment", 6, D("30.00"), d(2, 10), d(2, 28), D("122.14"))]),
    ]
    for sub, timeline in timelines.items():
        check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_a_switch_and_back_on_the_same_day_nets_to_nothing(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, b = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)

    # Both before a run: the later of the two is in force, as billed; nothing to issue.
    timeline.add(change(db, sub, d(1, 15), option_id=b))
    timeline.add(change(db, sub, d(1, 15), option_id=a))
    assert in_force(db, sub, d(1, 15)) == (10, a)
    assert len(list_changes(db, sub, d(1, 15))) == 2
    assert issued_on(db, d(1, 15), acct) == []

    # A run between the two: four items that net to zero on every day.
    timeline.add(change(db, sub, d(1, 16), option_id=b))
    there = sorted(issued_on(db, d(1, 16), acct))
    timeline.add(change(db, sub, d(1, 16), option_id=a))
    back = sorted(issued_on(db, d(1, 16), acct))
    # 16 of 31 days: 10 × 30.00 × 16/31 = 154.84; 10 × 50.00 × 16/31 = 258.06.
    assert there == [
        ("credit", [("adjustment", -10, D("30.00"), d(1, 16), d(1, 31), D("-154.84"))]),
        ("invoice", [("adjustment", 10, D("50.00"), d(1, 16), d(1, 31), D("258.06"))]),
    ]
    assert back == [
        ("credit", [("adjustment", -10, D("50.00"), d(1, 16), d(1, 31), D("-258.06"))]),
        ("invoice", [("adjustment", 10, D("30.00"), d(1, 16), d(1, 31), D("154.84"))]),
    ]
    assert issued_on(db, FEB1, acct) == [
        ("invoice", [("recurring", 10, D("30.00"), FEB1, d(2, 28), D("300.00"))])
    ]
    check_days(db, sub, timeline, {D("30.00"): a, D("50.00"): b})
    assert_documents_whole(db)


# --- cancellations -------------------------------------------------------------------


def test_a_cancellation_now_credits_a_period_billed_ahead_on_the_end_date(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)
    [january] = invoices(db, acct)
    [february] = generate_for_subscription(db, sub, d(1, 20), ACTOR).invoices

    # 25–31 Jan: −10 × 30.00 × 7/31 = −67.74; all of February: −300.00; both due 25 Jan.
    credit = [
        ("adjustment", -10, D("30.00"), d(1, 25), d(1, 31), D("-67.74")),
        ("adjustment", -10, D("30.00"), FEB1, d(2, 28), D("-300.00")),
    ]
    expected = [(d(1, 25), "credit", d(1, 25), credit, D("-367.74"), D("0.00"), D("-367.74"))]
    assert pending_lines(preview_cancellation(db, sub, CancelAt.NOW, d(1, 25))) == expected
    assert cancel_subscription(db, sub, CancelAt.NOW, d(1, 25), ACTOR).end_date == d(1, 25)
    timeline.end = d(1, 25)
    assert pending_lines(pending_for_subscription(db, sub, d(1, 25))) == expected

    before = invoices(db, acct)
    bill(db, d(1, 25))
    (cn,) = new_documents(db, before, acct)
    assert header(cn) == ("CN-2027-000001", "credit", d(1, 25), d(1, 25), *expected[0][4:])
    assert lines(cn) == credit
    assert [i.corrects_invoice_id for i in cn.items] == [january.id, february.id]
    assert pending_for_subscription(db, sub, date(2027, 6, 1)) == []
    assert issued_on(db, date(2027, 6, 1), acct) == []
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_a_subscription_whose_only_pending_item_is_a_credit_can_be_generated(
    db: Database,
) -> None:
    acct = account(db, billing_day=1, tax_rate="20")
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    bill(db, JAN1)
    [january] = invoices(db, acct)
    cancel_subscription(db, sub, CancelAt.END_OF_PERIOD, d(1, 20), ACTOR)  # nothing after Jan
    change(db, sub, d(1, 22), quantity=9)

    # 22–31 Jan: −1 × 30.00 × 10/31 = −9.68, tax −1.936 → −1.94; issued today, by hand.
    [credit] = generate_for_subscription(db, sub, d(1, 22), "user:op@example.com").invoices
    assert (credit.type, credit.source, credit.issue_date, credit.due_date) == (
        "credit",
        "manual",
        d(1, 22),
        d(1, 22),
    )
    assert (credit.subtotal, credit.tax, credit.total) == (D("-9.68"), D("-1.94"), D("-11.62"))
    [stored] = new_documents(db, [january], acct)
    assert lines(stored) == [("adjustment", -1, D("30.00"), d(1, 22), d(1, 31), D("-9.68"))]
    assert stored.items[0].corrects_invoice_id == january.id
    assert stored.number == "CN-2027-000001"
    # Issued once: the run that day finds nothing more.
    assert issued_on(db, d(1, 22), acct) == []
    assert_documents_whole(db, {acct: D(20)})


def test_a_cancellation_now_on_the_start_day_credits_the_whole_period(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    bill(db, JAN1)

    assert cancel_subscription(db, sub, CancelAt.NOW, JAN1, ACTOR).end_date == JAN1
    assert issued_on(db, JAN1, acct) == [
        ("credit", [("adjustment", -10, D("30.00"), JAN1, d(1, 31), D("-300.00"))])
    ]
    assert billed_per_day(db, sub, {D("30.00"): a}) == {d(1, n): {} for n in range(1, 32)}
    assert issued_on(db, date(2027, 6, 1), acct) == []
    assert_documents_whole(db)


def test_postpaid_periods_billed_early_then_changed(db: Database) -> None:
    acct = account(db, billing_day=1)
    usage = option(db, "Usage", "20.00", billing_type=BillingType.POSTPAID)
    sub = subscribe(db, acct, usage, JAN1, quantity=5)
    timeline = Timeline(JAN1, 5, usage)

    [early] = generate_for_subscription(db, sub, d(1, 10), ACTOR).invoices
    assert lines(early) == [("recurring", 5, D("20.00"), JAN1, d(1, 31), D("100.00"))]

    # An increase in a postpaid period billed early waits for the period's end.
    timeline.add(change(db, sub, d(1, 20), quantity=8))
    increase = ("adjustment", 3, D("20.00"), d(1, 20), d(1, 31), D("23.23"))  # 12/31
    assert pending_lines(pending_for_subscription(db, sub, d(1, 20))) == [
        (FEB1, "invoice", date(2027, 3, 3), [increase], D("23.23"), D("0.00"), D("23.23"))
    ]
    assert issued_on(db, d(1, 31), acct) == []
    assert issued_on(db, FEB1, acct) == [("invoice", [increase])]

    # February billed early, then cancelled: the credit is due on the end date.
    [feb] = generate_for_subscription(db, sub, d(2, 10), ACTOR).invoices
    assert lines(feb) == [("recurring", 8, D("20.00"), FEB1, d(2, 28), D("160.00"))]
    cancel_subscription(db, sub, CancelAt.NOW, d(2, 15), ACTOR)
    timeline.end = d(2, 15)
    before = invoices(db, acct)
    bill(db, d(2, 15))
    (cn,) = new_documents(db, before, acct)
    assert header(cn)[1:] == ("credit", d(2, 15), d(2, 15), D("-80.00"), D("0.00"), D("-80.00"))
    assert lines(cn) == [("adjustment", -8, D("20.00"), d(2, 15), d(2, 28), D("-80.00"))]
    assert cn.items[0].corrects_invoice_id == feb.id
    assert issued_on(db, date(2027, 4, 1), acct) == []
    check_days(db, sub, timeline, {D("20.00"): usage})
    assert_documents_whole(db)


# --- billing options -----------------------------------------------------------------


def test_next_billing_day_makes_a_mid_period_adjustment_wait_for_the_period_end(
    db: Database,
) -> None:
    acct = account(db, billing_day=1, partial_charges=PartialCharges.NEXT_BILLING_DAY)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    timeline = Timeline(JAN1, 10, a)
    bill(db, JAN1)

    timeline.add(change(db, sub, d(1, 10), quantity=12))
    # +2 × 30.00 × 22/31 = 42.58, issued with February on 1 Feb.
    february = [
        ("adjustment", 2, D("30.00"), d(1, 10), d(1, 31), D("42.58")),
        ("recurring", 12, D("30.00"), FEB1, d(2, 28), D("360.00")),
    ]
    # (the order of the two items on the invoice is not the SPEC's concern)
    [(issue, kind, due, shown, *totals)] = pending_lines(
        pending_for_subscription(db, sub, d(1, 10))
    )
    assert (issue, kind, due, sorted(shown), totals) == (
        FEB1,
        "invoice",
        date(2027, 3, 3),
        february,
        [D("402.58"), D("0.00"), D("402.58")],
    )
    assert issued_on(db, d(1, 10), acct) == []
    assert issued_on(db, d(1, 31), acct) == []
    [(kind, issued)] = issued_on(db, FEB1, acct)
    assert kind == "invoice"
    assert sorted(issued) == sorted(february)

    # A reduction waits as well: −3 × 30.00 × 19/28 = −61.07 on 1 Mar.
    timeline.add(change(db, sub, d(2, 10), quantity=9))
    assert issued_on(db, d(2, 28), acct) == []
    assert sorted(issued_on(db, MAR1, acct)) == [
        ("credit", [("adjustment", -3, D("30.00"), d(2, 10), d(2, 28), D("-61.07"))]),
        ("invoice", [("recurring", 9, D("30.00"), MAR1, d(3, 31), D("270.00"))]),
    ]
    check_days(db, sub, timeline, {D("30.00"): a})
    assert_documents_whole(db)


def test_anniversary_billing_ignores_the_accounts_billing_day(db: Database) -> None:
    acct = account(db, billing_day=1)
    own_day = option(db, "Support", "30.00", anniversary_billing=True)
    sub = subscribe(db, acct, own_day, d(1, 20), quantity=2)
    timeline = Timeline(d(1, 20), 2, own_day)

    # Full periods from the 20th, nothing prorated at the start.
    assert issued_on(db, d(1, 20), acct) == [
        ("invoice", [("recurring", 2, D("30.00"), d(1, 20), d(2, 19), D("60.00"))])
    ]
    assert issued_on(db, FEB1, acct) == []
    assert issued_on(db, d(2, 20), acct) == [
        ("invoice", [("recurring", 2, D("30.00"), d(2, 20), d(3, 19), D("60.00"))])
    ]
    # 25 Feb – 19 Mar is 23 of the 28 days of the period: +1 × 30.00 × 23/28 = 24.64.
    timeline.add(change(db, sub, d(2, 25), quantity=3))
    assert issued_on(db, d(2, 25), acct) == [
        ("invoice", [("adjustment", 1, D("30.00"), d(2, 25), d(3, 19), D("24.64"))])
    ]
    # The end of its period is its own anniversary, not the account's billing day.
    made = change(db, sub, MAR1, quantity=1, effective="end_of_period")
    timeline.add(made)
    assert made.effective_date == d(3, 20)
    assert issued_on(db, d(3, 20), acct) == [
        ("invoice", [("recurring", 1, D("30.00"), d(3, 20), d(4, 19), D("30.00"))])
    ]
    check_days(db, sub, timeline, {D("30.00"): own_day})
    assert_documents_whole(db)


def test_a_switch_never_charges_the_new_options_setup_fee(db: Database) -> None:
    acct = account(db, billing_day=1)
    a = option(db, "Seats", "30.00", setup_fee="25.00")
    b = option(db, "Seats Plus", "50.00", setup_fee="100.00")
    sub = subscribe(db, acct, a, JAN1, quantity=2)
    [(_, first)] = issued_on(db, JAN1, acct)
    assert sorted(kind for kind, *_ in first) == ["recurring", "setup"]

    change(db, sub, d(1, 10), option_id=b)
    # 10–31 Jan is 22 of 31 days: −2 × 30.00 → −42.58, +2 × 50.00 → 70.97; no setup.
    assert sorted(issued_on(db, d(1, 10), acct)) == [
        ("credit", [("adjustment", -2, D("30.00"), d(1, 10), d(1, 31), D("-42.58"))]),
        ("invoice", [("adjustment", 2, D("50.00"), d(1, 10), d(1, 31), D("70.97"))]),
    ]
    assert issued_on(db, FEB1, acct) == [
        ("invoice", [("recurring", 2, D("50.00"), FEB1, d(2, 28), D("100.00"))])
    ]


def test_now_and_end_of_period_on_a_subscription_not_started_mean_its_start(
    db: Database,
) -> None:
    acct = account(db, billing_day=1)
    a, b = seats(db)
    sub = subscribe(db, acct, a, d(3, 10), quantity=2)
    assert change(db, sub, d(1, 15), quantity=3).effective_date == d(3, 10)
    assert change(db, sub, d(1, 15), option_id=b, effective="end_of_period").effective_date == (
        d(3, 10)
    )
    assert in_force(db, sub, d(1, 15)) == (3, b)
    # [10 Mar, 1 Apr) is 22 of 31 days: 3 × 50.00 × 22/31 = 106.45.
    assert issued_on(db, d(3, 10), acct) == [
        ("invoice", [("recurring", 3, D("50.00"), d(3, 10), d(3, 31), D("106.45"))])
    ]


@pytest.mark.parametrize(
    ("currency", "price", "credit", "tax", "total"),
    [
        # 2 of 28 days: −1 × 987 × 2/28 = −70.5 → −71 (half-even would give −70).
        ("JPY", "987", "-71", "-7", "-78"),
        # −1 × 1.015 × 2/28 = −0.0725 → −0.073; tax −0.00725 → −0.007.
        ("KWD", "1.015", "-0.073", "-0.007", "-0.080"),
        # −1 × 1.75 × 2/28 = −0.125 → −0.13; tax −0.013 → −0.01.
        ("EUR", "1.75", "-0.13", "-0.01", "-0.14"),
    ],
)
def test_negative_amounts_round_half_away_from_zero(
    db: Database, currency: str, price: str, credit: str, tax: str, total: str
) -> None:
    acct = account(db, currency=currency, billing_day=1, tax_rate="10")
    plan = option(db, "Seats", price, currency=currency)
    sub = subscribe(db, acct, plan, FEB1, quantity=3)
    bill(db, FEB1)

    change(db, sub, d(2, 27), quantity=2)
    before = invoices(db, acct)
    bill(db, d(2, 27))
    (cn,) = new_documents(db, before, acct)
    assert header(cn)[1:] == ("credit", d(2, 27), d(2, 27), D(credit), D(tax), D(total))
    assert lines(cn) == [("adjustment", -1, D(price), d(2, 27), d(2, 28), D(credit))]
    assert_documents_whole(db, {acct: D(10)})


# --- refusals ------------------------------------------------------------------------


def snapshot(db: Database, subs: list[int], today: date) -> object:
    """Everything a refused change could have touched."""
    return (
        [header(inv) for inv in invoices(db)],
        [
            (c.id, c.effective_date, c.quantity, c.pricing_option_id)
            for s in subs
            for c in list_changes(db, s, today)
        ],
        [in_force(db, s, today) for s in subs],
        [pending_lines(pending_for_subscription(db, s, today)) for s in subs],
    )


def refused(
    db: Database,
    error: type[DomainError],
    code: str,
    subs: list[int],
    today: date,
    sub: int,
    spec: ChangeSpec,
) -> None:
    before = snapshot(db, subs, today)
    with pytest.raises(error) as caught:
        change_subscription(db, sub, spec, today, ACTOR)
    assert caught.value.code == code
    with pytest.raises(error) as previewed:
        preview_change(db, sub, spec, today)
    assert previewed.value.code == code
    assert snapshot(db, subs, today) == before


def test_refusals_change_nothing(db: Database) -> None:
    acct = account(db, billing_day=1)
    a, _ = seats(db)
    sub = subscribe(db, acct, a, JAN1, quantity=10)
    later = subscribe(db, acct, a, MAR1, quantity=1)
    once = subscribe(db, acct, option(db, "Install", "99.00", cycle=BillingCycle.ONE_TIME), JAN1)
    trial = subscribe(
        db,
        acct,
        product(db, "Trial", unit_price="5.00", term_months=3, auto_renew=False, billing_day=1),
        JAN1,
    )
    incompatible = {
        "currency": option(db, "Seats JPY", "3000", currency="JPY"),
        "period": option(db, "Seats Q", "90.00", cycle=BillingCycle.QUARTERLY),
        "type": option(db, "Seats post", "30.00", billing_type=BillingType.POSTPAID),
        "billing day": option(db, "Seats 15th", "30.00", billing_day=15),
        "anniversary": option(db, "Seats own day", "30.00", anniversary_billing=True),
    }
    bill(db, JAN1)
    today = d(1, 15)
    subs = [sub, later, once, trial]

    def no(error: type[DomainError], code: str, spec: ChangeSpec, on: int = sub) -> None:
        refused(db, error, code, subs, today, on, spec)

    for effective in ("2027-01-14", "2027-13-01", "tomorrow", ""):
        no(InvalidInput, "invalid_effective", ChangeSpec(quantity=2, effective=effective))
    no(InvalidInput, "invalid_effective", ChangeSpec(quantity=2, effective="2027-02-15"), later)
    no(InvalidInput, "nothing_to_change", ChangeSpec())
    for quantity in (0, -1):
        no(InvalidInput, "invalid_quantity", ChangeSpec(quantity=quantity))
    for other in incompatible.values():
        no(InvalidInput, "incompatible_pricing_option", ChangeSpec(pricing_option_id=other))
    no(InvalidInput, "unchangeable_subscription", ChangeSpec(quantity=2), once)
    no(NotFound, "pricing_option_not_found", ChangeSpec(pricing_option_id=999_999))
    no(NotFound, "subscription_not_found", ChangeSpec(quantity=2), 999_999)
    # On or after the end of service (the term end without renewal is 1 Apr).
    no(Conflict, "subscription_ended", ChangeSpec(quantity=2, effective="2027-04-01"), trial)
    no(Conflict, "subscription_ended", ChangeSpec(quantity=2, effective="2027-05-20"), trial)

    cancel_subscription(db, sub, CancelAt.END_OF_PERIOD, today, ACTOR)  # ends 1 Feb
    for effective in ("end_of_period", "2027-02-01", "2027-03-01"):
        no(Conflict, "subscription_ended", ChangeSpec(quantity=2, effective=effective))
    cancel_subscription(db, later, CancelAt.NOW, today, ACTOR)  # never started: ends 1 Mar
    no(Conflict, "subscription_ended", ChangeSpec(quantity=2), later)

    # A change already in effect cannot be withdrawn; an unknown one is not found.
    scheduled = change(db, trial, today, quantity=2, effective="2027-01-20")
    for on in (d(1, 20), d(1, 25)):
        before = snapshot(db, subs, on)
        with pytest.raises(Conflict) as caught:
            withdraw_change(db, trial, scheduled.id, on, ACTOR)
        assert caught.value.code == "change_in_effect"
        assert snapshot(db, subs, on) == before
    with pytest.raises(NotFound) as unknown:
        withdraw_change(db, trial, 999_999, today, ACTOR)
    assert unknown.value.code == "change_not_found"
    with pytest.raises(NotFound) as elsewhere:
        withdraw_change(db, sub, scheduled.id, today, ACTOR)
    assert elsewhere.value.code == "change_not_found"

    # Once ended, nothing changes any more.
    after = d(2, 5)
    refused(db, Conflict, "subscription_ended", subs, after, sub, ChangeSpec(quantity=3))
    assert_documents_whole(db)
