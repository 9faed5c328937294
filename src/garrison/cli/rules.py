"""``garrison rules``: list, test, export and explain the detection rules."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from sqlalchemy.orm import Session

from garrison.cli import state
from garrison.cli.output import console, print_json, table
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.monitoring.events import EventValidationError, SecurityEvent
from garrison.monitoring.rules.engine import CollectingSink, RuleEngine
from garrison.monitoring.rules.export import backend_names, export_rules
from garrison.monitoring.rules.firing import RuleFiring
from garrison.monitoring.rules.loader import RulePack, load_rule_pack
from garrison.monitoring.rules.plugins import PluginContext

app = typer.Typer(
    help="""Detection rules: Sigma rules, correlations and rule plugins over security events.

\b
Examples:
  garrison rules list
  garrison rules list --json
  garrison rules test RULE-RAPID-GUARDRAIL-BLOCKS attack.jsonl      # exit 0 if it fires
  garrison rules test RULE-INJECTION-KEYWORD benign.jsonl --expect silent
  garrison rules export --backend splunk
  garrison rules export --backend elasticsearch RULE-INJECTION-KEYWORD
  garrison rules explain 42                                         # why alert 42 fired
""",
    no_args_is_help=True,
)

MAX_EVENT_LINES = 1_000_000


class EventFileError(GarrisonError):
    """An events file cannot be used as a test stream."""


def _pack() -> RulePack:
    return load_rule_pack(state.settings().content_dir)


def read_event_file(path: Path) -> list[SecurityEvent]:
    """Flat JSON events, one per line; the first bad line stops the read with its number."""
    if not path.is_file():
        raise EventFileError(f"no events file {path}", hint="give a JSON-lines file of events")
    events: list[SecurityEvent] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number > MAX_EVENT_LINES:
                raise EventFileError(f"{path} has more than {MAX_EVENT_LINES} lines")
            if not line.strip():
                continue
            try:
                events.append(SecurityEvent.from_flat(orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise EventFileError(
                    f"{path}:{number}: not JSON ({exc.msg})", hint="one JSON object per line"
                ) from None
            except EventValidationError as exc:
                raise EventFileError(
                    f"{path}:{number}: {exc}",
                    hint="events use the flat keys of `garrison monitor`",
                ) from None
    return events


def firing_dict(firing: RuleFiring) -> dict[str, Any]:
    data = asdict(firing)
    for key in ("window_start", "window_end", "fired_at"):
        data[key] = data[key].isoformat()
    data["severity"] = firing.severity.value
    return data


@app.command("list")
def list_rules(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the rules of the pack: ID, kind, severity, ATLAS and OWASP tags.

    \b
    Examples:
      garrison rules list
      garrison rules list --json | jq '.[].rule_id'
    """
    metas = _pack().metas()
    if json_output:
        print_json(
            [
                {
                    "rule_id": m.rule_id,
                    "title": m.title,
                    "kind": m.kind,
                    "severity": m.severity.value,
                    "atlas": list(m.atlas),
                    "owasp": list(m.owasp),
                    "suppress_seconds": m.suppress.total_seconds(),
                    "source": m.source,
                }
                for m in metas
            ]
        )
        return
    console.print(
        table(
            "Detection rules",
            ["rule", "kind", "severity", "atlas", "owasp", "title"],
            (
                (m.rule_id, m.kind, m.severity.value, " ".join(m.atlas), " ".join(m.owasp), m.title)
                for m in metas
            ),
        )
    )


@app.command("test")
def run_test(
    rule: Annotated[str, typer.Argument(help="Rule ID, e.g. RULE-RAPID-GUARDRAIL-BLOCKS.")],
    events: Annotated[Path, typer.Argument(help="JSON-lines file of flat events.")],
    expect: Annotated[
        str, typer.Option(help="'fire' (exit 1 if silent) or 'silent' (exit 1 if it fires).")
    ] = "fire",
    json_output: Annotated[bool, typer.Option("--json", help="Print the firings as JSON.")] = False,
) -> None:
    """Run one rule over an events file; the exit code says whether it behaved as expected.

    The whole pack runs (a correlation needs its building blocks), only RULE's firings count.
    Agent-policy rules use the inventory's authorized tools.

    \b
    Examples:
      garrison rules test RULE-RAPID-GUARDRAIL-BLOCKS attack.jsonl
      garrison rules test RULE-INJECTION-KEYWORD benign.jsonl --expect silent --json
    """
    if expect not in ("fire", "silent"):
        raise GarrisonError(f"--expect {expect!r}", hint="use --expect fire or --expect silent")
    pack = _pack()
    meta = pack.get(rule)
    if meta is None:
        raise GarrisonError(f"no rule {rule!r}", hint="list rules with `garrison rules list`")
    stream = read_event_file(events)
    firings = run_rules(pack, stream, only=[meta.rule_id])
    if json_output:
        print_json([firing_dict(f) for f in firings])
    else:
        for f in firings:
            console.print(f"[bold]{f.rule_id}[/] fired: ", f.summary, markup=False)
        console.print(
            f"{meta.rule_id}: {len(firings)} firing(s) over {len(stream)} events", markup=False
        )
    fired = bool(firings)
    if fired != (expect == "fire"):
        raise typer.Exit(1)


def run_rules(
    pack: RulePack, events: list[SecurityEvent], only: list[str] | None = None
) -> list[RuleFiring]:
    sink = CollectingSink()
    engine = RuleEngine(pack, sink, context=_context(), only=only)
    engine.process_many(events)
    return sink.all()


def _context() -> PluginContext:
    from garrison.monitoring.rules.context import authorized_tools

    try:
        with state.store().session() as session:
            tools = authorized_tools(session)
    except GarrisonError:
        tools = {}
    return PluginContext(authorized_tools=tools)


@app.command("export")
def export(
    rules: Annotated[list[str] | None, typer.Argument(help="Rule IDs; all when omitted.")] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="pySigma backend: "
            + (", ".join(backend_names()) or "none installed (pip install 'garrison[siem]')")
            + "."
        ),
    ] = "splunk",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Convert the Sigma rules to a SIEM's query language through pySigma backends.

    Exit 1 when some rule cannot be expressed in the backend (plugins never can).

    \b
    Examples:
      garrison rules export --backend splunk
      garrison rules export --backend elasticsearch RULE-INJECTION-KEYWORD --json
    """
    exported = export_rules(_pack(), backend, rules)
    if json_output:
        print_json([asdict(e) for e in exported])
    else:
        for e in exported:
            console.print(f"# {e.rule_id}", markup=False)
            for query in e.queries:
                console.print(query, markup=False, soft_wrap=True)
            if e.error:
                console.print(f"# not exported: {e.error}", markup=False)
    if any(e.error for e in exported):
        raise typer.Exit(1)


@app.command("explain")
def explain(
    target: Annotated[
        str,
        typer.Argument(
            help="An alert ID (as `garrison alerts list` shows) or a firing ID.",
            metavar="ALERT_OR_FIRING",
        ),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show why an alert or a firing fired: the rule, group, window and the events in it.

    An alert is explained through each rule firing it gathered (the first and latest ones when
    there were many); a firing ID explains that firing alone.

    \b
    Examples:
      garrison rules explain 42                                         # alert 42
      garrison rules explain 42 --json
      garrison rules explain 0193c3a4-0000-7000-8000-000000000000       # one firing
    """
    from garrison.core.timeutil import utcnow
    from garrison.monitoring.alerting import get_alert

    alert: dict[str, Any] | None = None
    missing_firings = 0
    with state.store().session() as session:
        # Firing IDs are UUIDs: a plain number can only be an alert.
        number = target.strip()
        if number.isascii() and number.isdigit():
            found = get_alert(session, _alert_id(number), utcnow())
            alert = found.to_dict()
            explained = []
            for firing_id in found.firing_ids:
                try:
                    explained.append(_explained(session, firing_id))
                except NotFoundError:
                    missing_firings += 1
        else:
            explained = [_explained(session, target)]
    if json_output:
        body = [
            {"firing": firing_dict(f), "events": [e.to_flat() for e in evs]} for f, evs in explained
        ]
        if alert is None:
            print_json(body[0])
        else:
            print_json({"alert": alert, "firings": body, "missing_firings": missing_firings})
        return
    if alert is not None:
        console.print(
            f"alert {alert['id']} {alert['rule_id']} ({alert['severity']}, {alert['state']}): "
            f"{alert['firing_count']} firing(s), {alert['event_count']} event(s)",
            markup=False,
        )
    for firing, events in explained:
        _print_firing(firing, events)
    if missing_firings:
        console.print(f"  {missing_firings} firing(s) of this alert are no longer stored")


def _alert_id(text: str) -> int:
    alert_id = int(text)
    if alert_id >= 2**63:
        raise GarrisonError(f"no alert {text}", hint="list alerts with `garrison alerts list`")
    return alert_id


def _explained(session: Session, firing_id: str) -> tuple[RuleFiring, list[SecurityEvent]]:
    from garrison.monitoring.rules.store import get_firing
    from garrison.monitoring.store import get_event

    firing = get_firing(session, firing_id)
    found = (get_event(session, event_id) for event_id in firing.event_ids)
    return firing, [stored.event for stored in found if stored is not None]


def _print_firing(firing: RuleFiring, events: list[SecurityEvent]) -> None:
    console.print(f"{firing.rule_id}: {firing.title} ({firing.severity.value})", markup=False)
    console.print(f"  firing {firing.firing_id}: {firing.summary}", markup=False)
    console.print(
        f"  window {firing.window_start.isoformat()} .. {firing.window_end.isoformat()}, "
        f"{firing.event_count} event(s), group {firing.group or '-'}",
        markup=False,
    )
    console.print(
        table(
            "Events",
            ["time", "event", "type", "category", "user", "session"],
            (
                (
                    e.timestamp.isoformat(),
                    e.event_id,
                    e.event_type.value,
                    e.category.value if e.category else "",
                    e.user_id or "",
                    e.session_id or "",
                )
                for e in events
            ),
        )
    )
    missing = len(firing.event_ids) - len(events)
    if missing:
        console.print(f"  {missing} event(s) are not in the store (not ingested, or purged)")
