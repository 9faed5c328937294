"""``garrison scan models PATH``: supply-chain findings in model files, for people and for CI.

Exit codes: 0 nothing dangerous, 1 a dangerous file (a pickle importing a deny-listed global),
2 a bad path or option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.discover_files import FollowOption, SizeOption, parse_size, walk_progress
from garrison.cli.output import console, err_console, print_json, table
from garrison.inventory.discovery.files import DEFAULT_MAX_FILE_SIZE
from garrison.supplychain.scan import scan_models

app = typer.Typer(help="Scan artifacts for supply-chain risks.", no_args_is_help=True)


@app.command("models")
def models(
    paths: Annotated[list[Path], typer.Argument(help="Model files or folders.")],
    follow_symlinks: FollowOption = False,
    max_file_size: SizeOption = f"{DEFAULT_MAX_FILE_SIZE // 1024**3}G",
    as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON.")] = False,
) -> None:
    """Identify model files by header and report unsafe pickle imports, disguised formats,
    unpinned Hugging Face models and Keras Lambda layers. Nothing is loaded or registered."""
    limit = parse_size(max_file_size)
    with walk_progress(not as_json and err_console.is_terminal) as progress:
        report = scan_models(
            paths, follow_symlinks=follow_symlinks, max_file_size=limit, progress=progress
        )
    if as_json:
        print_json(
            {
                "files_seen": report.files_seen,
                "models": [
                    {"path": a.path, "format": a.format.value, "size": a.size, "sha256": a.digest}
                    for a in report.artifacts
                ],
                "findings": [f.as_dict() for f in report.findings],
                "errors": [e.as_dict() for e in report.errors],
                "dangerous": len(report.dangerous),
            }
        )
    else:
        console.print(
            f"{len(report.artifacts)} model file(s) in {report.files_seen:,} file(s); "
            f"{len(report.findings)} finding(s), {len(report.dangerous)} dangerous."
        )
        if report.findings:
            console.print(
                table(
                    "Supply-chain findings",
                    ["severity", "kind", "path", "member", "import", "message"],
                    (
                        [f.severity.value, f.kind.value, f.path, f.member, f.global_name, f.message]
                        for f in report.findings
                    ),
                )
            )
        if report.errors:
            err_console.print(
                table(
                    f"{len(report.errors)} file(s) skipped",
                    ["operation", "path", "code", "message"],
                    ([e.operation, e.target, e.code, e.message] for e in report.errors),
                )
            )
    if report.dangerous:
        raise typer.Exit(1)
