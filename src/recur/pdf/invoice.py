"""The invoice document: the same figures as the invoice page, laid out for print."""

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from recur import presentation as fmt
from recur.db.models import Invoice
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
    )
    return env


def render_invoice_html(invoice: Invoice, seller_name: str | None = None) -> str:
    """The invoice as a printable HTML page (its items and account must be loaded)."""
    template = _environment().get_template("invoice.html")
    seller = seller_name if seller_name is not None else get_settings().seller_name
    return template.render(invoice=invoice, account=invoice.account, seller_name=seller)


def render_invoice_pdf(invoice: Invoice, seller_name: str | None = None) -> bytes:
    """The invoice as PDF bytes; `seller_name` defaults to the settings' (RECUR_SELLER_NAME)."""
    from weasyprint import HTML  # imported late: loading Pango takes a while

    pdf = HTML(
        string=render_invoice_html(invoice, seller_name), base_url=str(_TEMPLATES)
    ).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
