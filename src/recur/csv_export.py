"""CSV exports of lists (accounts, subscriptions, invoices) for the API and the back
office: the list's current filter and sort, every row (not one page), streamed page
by page as it is read, with money as exact decimal strings in the currency's places."""

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from fastapi.responses import StreamingResponse

from recur.domain.accounts import Account
from recur.domain.issued import Invoice
from recur.domain.money import to_money, to_price
from recur.domain.pages import MAX_LIMIT, Page, every_item
from recur.domain.subscriptions import Subscription
from recur.services.subscriptions import effective_status

T = TypeVar("T")

Cell = str | int | bool | Decimal | date | None
Columns = Sequence[tuple[str, Callable[[T], Cell]]]
# The page of a list at a cursor, of a size: how an export reads its list.
Fetch = Callable[[str | None, int], Page[T]]
CHUNK = MAX_LIMIT  # rows read at a time

# A spreadsheet runs a text cell starting with one of these as a formula (CSV
# injection): such text is kept as text by a leading apostrophe, as OWASP advises.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ACCOUNT_COLUMNS: Columns[Account] = (
    ("id", lambda a: a.id),
    ("name", lambda a: a.name),
    ("email", lambda a: a.email),
    ("currency", lambda a: a.currency),
    ("billing_day", lambda a: a.billing_day),
    ("payment_terms_days", lambda a: a.payment_terms_days),
    ("tax_rate", lambda a: a.tax_rate),
    ("status", lambda a: a.status),
    ("created_at", lambda a: a.created_at),
)

INVOICE_COLUMNS: Columns[Invoice] = (
    ("id", lambda i: i.id),
    ("number", lambda i: i.number),
    ("type", lambda i: i.type),
    ("account_id", lambda i: i.account.id),
    ("account", lambda i: i.account.name),
    ("issue_date", lambda i: i.issue_date),
    ("due_date", lambda i: i.due_date),
    ("currency", lambda i: i.currency),
    ("subtotal", lambda i: to_money(i.subtotal, i.currency)),
    ("tax", lambda i: to_money(i.tax, i.currency)),
    ("total", lambda i: to_money(i.total, i.currency)),
    ("amount_due", lambda i: to_money(i.amount_due, i.currency)),
    ("status", lambda i: i.status),
    ("source", lambda i: i.source),
)


def subscription_columns(today: date) -> Columns[Subscription]:
    """A subscription's columns; its status is the effective one as of `today`."""
    return (
        ("id", lambda s: s.id),
        ("account_id", lambda s: s.account.id),
        ("account", lambda s: s.account.name),
        ("product", lambda s: s.pricing_option.product.name),
        ("pricing_option", lambda s: s.pricing_option.code),
        ("unit_price", lambda s: to_price(s.pricing_option.unit_price, s.pricing_option.currency)),
        ("currency", lambda s: s.pricing_option.currency),
        ("quantity", lambda s: s.quantity),
        ("start_date", lambda s: s.start_date),
        ("status", lambda s: effective_status(s, today).value),
        ("end_date", lambda s: s.end_date),
        ("next_charge_date", lambda s: s.next_charge_date),
    )


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, date | datetime):
        return cell.isoformat()
    if isinstance(cell, str):
        return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
    return str(cell)  # an int, or a Decimal exactly as it is (never a float)


def csv_lines(columns: Columns[T], items: Iterator[T]) -> Iterator[str]:
    """The header, then a CSV line per item (RFC 4180: CRLF, quoted when needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line([name for name, _ in columns])
    for item in items:
        yield line([_text(value(item)) for _, value in columns])


def csv_response(name: str, columns: Columns[T], fetch: Fetch[T], today: date) -> StreamingResponse:
    """Every row of a list as a CSV download named `name-<today>.csv`. The first page
    is read before answering, so a bad sort or cursor is refused (422) rather than
    sent as a cut-off file."""
    first = fetch(None, CHUNK)
    return StreamingResponse(
        csv_lines(columns, every_item(first, lambda at: fetch(at, CHUNK))),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{today.isoformat()}.csv"'},
    )
