"""What a command prints for scripts (`--json`): one JSON document on stdout, money and
other exact numbers as strings, dates as ISO 8601; the human tables are not printed."""

import dataclasses
import json
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

import typer

from recur.domain.pages import Page

_wanted: ContextVar[bool] = ContextVar("recur_cli_json", default=False)


def json_wanted() -> bool:
    """Whether the running command was given --json."""
    return _wanted.get()


def want_json(wanted: bool) -> None:
    _wanted.set(wanted)


def as_json(value: Any) -> Any:
    """`value` as JSON types: dataclasses and named tuples as objects, Decimal and
    Fraction as strings (never a float), dates and moments as ISO 8601, enums as values."""
    if isinstance(value, Enum):
        return as_json(value.value)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return as_json(value._asdict())
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(v) for v in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def emit(value: Any, err: bool = False) -> None:
    """Print `value` as one JSON document."""
    typer.echo(json.dumps(as_json(value), indent=2, ensure_ascii=False), err=err)


def emit_items(items: Sequence[Any]) -> None:
    """A whole list, in the shape of a page of one (what list commands print)."""
    emit(Page(list(items), len(items), None))
