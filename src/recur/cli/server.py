"""`recur serve`, `recur worker`, `recur token …`: the running service and its API tokens."""

from typing import Annotated

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.output import emit, emit_items, json_wanted
from recur.cli.table import print_table
from recur.db.migrate import is_current, upgrade
from recur.db.session import is_sqlite
from recur.domain.roles import Role
from recur.logging_setup import configure_logging
from recur.server_processes import serve_processes
from recur.services.tokens import create_token, list_tokens, revoke_token
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
    if json_wanted():
        emit({"token": secret, "name": principal.name, "role": principal.role})
        return
    typer.echo(secret)
    typer.echo(f"token {principal.name!r} ({principal.role}) created", err=True)


@token_app.command("list")
@domain_errors
def token_list() -> None:
    """Every API token: its id, name, role, when it was created and last used."""
    found = list_tokens(context().db)
    if json_wanted():
        emit_items(found)
        return
    rows = [
        [
            str(t.id),
            t.name,
            t.role.value,
            t.created_at,
            t.last_used_at or "never",
            "revoked" if t.revoked_at else "active",
        ]
        for t in found
    ]
    print_table(["id", "name", "role", "created", "last used", "status"], rows, right={0})


@token_app.command("revoke")
@domain_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (`recur token list`).")],
) -> None:
    """Revoke an API token: its next request is refused."""
    revoke_token(context().db, token_id, "cli")
    if json_wanted():
        emit({"token_id": token_id, "revoked": True})
        return
    typer.echo(f"token {token_id} revoked")
