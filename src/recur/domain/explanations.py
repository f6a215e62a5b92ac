"""Every amount explained: an item's arithmetic in words a customer understands.

"10 × 12.50 (11 Feb – 10 Mar 2027)", "20.00 × 22/31 days (20 Jan – 10 Feb 2027)",
"5 added × 30.00 × 21/31 days (11–31 Mar 2027)", "unused 20–31 Mar 2027: −15 × 30.00 ×
12/31 days", "420.5 hours × 0.096, 2 records (11 Jan – 10 Feb 2027)". Stored with each issued item, so that the words never change afterwards.
"""

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from recur.domain.catalogue import ChargeKind
from recur.domain.money import to_price
from recur.domain.usage import quantity_text

if TYPE_CHECKING:
    from decimal import Decimal

    from recur.domain.charges import Charge

MINUS = "−"  # U+2212, as printed amounts show a negative quantity
# English month names, as invoices print them (strftime's depend on the locale, and cost
# more than the rest of an explanation: every item of every run gets one).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def explain(charge: "Charge") -> str:
    price = _price_shown(charge.unit_price, charge.currency)
    if charge.kind is ChargeKind.SETUP:
        return f"setup fee {price}, once"
    if charge.kind is ChargeKind.ONE_TIME:
        return f"{charge.quantity} × {price}, once"
    span = days_shown(charge.period_start, charge.period_end - timedelta(days=1))
    if charge.usage is not None:
        usage = charge.usage
        records = len(usage.record_ids)
        counted = "1 record" if records == 1 else f"{records} records"
        return f"{quantity_text(usage.quantity)} {usage.meter.unit} × {price}, {counted} ({span})"
    share = "" if charge.days == charge.full_days else f" × {charge.days}/{charge.full_days} days"
    if charge.kind is ChargeKind.RECURRING:
        return f"{charge.quantity} × {price}{share} ({span})"
    if charge.quantity > 0:
        return f"{charge.quantity} added × {price}{share} ({span})"
    return f"unused {span}: {MINUS}{-charge.quantity} × {price}{share}"


@lru_cache(maxsize=4096)
def _price_shown(price: "Decimal", currency: str) -> str:
    """A catalogue has few prices: each is formatted once."""
    return str(to_price(price, currency))


def days_shown(first: date, last: date) -> str:
    """An inclusive span of days, as short as it reads unambiguously."""
    start, end = _MONTHS[first.month - 1], _MONTHS[last.month - 1]
    if first == last:
        return f"{first.day} {start} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {end} {last.year}"
    if first.year == last.year:
        return f"{first.day} {start} – {last.day} {end} {last.year}"
    return f"{first.day} {start} {first.year} – {last.day} {end} {last.year}"
