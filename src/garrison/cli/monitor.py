"""``garrison monitor``: ingest security events from files and look at what is stored."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from garrison.cli import state
from garrison.cli.output import console, err_console, print_json, table
from garrison.core.errors import GarrisonError
from garrison.core.timeutil import utcnow
from garrison.monitoring.content import content_policy_from_settings, scanner_for
from garrison.monitoring.events import EventCategory, EventType, IngestSource
from garrison.monitoring.ingest.decode import iter_json_lines
from garrison.monitoring.ingest.files import follow, read_lines
from garrison.monitoring.ingest.pipeline import IngestPipeline, IngestReport, Submission
from garrison.monitoring.store import EventFilter, list_events

app = typer.Typer(
    help="""Runtime monitoring: ingest security events and list what is stored.

\b
Examples:
  garrison monitor ingest examples/events/sample.jsonl
  tail -n 100 app.log.jsonl | garrison monitor ingest -
  garrison monitor ingest /var/log/llm/events.jsonl --follow
  garrison monitor events --user u-123 --since 1h
  garrison monitor events --category guardrail_block --json
""",
    no_args_is_help=True,
)

MAX_SHOWN_ERRORS = 50
BATCH_LINES = 500


class InputError(GarrisonError):
    """The input cannot be read as JSON lines at all."""


def _pipeline() -> IngestPipeline:
    settings = state.settings()
    return IngestPipeline(
        state.store(),
        policy=content_policy_from_settings(settings),
        scanner=scanner_for(settings.content_dir),
    )


def _submissions(lines: list[bytes], first_line: int, first_index: int) -> list[Submission]:
    return list(iter_json_lines(lines, first_line=first_line, first_index=first_index))


class _Batches:
    """Feeds lines to the pipeline in batches, numbering lines and items across batches."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline
        self.report = IngestReport()
        self.line = 1
        self.index = 0
        self.decoded = 0

    def feed(self, lines: list[bytes]) -> None:
        submissions = _submissions(lines, self.line, self.index)
        self.line += len(lines)
        self.index += len(submissions)
        self.decoded += sum(1 for s in submissions if s.error is None)
        if submissions:
            self.report.extend(self.pipeline.ingest(submissions, source=IngestSource.FILE))


def _read_all(stream: BinaryIO, batches: _Batches, size: int | None) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=size is None or not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task("ingesting", total=size)
        pending: list[bytes] = []
        for line in read_lines(stream, lambda n: progress.advance(task, n)):
            pending.append(line)
            if len(pending) >= BATCH_LINES:
                batches.feed(pending)
                pending = []
        batches.feed(pending)


def _looks_binary(path: Path) -> bool:
    with path.open("rb") as stream:
        return b"\x00" in stream.read(8192)


def _show(report: IngestReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    console.print(
        f"{len(report.items)} event(s): {report.accepted} accepted, "
        f"{report.duplicates} already stored, {report.rejected} rejected"
    )
    rows = [
        [item.line or "", item.index, err.field or "(event)", err.reason]
        for item in report.items
        if item.status == "rejected"
        for err in item.errors
    ]
    if rows:
        console.print(
            table("rejected", ["line", "item", "field", "reason"], rows[:MAX_SHOWN_ERRORS])
        )
        if len(rows) > MAX_SHOWN_ERRORS:
            console.print(f"… and {len(rows) - MAX_SHOWN_ERRORS} more; use --json for all")


@app.command()
def ingest(
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="A JSON-lines file, or - for stdin.")
    ],
    follow_file: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading as the file grows (like tail -F).")
    ] = False,
    max_seconds: Annotated[
        float | None, typer.Option(min=0, help="With --follow: stop after this many seconds.")
    ] = None,
    interval: Annotated[float, typer.Option(min=0.01, help="With --follow: poll interval.")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Ingest security events from JSON lines, one flat event per line.

    Exit codes: 0 every event accepted (or already stored), 1 some rejected, 2 the input is
    unreadable or not JSON lines.
    """
    pipeline = _pipeline()
    batches = _Batches(pipeline)
    if source == "-":
        if follow_file:
            raise typer.BadParameter("--follow needs a file, not stdin", param_hint="--follow")
        _read_all(sys.stdin.buffer, batches, None)
    else:
        path = Path(source)
        if not follow_file:
            try:
                if _looks_binary(path):
                    raise InputError(f"{path} is not JSON lines (it holds binary data)")
                with path.open("rb") as stream:
                    _read_all(stream, batches, path.stat().st_size)
            except OSError as exc:
                raise InputError(
                    f"cannot read {path}: {exc.strerror or exc}", hint="check the path"
                ) from None
        else:
            try:
                for lines in follow(path, interval=interval, max_seconds=max_seconds):
                    batches.feed(lines)
            except KeyboardInterrupt:
                err_console.print("stopped")
    report = batches.report
    if report.items and batches.decoded == 0 and not follow_file:
        _show(report, as_json)
        raise InputError(
            f"{source} is not JSON lines: no line could be read as JSON",
            hint='each line must be one JSON object, e.g. {"garrison.event.type": "llm.request"}',
        )
    _show(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


_RELATIVE = re.compile(r"\A(\d{1,6})([smhd])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str) -> datetime:
    """``15m``, ``2h``, ``7d`` ago, or an ISO timestamp with its timezone."""
    match = _RELATIVE.match(value.strip())
    if match:
        return utcnow() - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a duration (15m, 2h, 7d) nor an ISO timestamp",
            param_hint="--since",
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(
            f"{value!r} has no timezone; add Z or +00:00", param_hint="--since"
        )
    return moment


@app.command()
def events(
    *,
    user: Annotated[str | None, typer.Option(help="Only this user.id.")] = None,
    session: Annotated[str | None, typer.Option(help="Only this session.id.")] = None,
    category: Annotated[EventCategory | None, typer.Option(help="Only this category.")] = None,
    event_type: Annotated[
        EventType | None, typer.Option("--type", help="Only this event type.")
    ] = None,
    asset: Annotated[str | None, typer.Option(help="Only this garrison.asset.id.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Since a time: 15m, 2h, 7d or ISO 8601.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print flat events as JSON.")] = False,
) -> None:
    """List stored events, newest first."""
    filters = EventFilter(
        user_id=user,
        session_id=session,
        category=None if category is None else category.value,
        event_type=None if event_type is None else event_type.value,
        asset_id=asset,
        since=None if since is None else parse_since(since),
    )
    with state.store().session() as db:
        found = list_events(db, filters, limit=limit)
    if as_json:
        print_json([stored.event.to_flat() for stored in found])
        return
    console.print(
        table(
            f"{len(found)} event(s)",
            ["time", "type", "category", "severity", "user", "session", "preview"],
            (
                [
                    s.event.timestamp.isoformat(timespec="seconds"),
                    s.event.event_type.value,
                    s.event.category.value if s.event.category else "",
                    s.event.severity.value,
                    s.event.user_id,
                    s.event.session_id,
                    (s.event.content_preview or "")[:60],
                ]
                for s in found
            ),
        )
    )


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="JSON-lines file of flat events, in time order.")],
    speed: Annotated[
        float,
        typer.Option(help="Replay speed: 0 = as fast as possible, 1 = real time, 60 = 1h/min."),
    ] = 0.0,
    store_firings: Annotated[
        bool, typer.Option("--store", help="Store the events and firings (for `rules explain`).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the firings as JSON.")] = False,
) -> None:
    """Push a recorded event stream through the detection rules, to test rules on history.

    Exit 1 when any rule fired (so CI can gate on a benign recording), 0 when none did.

    \b
    Examples:
      garrison monitor replay recorded.jsonl
      garrison monitor replay recorded.jsonl --speed 60 --json
      garrison monitor replay incident.jsonl --store && garrison rules explain FIRING_ID
    """
    import time

    from garrison.cli.rules import _context, firing_dict, read_event_file
    from garrison.monitoring.rules.engine import CollectingSink, RuleEngine
    from garrison.monitoring.rules.loader import load_rule_pack
    from garrison.monitoring.rules.store import save_firings
    from garrison.monitoring.store import save_events

    if speed < 0:
        raise GarrisonError(f"--speed {speed}", hint="use 0 (no pauses) or a positive factor")
    events = read_event_file(file)
    sink = CollectingSink()
    engine = RuleEngine(load_rule_pack(state.settings().content_dir), sink, context=_context())
    previous: datetime | None = None
    for event in events:
        if speed > 0 and previous is not None:
            gap = (event.timestamp - previous).total_seconds() / speed
            # Long silences in a recording are compressed: nobody waits an hour in a replay.
            time.sleep(min(max(gap, 0.0), 5.0))
        previous = event.timestamp
        engine.process(event)
    firings = sink.all()
    if store_firings:
        with state.store().session() as session:
            save_events(session, events, source=IngestSource.FILE)
            save_firings(session, firings)
    if json_output:
        print_json([firing_dict(f) for f in firings])
    else:
        for f in firings:
            console.print(f"{f.fired_at.isoformat()} {f.rule_id} {f.firing_id}", markup=False)
            console.print(f"  {f.summary}", markup=False)
        console.print(f"{len(events)} events replayed, {len(firings)} firing(s)", markup=False)
    if firings:
        raise typer.Exit(1)
