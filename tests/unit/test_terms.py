"""The current term of a renewing subscription: the first term boundary after today."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from recur.domain.calendar import add_months
from recur.services.subscriptions import SubscriptionFacts, term_end


def _facts(start: date, term_months: int, auto_renew: bool = True) -> SubscriptionFacts:
    return SubscriptionFacts(1, 1, 1, 1, start, auto_renew, term_months, "active", None, None)


@given(
    start=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    term_months=st.sampled_from([1, 3, 6, 12, 24, 36]),
    today=st.dates(date(1999, 1, 1), date(2090, 12, 31)),
)
def test_a_renewing_term_ends_at_the_first_boundary_after_today(
    start: date, term_months: int, today: date
) -> None:
    end = term_end(_facts(start, term_months), today)
    assert end is not None
    assert end > today
    terms = next(n for n in range(1, 2000) if add_months(start, n * term_months) == end)
    # No earlier boundary is after today: `end` is the first one.
    assert terms == 1 or add_months(start, (terms - 1) * term_months) <= today


def test_an_anniversary_on_the_31st_renews_on_clamped_month_ends() -> None:
    start = date(2027, 1, 31)
    assert term_end(_facts(start, 1), date(2027, 2, 27)) == date(2027, 2, 28)
    assert term_end(_facts(start, 1), date(2027, 2, 28)) == date(2027, 3, 31)
    assert term_end(_facts(start, 12), date(2031, 6, 1)) == date(2032, 1, 31)


def test_a_term_without_renewal_ends_once_and_a_one_time_price_has_no_term() -> None:
    start = date(2027, 1, 11)
    assert term_end(_facts(start, 12, auto_renew=False), date(2030, 1, 1)) == date(2028, 1, 11)
    assert term_end(_facts(start, 0), date(2027, 5, 1)) is None
