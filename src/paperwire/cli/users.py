"""`paperwire user ...`: create accounts (the first admin too) and list them."""

from __future__ import annotations

import typer

from paperwire.cli.context import fail, open_container
from paperwire.domain.permissions import Role
from paperwire.services import accounts

user_app = typer.Typer(help="User accounts: create, list.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(user_app, name="user")


@user_app.command("create")
def create(
    username: str = typer.Argument(..., help="3 to 30 letters, digits, '-' or '_'."),
    email: str = typer.Option(..., "--email", help="The account's email address."),
    password: str = typer.Option(
        None, "--password", help="Omit to be asked (hidden, twice).", show_default=False
    ),
    admin: bool = typer.Option(False, "--admin", help="Give the account the admin role."),
    moderator: bool = typer.Option(False, "--moderator", help="Give it the moderator role."),
) -> None:
    """Create an account with a confirmed email address."""
    if admin and moderator:
        raise fail("choose --admin or --moderator, not both")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    role = Role.ADMIN if admin else Role.MODERATOR if moderator else Role.USER
    with open_container(schema="create") as container:
        try:
            user = accounts.create_user(
                container.engine,
                username=username,
                email=email,
                password=password,
                role=role,
                verified=True,
            )
        except accounts.AccountError as exc:
            raise fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}") from None
    typer.echo(f"created {user.role} {user.username} <{user.email}> (id {user.id})")


@user_app.command("list")
def list_users() -> None:
    """List accounts: id, username, email, role, state."""
    with open_container() as container:
        users = accounts.list_users(container.engine)
    if not users:
        typer.echo(
            "no users yet; create the first admin with: paperwire user create NAME "
            "--email E --admin"
        )
        return
    for u in users:
        state = "suspended" if u.suspended else ("verified" if u.email_verified else "unverified")
        typer.echo(f"{u.id}\t{u.username}\t{u.email}\t{u.role}\t{state}")


@user_app.command("token")
def token(
    username: str = typer.Argument(..., help="The account the token acts for."),
    label: str = typer.Option(
        "command line", "--label", help="A name to recognise the token by in Settings."
    ),
    expires_days: int | None = typer.Option(
        None, "--expires-days", help="Stop working after this many days (default: never)."
    ),
) -> None:
    """Create an API token and print it once (send it as `Authorization: Bearer ...`)."""
    with open_container() as container:
        user = accounts.find_user(container.engine, username)
        if user is None:
            raise fail(f"there is no user {username!r}; see `paperwire user list`")
        try:
            raw = accounts.create_api_token(
                container.engine, user.id, label, expires_days=expires_days
            )
        except accounts.AccountError as exc:
            raise fail(exc.message) from None
    typer.echo(raw)
