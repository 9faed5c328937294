"""``garrison user``: local dashboard accounts."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.text import Text

from garrison.cli import state
from garrison.cli.output import console, print_json, table
from garrison.cli.token import cli_actor
from garrison.core.errors import GarrisonError
from garrison.identity import add_user, disable_user, list_users, set_password

app = typer.Typer(
    help="""Local users who sign in to the dashboard (argon2id password hashes).

Roles: read, analyst (read + acknowledge, silence, attest, accept risk), admin (everything).
Passwords are prompted for (or read from GARRISON_NEW_PASSWORD for scripts), never taken as an
argument, so they stay out of shell history and process lists.

\b
Examples:
  garrison user add alice --role analyst
  garrison user add bob --role read --org northwind
  garrison user list --json
  garrison user passwd alice
  garrison user disable bob
""",
    no_args_is_help=True,
)

PASSWORD_ENV = "GARRISON_NEW_PASSWORD"  # noqa: S105 - the variable's name, not a password
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _new_password() -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Repeat it", hide_input=True)
    if first != second:
        raise GarrisonError("the two passwords differ", hint="type the same password twice")
    return str(first)


@app.command()
def add(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, .-_@")],
    role: Annotated[str, typer.Option("--role", help="read, analyst or admin.")] = "read",
    org: Annotated[
        str | None, typer.Option("--org", help="Limit the user to one organization's data.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
) -> None:
    """Create a user; the password is prompted for.

    \b
    Examples:
      garrison user add alice --role analyst --name "Alice Martin"
      GARRISON_NEW_PASSWORD=... garrison user add ci-viewer --role read
    """
    password = _new_password()
    with state.store().session() as session:
        user = add_user(
            session,
            username,
            role=role,
            actor=cli_actor(),
            password=password,
            org=org,
            display_name=name,
        )
    console.print(Text(f"user {user.username} ({user.role.value}) created"))


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every user with role, organization and whether they are disabled.

    \b
    Example:
      garrison user list --json
    """
    with state.store().session() as session:
        users = list_users(session)
    if as_json:
        print_json([u.as_dict() for u in users])
        return
    rows = [
        [u.username, u.display_name, u.role.value, u.org or "(all)", "yes" if u.disabled else ""]
        for u in users
    ]
    console.print(table("Users", ["username", "name", "role", "org", "disabled"], rows))


@app.command()
def disable(username: Annotated[str, typer.Argument(help="The user to disable.")]) -> None:
    """Disable a user and end their sessions; their past approvals keep their name.

    \b
    Example:
      garrison user disable bob
    """
    with state.store().session() as session:
        user = disable_user(session, username, actor=cli_actor())
    console.print(Text(f"user {user.username} disabled"))


@app.command()
def passwd(username: Annotated[str, typer.Argument(help="Whose password to set.")]) -> None:
    """Set a new password (prompted for); the user's open sessions end.

    \b
    Example:
      garrison user passwd alice
    """
    password = _new_password()
    with state.store().session() as session:
        user = set_password(session, username, password, actor=cli_actor())
    console.print(Text(f"password of {user.username} changed"))
