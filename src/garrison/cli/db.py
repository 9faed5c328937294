"""``garrison db``: the store's schema version, and upgrading it."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli import state
from garrison.cli.output import console, print_json
from garrison.store.database import check_connection, create_store_engine, describe_url
from garrison.store.schema import raise_newer, schema_status, upgrade

app = typer.Typer(
    help="""Manage the store's schema (Alembic migrations packaged with Garrison).

The CLI and the server upgrade an empty or older database on first use; these commands do it
explicitly, e.g. before a deployment. A database written by a newer Garrison is refused.

\b
Examples:
  garrison db current
  GARRISON_DATABASE_URL=postgresql+psycopg://garrison@db/garrison garrison db upgrade
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("upgrade")
def upgrade_command(as_json: JsonOption = False) -> None:
    """Bring the database schema up to the newest revision this Garrison knows."""
    url = state.settings().database_url
    engine = create_store_engine(url)
    try:
        check_connection(engine)
        before = schema_status(engine).current
        upgrade(engine)
        after = schema_status(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json({"database": describe_url(url), "from": before, "to": after.current})
    elif before == after.current:
        console.print(f"{describe_url(url)} is already at revision {after.current}.")
    else:
        console.print(f"Upgraded {describe_url(url)} from {before or 'empty'} to {after.current}.")


@app.command()
def current(as_json: JsonOption = False) -> None:
    """Show the database's schema revision and whether it is up to date. Exits 1 if behind."""
    url = state.settings().database_url
    engine = create_store_engine(url)
    try:
        check_connection(engine)
        status = schema_status(engine)
        if not status.known:
            raise_newer(engine, status)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "database": describe_url(url),
                "current": status.current,
                "head": status.head,
                "up_to_date": status.up_to_date,
            }
        )
    else:
        verdict = "up to date" if status.up_to_date else f"behind (newest is {status.head})"
        console.print(f"{describe_url(url)}: revision {status.current or 'none'}, {verdict}.")
    if not status.up_to_date:
        raise typer.Exit(1)
