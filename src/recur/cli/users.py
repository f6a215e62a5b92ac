"""`recur user …`: back-office users."""

import typer

from recur.cli.app import app, context, domain_errors
from recur.services import users
from recur.services.roles import Role

user_app = typer.Typer(help="Back-office users.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
@domain_errors
def create(
    email: str = typer.Argument(..., help="The user's e-mail address (their sign-in name)."),
    role: Role = typer.Option(Role.OPERATOR, "--role", help="What the user may do."),
    password: str | None = typer.Option(
        None, "--password", help="The password; asked for (twice, hidden) when not given."
    ),
) -> None:
    """Create a back-office user."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = users.create_user(context().db, email, role, password, actor="cli")
    typer.echo(f"created user {user.email} ({user.role.value})")
