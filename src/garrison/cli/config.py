"""``garrison config``: what Garrison is configured with, and where each value came from."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli import state
from garrison.cli.output import console, print_json, table
from garrison.core.settings import describe_settings

app = typer.Typer(
    help="""Show the effective settings.

\b
Every setting is an environment variable GARRISON_<NAME>:
  GARRISON_DATABASE_URL  sqlite:///file.db (default .garrison/garrison.db)
                         or postgresql+psycopg://user:pass@host:5432/db
  GARRISON_CONTENT_DIR   a folder whose YAML files override the packaged content
  GARRISON_LOG_LEVEL     DEBUG, INFO, WARNING, ERROR
  GARRISON_HOST, _PORT   where `garrison serve` listens (127.0.0.1:8000)
""",
    no_args_is_help=True,
)


@app.command()
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print every setting, its value (passwords hidden) and its source."""
    rows = describe_settings(state.settings())
    if as_json:
        print_json([row.__dict__ for row in rows])
        return
    console.print(
        table(
            "Effective settings",
            ["setting", "value", "source"],
            ([r.env_var, r.value, r.source] for r in rows),
        )
    )
