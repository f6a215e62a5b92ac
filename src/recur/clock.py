"""The one clock every service asks for today's date."""

from datetime import UTC, date, datetime
from threading import Lock
from typing import Protocol


class Clock(Protocol):
    def today(self) -> date: ...


class SystemClock:
    def today(self) -> date:
        return date.today()


class FixedClock:
    """A pinned date (RECUR_TODAY)."""

    def __init__(self, today: date) -> None:
        self._today = today

    def today(self) -> date:
        return self._today


class TestClock:
    """A clock tests and demos can move (RECUR_TEST_CLOCK=1); the last set wins."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: date) -> None:
        self._today = start
        self._lock = Lock()

    def today(self) -> date:
        with self._lock:
            return self._today

    def set(self, today: date) -> None:
        with self._lock:
            self._today = today


def clock_from_settings(today: date | None, test_clock: bool) -> Clock:
    if test_clock:
        return TestClock(today or date.today())
    if today is not None:
        return FixedClock(today)
    return SystemClock()


def utc_now() -> datetime:
    """The wall-clock instant, for credentials (session expiry, sign-in backoff, a
    token's last use): they live in real time, not in the billing calendar above."""
    return datetime.now(UTC)
