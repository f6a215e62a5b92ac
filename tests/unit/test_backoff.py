"""The sign-in backoff rule: free failures, then waits that double up to a ceiling."""

from datetime import timedelta

from recur.domain.backoff import Backoff


def test_the_wait_doubles_after_the_threshold_up_to_the_longest() -> None:
    rule = Backoff(threshold=5, first_wait=1.0, longest_wait=900.0)
    waits = [rule.wait_after(n).total_seconds() for n in range(1, 17)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_a_huge_count_still_waits_the_longest() -> None:
    rule = Backoff(threshold=5, first_wait=1.0, longest_wait=900.0)
    assert rule.wait_after(10_000) == timedelta(seconds=900)
