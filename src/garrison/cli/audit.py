"""``garrison audit``: check and export the hash-chained audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.text import Text

from garrison import audit
from garrison.cli import state
from garrison.cli.output import console, err_console, print_json, table
from garrison.core.errors import GarrisonError

app = typer.Typer(
    help="""The audit trail: every change, who made it, when, before and after.

Each entry is chained to the one before by a SHA-256 hash, and the database refuses UPDATE and
DELETE on the log, so editing or removing history is detectable.

\b
Examples:
  garrison audit verify                  # exit 0 intact, 1 tampered
  garrison audit list --limit 20 --json
  garrison audit export --format jsonl --out audit-2026Q4.jsonl --since 2026-10-01
""",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _moment(value: datetime | None) -> datetime | None:
    # Typer parses times without an offset; the trail is in UTC, so read them as UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@app.command()
def verify(as_json: JsonOption = False) -> None:
    """Recompute the whole chain; exit 1 and name the first bad entry if anything was changed.

    \b
    Example:
      garrison audit verify && echo "trail intact"
    """
    with state.store().session() as session:
        result = audit.verify(session)
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "entries": result.entries,
                "head": {"seq": result.head.seq, "hash": result.head.hash},
                "first_break": None
                if result.first_break is None
                else {"seq": result.first_break.seq, "reason": result.first_break.reason},
            }
        )
    elif result.first_break is None:
        console.print(
            Text(f"audit trail intact: {result.entries} entries, head {result.head.hash}")
        )
    else:
        err_console.print(
            Text(
                f"audit trail broken at entry {result.first_break.seq}: {result.first_break.reason}"
            )
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor.")] = None,
    target: Annotated[
        str | None, typer.Option("--target-type", help="Only this kind: asset, user, …")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The newest entries first.

    \b
    Examples:
      garrison audit list --limit 20
      garrison audit list --actor user:alice --json
    """
    with state.store().session() as session:
        found = audit.entries(
            session, actor=actor, target_type=target, limit=limit, newest_first=True
        )
    if as_json:
        print_json([e.as_dict() for e in found])
        return
    rows = [
        [
            str(e.seq),
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.actor,
            e.action,
            f"{e.target_type}:{e.target_id}",
        ]
        for e in found
    ]
    console.print(table("Audit trail", ["seq", "at (UTC)", "actor", "action", "target"], rows))


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write; '-' for standard output.")],
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl (re-verifiable) or csv (spreadsheets).")
    ] = "jsonl",
    since: Annotated[datetime | None, typer.Option(help="From this time (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this time (UTC).")] = None,
) -> None:
    """Write entries with their hashes and the chain head, as evidence for auditors.

    \b
    Examples:
      garrison audit export --out audit.jsonl
      garrison audit export --format csv --out audit.csv --since 2026-01-01 --until 2026-04-01
    """
    if fmt not in ("jsonl", "csv"):
        raise GarrisonError(f"unknown format {fmt!r}", hint="use --format jsonl or --format csv")
    chosen: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"
    with state.store().session() as session:
        text = audit.export(session, chosen, since=_moment(since), until=_moment(until))
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    err_console.print(Text(f"wrote {out}"))
