"""`recur serve`, `recur worker`, `recur token create`: the running service."""

from typing import Annotated

import typer

from recur.cli.app import app, context, domain_errors
from recur.db.migrate import is_current, upgrade
from recur.db.session import is_sqlite
from recur.logging_setup import configure_logging
from recur.server_processes import serve_processes
from recur.services.roles import Role
from recur.services.tokens import create_token
from recur.worker import worker

token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.command("worker")(worker)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Web server processes (PostgreSQL only, when more than 1).")
    ] = 1,
) -> None:
    """Serve the back office and the API, with the billing schedule (RECUR_SCHEDULER=off: without)."""
    configure_logging()
    ctx = context()
    if workers > 1 and is_sqlite(ctx.db.engine):
        # Processes would wait on each other for SQLite's single writer lock.
        raise typer.BadParameter(
            "several server processes need PostgreSQL (RECUR_DATABASE_URL); on SQLite "
            "serve one process, with RECUR_SERVER_THREADS threads",
            param_hint="--workers",
        )
    # An embedded SQLite file is set up on first start; PostgreSQL is migrated by
    # `recur db upgrade` (several servers must not race to migrate it).
    if is_sqlite(ctx.db.engine) and not is_current(ctx.db.engine):
        upgrade(ctx.settings.database_url)
    serve_processes(host, port, workers)


@token_app.command("create")
@domain_errors
def token_create(
    role: Annotated[Role, typer.Option(help="admin, operator or viewer.")] = Role.VIEWER,
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    principal, secret = create_token(context().db, role, name or f"{role}-token", "cli")
    typer.echo(secret)
    typer.echo(f"token {principal.name!r} ({principal.role}) created", err=True)
