"""``garrison discover code PATH...``: find the AI a source repository uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.discover import DryRunOption, JsonOption, record_run
from garrison.core.errors import GarrisonError


def code(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Repositories or folders to scan (files are read, never executed)."),
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="Organization the assets belong to.")
    ] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Scan code and configuration for LLM SDKs, models, API key names, agents and their tools,
    MCP servers and vector stores. Each finding is recorded with its file and line; a literal
    key is recorded by fingerprint only."""
    from garrison.inventory.discovery.code import discover_code

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise GarrisonError(
            f"no such path: {', '.join(missing)}", hint="give a repository or folder to scan"
        )
    record_run(discover_code(paths, org=org), dry_run=dry_run, as_json=as_json)
