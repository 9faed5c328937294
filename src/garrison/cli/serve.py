"""``garrison serve``: the API and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli import state


def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen address (default GARRISON_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default GARRISON_PORT).")] = None,
) -> None:
    """Serve the JSON API (/api/v1, /openapi.json) and the dashboard.

    The database is upgraded on first use.

    \b
    Examples:
      garrison serve                  # http://127.0.0.1:8000
      GARRISON_DATABASE_URL=postgresql+psycopg://garrison@db/garrison \\
        garrison serve --host 0.0.0.0
    """
    from garrison.web.server import serve as serve_dashboard

    state.store()  # fail here, with a clear message, if the database is unusable
    serve_dashboard(state.settings(), host=host, port=port)
