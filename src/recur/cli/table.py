"""What the CLI prints: user texts made safe for a terminal, and aligned tables."""

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime

import typer

from recur.presentation import day, timestamp
from recur.services.validation import BIDI_CONTROLS


# Control characters move the cursor, recolour or retitle the terminal (ESC sequences);
# bidi controls make the rest of a line read in another order. Both are shown escaped,
# for texts stored before the services refused them.
def terminal_safe(text: str) -> str:
    """`text` with every control and bidi character written as an escape (\\x1b, \\u202e)."""
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
        return char.encode("unicode_escape").decode("ascii")
    return char


def say(text: str, err: bool = False) -> None:
    """Print a line that may hold user texts (names, descriptions, messages)."""
    typer.echo(terminal_safe(text), err=err)


Cell = str | date | datetime | None


def cell_text(value: Cell) -> str:
    """A table cell as text: every date in every table reads alike (11 Jan 2027), and
    every moment too (11 Jan 2027, 09:30 UTC)."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return day(value)
    return "" if value is None else value


def print_table(
    headers: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    right: frozenset[int] | set[int] = frozenset(),
) -> None:
    rows = [[terminal_safe(cell_text(cell)) for cell in row] for row in cells]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    typer.echo(line(headers))
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo(line(row))
