"""``garrison discover <source>``: run one discovery source and register what it finds.

Each source lives in ``garrison.inventory.discovery.<source>`` and returns a ``DiscoveryResult``;
its command here only parses options, builds the source and hands the result to ``record_run``,
which registers it (unless ``--dry-run``) and prints one summary shape for every source.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from garrison.cli import state
from garrison.cli.output import console, err_console, print_json, table
from garrison.inventory.discovery.base import DiscoveryResult

app = typer.Typer(
    help="""Discover AI assets in one source and register them in the inventory.

Every call a source could not make (denied, throttled, failed) is listed in the summary; a run
with any is incomplete and marks nothing stale. Exit codes: 0 clean run, 1 the run reported
failed or denied calls, 2 usage or input error.
""",
    no_args_is_help=True,
)

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what was found without registering it.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")]


def record_run(result: DiscoveryResult, *, dry_run: bool, as_json: bool) -> None:
    """Register ``result`` (unless ``dry_run``), print the summary, exit 1 if calls failed."""
    summary: dict[str, Any] = {
        "source": result.source,
        "scope": result.scope,
        "complete": result.complete,
        "found": len(result.assets),
        "edges": len(result.edges),
        "errors": [failure.as_dict() for failure in result.errors],
    }
    if not dry_run:
        from garrison.inventory import apply_discovery

        with state.store().session() as session:
            run = apply_discovery(session, result)
        summary["run_id"] = run.id
        summary["counts"] = run.counts
    else:
        summary["assets"] = [
            {"key": a.handle, **a.spec.model_dump(mode="json", exclude_none=True)}
            for a in result.assets
        ]
    if as_json:
        print_json(summary)
    else:
        _render(summary, dry_run=dry_run)
    if result.errors:
        raise typer.Exit(1)


def _render(summary: dict[str, Any], *, dry_run: bool) -> None:
    scope = f" ({summary['scope']})" if summary["scope"] else ""
    verdict = "complete" if summary["complete"] else "INCOMPLETE: nothing was marked stale"
    console.print(f"{summary['source']}{scope}: found {summary['found']} asset(s), {verdict}.")
    if dry_run:
        console.print(
            table(
                "Found (not registered: --dry-run)",
                ["key", "type", "name"],
                ([a["key"], a.get("asset_type", ""), a.get("name", "")] for a in summary["assets"]),
            )
        )
    else:
        counts = summary.get("counts", {})
        console.print(", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing changed")
    if summary["errors"]:
        err_console.print(
            table(
                f"{len(summary['errors'])} call(s) failed",
                ["operation", "target", "code", "denied", "message"],
                (
                    [
                        e["operation"],
                        e["target"],
                        e["code"],
                        "yes" if e["denied"] else "",
                        e["message"],
                    ]
                    for e in summary["errors"]
                ),
            )
        )


from garrison.cli.discover_files import files  # noqa: E402  (registers `discover files`)

app.command("files")(files)

from garrison.cli.discover_code import code  # noqa: E402  (registers `discover code`)

app.command("code")(code)

from garrison.cli.discover_cloud import aws, azure, gcp  # noqa: E402  (registers the clouds)

app.command("aws")(aws)
app.command("azure")(azure)
app.command("gcp")(gcp)
