"""``garrison discover files PATH...``: model files, Hugging Face folders, datasets and vector
stores on disk, registered with their supply-chain findings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from garrison.cli import state
from garrison.cli.discover import DryRunOption, JsonOption, record_run
from garrison.cli.output import err_console
from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.files import DEFAULT_MAX_FILE_SIZE, discover_files
from garrison.inventory.discovery.files import Progress as WalkProgress

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int | None:
    """``"2G"`` → 2 GiB, ``"500M"``, ``"0"`` (no limit → None)."""
    match = _SIZE.match(text)
    if match is None:
        raise GarrisonError(
            f"--max-file-size {text!r} is not a size", hint="e.g. 500M, 2G, 0 for no limit"
        )
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return value or None


@contextmanager
def walk_progress(enabled: bool) -> Iterator[WalkProgress | None]:
    """A counting progress bar on stderr; the walk calls it every few hundred files."""
    if not enabled:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("walking: {task.completed:,} files"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("walk", total=None)
        yield lambda seen: bar.update(task, completed=seen)


PathsArgument = Annotated[list[Path], typer.Argument(help="Files or folders to walk.")]
FollowOption = Annotated[
    bool,
    typer.Option("--follow-symlinks", help="Follow symlinked folders and files out of the tree."),
]
SizeOption = Annotated[
    str,
    typer.Option(
        "--max-file-size", help="Hash and pickle-scan files up to this size (0: no limit)."
    ),
]


def files(
    paths: PathsArgument,
    follow_symlinks: FollowOption = False,
    max_file_size: SizeOption = f"{DEFAULT_MAX_FILE_SIZE // 1024**3}G",
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Find model files (by header), Hugging Face folders and cache, datasets and vector stores."""
    limit = parse_size(max_file_size)
    with walk_progress(not as_json and err_console.is_terminal) as progress:
        found = discover_files(
            paths, follow_symlinks=follow_symlinks, max_file_size=limit, progress=progress
        )
    try:
        record_run(found.result, dry_run=dry_run, as_json=as_json)
    finally:
        if not dry_run:
            from garrison.supplychain.records import attach_findings

            with state.store().session() as session:
                attach_findings(
                    session, found.findings, org=found.result.org, all_source_ids=found.source_ids
                )
        dangerous = [f for f in found.all_findings() if f.dangerous]
        if dangerous and not as_json:
            err_console.print(
                f"{len(dangerous)} dangerous model file(s); `garrison scan models PATH` lists them."
            )
