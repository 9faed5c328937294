"""``garrison aibom export|import``: the inventory as a CycloneDX 1.6 AI-BOM, and back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from garrison.cli import state
from garrison.cli.output import console, print_json

app = typer.Typer(
    help="""Export the inventory as a CycloneDX 1.6 JSON AI-BOM, or import one.

The export is validated against the CycloneDX 1.6 schema before it is written. Import reads a
CycloneDX 1.5/1.6 JSON BOM (Garrison's own, losslessly, or another tool's); anything else (SPDX,
XML, a scanner report) is refused with exit code 2.
""",
    no_args_is_help=True,
)


@app.command("export")
def export(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (default: all).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Write the AI-BOM (models with model cards, datasets, services, dependencies)."""
    from garrison.inventory.aibom import export_bom

    with state.store().session() as session:
        text = export_bom(session, org=org)
    if output is None:
        sys.stdout.write(text + "\n")
        return
    # Write beside the target and rename, so a failed write never leaves half a BOM.
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(output)
    console.print(f"wrote {output} (CycloneDX 1.6, validated)")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CycloneDX JSON BOM.")],
    org: Annotated[
        str | None,
        typer.Option(
            "--org", help="Put every asset in this organization (default: as in the BOM)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read a CycloneDX BOM into the inventory (discovery source `aibom`)."""
    from garrison.inventory.aibom import import_bom

    with state.store().session() as session:
        summary = import_bom(session, file, org=org)
    data = {
        "file": str(file),
        "spec_version": summary.spec_version,
        "garrison_bom": summary.garrison,
        "imported": summary.imported,
        "skipped": summary.skipped,
        "runs": [{"id": r.id, "org": r.org, "counts": r.counts} for r in summary.runs],
    }
    if as_json:
        print_json(data)
        return
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.skipped.items()))
    console.print(
        f"imported {summary.imported} asset(s) from {file} (CycloneDX {summary.spec_version})"
        + (f"; skipped (not AI assets): {skipped}" if skipped else "")
    )
