"""Exponential backoff after repeated failures (sign-in throttling), as a pure rule."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """`threshold` failures in a row are let through; from then on each failure makes
    the next attempt wait, `first_wait` seconds and twice as long after each further
    failure, never longer than `longest_wait`."""

    threshold: int
    first_wait: float
    longest_wait: float

    def wait_after(self, failures: int) -> timedelta:
        beyond = failures - self.threshold
        if beyond < 0:
            return timedelta(0)
        # Capped exponent: 2**64 seconds is already beyond any longest wait.
        return timedelta(seconds=min(self.first_wait * 2 ** min(beyond, 64), self.longest_wait))
