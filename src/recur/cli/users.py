"""`recur user …`: back-office users."""

import typer

from recur.cli.app import app, context, domain_errors
from recur.cli.output import emit, emit_items, json_wanted
from recur.cli.table import print_table
from recur.domain.roles import Role
from recur.services import users

user_app = typer.Typer(help="Back-office users.", no_args_is_help=True)
app.add_typer(user_app, name="user")

EMAIL = typer.Argument(..., help="The user's e-mail address (their sign-in name).")
PASSWORD = typer.Option(
    None, "--password", help="The password; asked for (twice, hidden) when not given."
)


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
@domain_errors
def create(
    email: str = EMAIL,
    role: Role = typer.Option(Role.OPERATOR, "--role", help="What the user may do."),
    password: str | None = PASSWORD,
) -> None:
    """Create a back-office user."""
    user = users.create_user(context().db, email, role, _password(password), actor="cli")
    if json_wanted():
        emit(user)
        return
    typer.echo(f"created user {user.email} ({user.role.value})")


@user_app.command("list")
@domain_errors
def list_users() -> None:
    """Every user, with their role and whether they may sign in."""
    found = users.list_users(context().db)
    if json_wanted():
        emit_items(found)
        return
    rows = [[u.email, u.role.value, "disabled" if u.disabled else "active"] for u in found]
    print_table(["e-mail", "role", "status"], rows)


@user_app.command("disable")
@domain_errors
def disable(email: str = EMAIL) -> None:
    """Disable a user: their sessions end and they cannot sign in."""
    db = context().db
    user = users.set_disabled(db, users.user_by_email(db, email).id, True, actor="cli")
    if json_wanted():
        emit(user)
        return
    typer.echo(f"disabled user {user.email}: signed out, cannot sign in")


@user_app.command("enable")
@domain_errors
def enable(email: str = EMAIL) -> None:
    """Let a disabled user sign in again."""
    db = context().db
    user = users.set_disabled(db, users.user_by_email(db, email).id, False, actor="cli")
    if json_wanted():
        emit(user)
        return
    typer.echo(f"enabled user {user.email}")


@user_app.command("reset-password")
@domain_errors
def reset_password(email: str = EMAIL, password: str | None = PASSWORD) -> None:
    """Set a user's password (as an administrator would); their sessions end."""
    db = context().db
    user = users.user_by_email(db, email)
    users.reset_password(db, user.id, _password(password), actor="cli")
    if json_wanted():
        emit({"email": user.email, "password_reset": True})
        return
    typer.echo(f"password of {user.email} reset; their sessions are signed out")


@user_app.command("change-password")
@domain_errors
def change_password(
    email: str = EMAIL,
    current: str | None = typer.Option(
        None, "--current", help="The current password; asked for (hidden) when not given."
    ),
    password: str | None = PASSWORD,
) -> None:
    """Change one's own password, proving the current one; other sessions end."""
    db = context().db
    user = users.user_by_email(db, email)
    if current is None:
        current = str(typer.prompt("Current password", hide_input=True))
    users.change_password(db, user.id, current, _password(password), actor=user.actor)
    if json_wanted():
        emit({"email": user.email, "password_changed": True})
        return
    typer.echo(f"password of {user.email} changed; their sessions are signed out")
