"""The statement of account as a printable document (services/statements.py)."""

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from recur import presentation as fmt
from recur.domain.accounts import Account
from recur.domain.identity import Seller
from recur.domain.statement import Statement

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(money=fmt.money, day=fmt.day)
    return env


def render_statement_html(statement: Statement, account: Account, seller: Seller) -> str:
    template = _environment().get_template("statement.html")
    return template.render(statement=statement, account=account, seller=seller)


def render_statement_pdf(statement: Statement, account: Account, seller: Seller) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango takes a while

    html = render_statement_html(statement, account, seller)
    pdf = HTML(string=html, base_url=str(_TEMPLATES)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
