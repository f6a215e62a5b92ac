"""The `recur` command: one Typer app; command groups register themselves on it."""

import sys
from collections.abc import Callable
from functools import cache, wraps
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.exc import DBAPIError

from recur.cli.table import say
from recur.context import AppContext, context_from_settings
from recur.db.migrate import is_current
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound

app = typer.Typer(help="Recur: subscription billing.", no_args_is_help=True, add_completion=False)

P = ParamSpec("P")
R = TypeVar("R")

# Exit statuses, one per kind of domain error (sysexits-style), mapped here once.
EXIT_STATUS: dict[type[DomainError], int] = {NotFound: 3, Conflict: 4, InvalidInput: 2}
EXIT_NOT_MIGRATED = 5


@cache
def context() -> AppContext:
    return context_from_settings()


def domain_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a domain error as one line and exit with its status instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            say(f"error: {error.message} ({error.code})", err=True)
            status = next((s for kind, s in EXIT_STATUS.items() if isinstance(error, kind)), 1)
            sys.exit(status)
        except DBAPIError:
            if is_current(context().db.engine):
                raise
            typer.echo(
                "error: the database schema is not up to date: run `recur db upgrade`", err=True
            )
            sys.exit(EXIT_NOT_MIGRATED)

    return wrapper
