"""CSV exports for the API and the back office, all through one writer: lists
(accounts, subscriptions, invoices) with their current filter and sort, every row (not
one page), streamed page by page as it is read; forecasts; and the aging report. Money as exact
decimal strings in the currency's places."""

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from fastapi.responses import StreamingResponse

from recur.domain.accounts import Account
from recur.domain.issued import Invoice, IssuedInvoice
from recur.domain.money import to_money, to_price
from recur.domain.pages import MAX_LIMIT, Page, every_item
from recur.domain.receivables import BUCKET_NAMES, Aging, AgingRow
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

# A forecast's documents have no number yet: they are named by date and account.
FORECAST_COLUMNS: Columns[IssuedInvoice] = (
    ("issue_date", lambda d: d.issue_date),
    ("account_id", lambda d: d.account_id),
    ("type", lambda d: d.type),
    ("currency", lambda d: d.currency),
    ("subtotal", lambda d: to_money(d.subtotal, d.currency)),
    ("tax", lambda d: to_money(d.tax, d.currency)),
    ("total", lambda d: to_money(d.total, d.currency)),
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


def aging_columns(as_of: date) -> Columns[AgingRow]:
    """A row of the aging report: an account's per currency, or the book's (no account)."""
    return (
        ("as_of", lambda _: as_of),
        ("account_id", lambda r: r.account_id),
        ("account", lambda r: r.account_name),
        ("currency", lambda r: r.currency),
        *((name, _bucket(name)) for name in BUCKET_NAMES),
        ("total", lambda r: to_money(r.total, r.currency)),
    )


def _bucket(name: str) -> Callable[[AgingRow], Cell]:
    # A function of its own so that each column binds its own bucket's name.
    return lambda r: to_money(r.buckets[name], r.currency)


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
    return _download(
        f"{name}-{today.isoformat()}",
        csv_lines(columns, every_item(first, lambda at: fetch(at, CHUNK))),
    )


def forecast_csv(name: str, documents: Iterator[IssuedInvoice]) -> StreamingResponse:
    """A forecast's documents (an account's, or a whole-book job's) as a download."""
    return _download(name, csv_lines(FORECAST_COLUMNS, documents))


def aging_csv(report: Aging) -> StreamingResponse:
    """The aging report as a download named `aging-<as_of>.csv`."""
    return _download(f"aging-{report.as_of.isoformat()}", aging_lines(report))


def aging_lines(report: Aging) -> Iterator[str]:
    """A row per account and currency, then the book's per currency (account empty)."""
    return csv_lines(aging_columns(report.as_of), iter([*report.accounts, *report.overall]))


def _download(name: str, lines: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
