"""The invoice document: the same figures as the invoice page, laid out for print."""

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape

from recur import presentation as fmt
from recur.domain.issued import Invoice
from recur.settings import get_settings

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(
        money=fmt.money,
        price=fmt.price,
        day=fmt.day,
        period=fmt.period,
        ratio=fmt.ratio,
        percent=fmt.percent,
        label=fmt.label,
        doc_type=fmt.document_type,
        item_quantity=fmt.item_quantity,
    )
    return env


class BillTo(Protocol):
    """Whom a document is addressed to: its account (services.accounts.get_account)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...


def render_invoice_html(
    invoice: Invoice, seller_name: str | None, corrects: Sequence[str], *, bill_to: BillTo
) -> str:
    """The invoice as a printable HTML page; `corrects` are the numbers of the invoices
    its adjustments correct, `bill_to` its account."""
    template = _environment().get_template("invoice.html")
    seller = seller_name if seller_name is not None else get_settings().seller_name
    return template.render(invoice=invoice, account=bill_to, seller_name=seller, corrects=corrects)


def render_invoice_pdf(
    invoice: Invoice, seller_name: str | None, corrects: Sequence[str], *, bill_to: BillTo
) -> bytes:
    """The invoice (or credit note) as PDF bytes; `seller_name` None means the settings'
    (RECUR_SELLER_NAME); `corrects` are the numbers of the invoices it corrects
    (services.corrections.corrected_invoices), which every door must name; `bill_to` is
    its account, whose address the document shows."""
    from weasyprint import HTML  # imported late: loading Pango takes a while

    html = render_invoice_html(invoice, seller_name, corrects, bill_to=bill_to)
    pdf = HTML(string=html, base_url=str(_TEMPLATES)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
