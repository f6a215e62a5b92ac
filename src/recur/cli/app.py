"""The `recur` command: one Typer app; command groups register themselves on it."""

import inspect
import sys
from collections.abc import Callable
from functools import cache, wraps
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy.exc import DBAPIError

from recur.cli.output import emit, json_wanted, want_json
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


JSON_OPTION = "json_output"
Json = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document for scripts (money as strings)."),
]


def domain_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Give the command --json, and print a domain error as one line (a JSON object with
    --json) and exit with its status instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        want_json(bool(kwargs.pop(JSON_OPTION, False)))
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            if json_wanted():
                emit({"error": {"code": error.code, "message": error.message}}, err=True)
            else:
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

    # Every command decorated here takes --json: Typer reads it from the signature.
    signature = inspect.signature(command)
    option = inspect.Parameter(
        JSON_OPTION, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Json
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), option]
    )
    wrapper.__annotations__ = {**command.__annotations__, JSON_OPTION: Json}
    return wrapper


# Answering no to a confirmation: nothing was done, which a script must be able to tell.
EXIT_DECLINED = 1
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking first.")]


def confirm(question: str, yes: bool) -> None:
    """Go on if --yes was given or the user answers yes; else exit, nothing done. With
    --json the question goes to stderr, so that stdout stays one JSON document."""
    if yes or typer.confirm(question, default=False, err=json_wanted()):
        return
    if json_wanted():
        emit({"error": {"code": "declined", "message": "nothing was done"}}, err=True)
    else:
        typer.echo("nothing changed")
    raise typer.Exit(EXIT_DECLINED)
