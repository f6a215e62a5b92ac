"""SPEC §19: MRR converts each billing period to a month and rounds once at the end."""

from datetime import date
from decimal import Decimal

from recur.domain.metrics import MrrStep, RecurringService, mrr_on, trend_days
from recur.domain.timeline import InForce, Plan, ScheduledChange, segments_of

DAY = date(2027, 6, 15)


def test_mrr_is_rounded_once_at_the_end() -> None:
    # Three quarterly 10.00 subscriptions bring 10.00 a month: 3.333… each, rounded
    # once (each rounded on its own would give 9.99).
    steps = [MrrStep(date(2027, 1, 1), 3, Decimal("10.00")) for _ in range(3)]
    assert mrr_on(steps, [], DAY, "EUR") == Decimal("10.00")
    # JPY has no minor unit; KWD three places: 100 / 12 = 8.333…
    assert mrr_on([MrrStep(date(2027, 1, 1), 12, Decimal(100))], [], DAY, "KWD") == Decimal("8.333")


def test_mrr_counts_what_is_in_force_on_the_day() -> None:
    started = MrrStep(date(2027, 1, 1), 1, Decimal("50.00"))
    ended = MrrStep(date(2027, 6, 15), 1, Decimal("-50.00"))  # first day without service
    assert mrr_on([started, ended], [], date(2027, 6, 14), "EUR") == Decimal("50.00")
    assert mrr_on([started, ended], [], DAY, "EUR") == Decimal("0.00")
    assert mrr_on([started], [], date(2026, 12, 31), "EUR") == Decimal("0.00")


def test_a_changed_subscription_counts_the_plan_and_quantity_of_the_day() -> None:
    e3 = Plan(1, 1, "E3", True, Decimal("30.00"))
    e5 = Plan(2, 2, "E5", True, Decimal("50.00"))
    changes = [
        ScheduledChange(date(2027, 3, 11), 15, None),
        ScheduledChange(date(2027, 3, 20), None, e5),
    ]
    timeline = segments_of(InForce(date(2027, 3, 1), e3, 10), changes)
    service = RecurringService(date(2027, 3, 1), date(2027, 4, 16), 1, timeline)
    assert mrr_on([], [service], date(2027, 3, 10), "EUR") == Decimal("300.00")
    assert mrr_on([], [service], date(2027, 3, 11), "EUR") == Decimal("450.00")
    assert mrr_on([], [service], date(2027, 3, 31), "EUR") == Decimal("750.00")
    assert mrr_on([], [service], date(2027, 4, 16), "EUR") == Decimal("0.00")


def test_the_trend_is_each_month_end_of_the_last_year_then_today() -> None:
    days = trend_days(date(2027, 3, 15))
    assert days[0] == date(2026, 3, 31)
    assert days[-2:] == [date(2027, 2, 28), date(2027, 3, 15)]
    assert len(days) == 13
