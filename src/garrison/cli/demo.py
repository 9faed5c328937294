"""``garrison demo``: the demo organization in the store, then the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli import state
from garrison.cli.output import console, table
from garrison.demo import load_demo
from garrison.store import describe_url


def demo(
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the dashboard once the demo is loaded."),
    ] = True,
    host: Annotated[
        str | None, typer.Option(help="Listen address (default GARRISON_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default GARRISON_PORT).")] = None,
) -> None:
    """Load the demo organization into the store, then serve the dashboard.

    The store is GARRISON_DATABASE_URL (by default the SQLite file .garrison/garrison.db).
    Loading is idempotent: run it again and nothing is duplicated.

    \b
    Examples:
      garrison demo              # load, then serve on http://127.0.0.1:8000
      garrison demo --no-serve   # load and exit (scripts, tests)
    """
    settings = state.settings()
    store = state.store()
    report = load_demo(store, content_dir=settings.content_dir)
    console.print(
        table(f"Demo loaded into {describe_url(store.url)}", ["step", "result"], report.steps)
    )
    if serve:
        from garrison.web.server import serve as serve_dashboard  # the web stack only when serving

        serve_dashboard(settings, host=host, port=port)
