"""The invoice document: the same figures as the invoice page, laid out for print, with
everything art. 226 of Directive 2006/112/EC asks an invoice to show."""

from functools import cache
from pathlib import Path

from babel import Locale
from jinja2 import Environment, FileSystemLoader, select_autoescape

from recur import presentation as fmt
from recur.services.documents import PrintedDocument

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(
        money=fmt.money,
        price=fmt.price,
        day=fmt.day,
        period=fmt.period,
        percent=fmt.percent,
        label=fmt.label,
        doc_type=fmt.document_type,
        item_quantity=fmt.item_quantity,
        country=_country,
    )
    return env


def _country(code: str | None) -> str:
    """A country's English name from its ISO 3166-1 code (the code if CLDR has none)."""
    if not code:
        return ""
    return str(Locale(fmt.LOCALE).territories.get(code, code))


def render_invoice_html(document: PrintedDocument) -> str:
    """The invoice (or credit note) as a printable HTML page."""
    template = _environment().get_template("invoice.html")
    return template.render(
        invoice=document.invoice,
        seller=document.seller,
        buyer=document.buyer,
        logo_url=document.logo_url,
        email=document.email,
        corrects=document.corrects,
    )


def render_invoice_pdf(document: PrintedDocument) -> bytes:
    """The invoice (or credit note) as PDF bytes, its text extractable. Nothing is
    fetched: the logo is a data: URL, and any other URL is refused."""
    from weasyprint import HTML  # imported late: loading Pango takes a while
    from weasyprint.urls import URLFetcher

    data_only = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    html = render_invoice_html(document)
    pdf = HTML(string=html, base_url=str(_TEMPLATES), url_fetcher=data_only).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
