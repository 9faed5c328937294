"""``garrison alerts``: alerts, silences, and the notification outbox."""

from __future__ import annotations

import getpass
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

import typer

from garrison.cli import state as cli_state
from garrison.cli.output import console, print_json, table
from garrison.core.errors import GarrisonError
from garrison.core.timeutil import utcnow
from garrison.monitoring.alerting import (
    AlertingConfig,
    AlertManager,
    AlertState,
    OutboxEntry,
    OutboxState,
    acknowledge,
    add_silence,
    expire_silence,
    get_alert,
    list_alerts,
    list_outbox,
    list_silences,
    load_alerting_config,
    replay,
    replay_dead,
    resolve,
)
from garrison.monitoring.alerting.config import parse_duration

app = typer.Typer(
    help="""Alerts: routed Alertmanager-style to Slack, PagerDuty, webhooks and e-mail.

Routing, grouping, inhibition, receivers and the severity matrix are content/alerting.yaml,
overridable per organization with GARRISON_CONTENT_DIR. Notifications go through a persistent
outbox with retries; dead letters stay visible until replayed.

\b
Examples:
  garrison alerts list --state firing --json
  garrison alerts show 12
  garrison alerts ack 12 --actor alice
  garrison alerts resolve 12
  garrison alerts silence add --matcher user.id=u1 --duration 2h --comment "pen test"
  garrison alerts silence list
  garrison alerts deliver                 # flush due groups and drain the outbox once
  garrison alerts outbox --dead           # exit 1 when dead letters exist
  garrison alerts outbox --replay-dead
""",
    no_args_is_help=True,
)
silence_app = typer.Typer(
    help="""Silences: mute alerts whose labels match every matcher, until the silence ends.

\b
Examples:
  garrison alerts silence add --matcher user.id=u1 --duration 2h --comment "red team exercise"
  garrison alerts silence add -m 'alertname=~"RULE-.*"' -m team=payments --duration 30m -c deploy
  garrison alerts silence list --all --json
  garrison alerts silence expire 3
""",
    no_args_is_help=True,
)
app.add_typer(silence_app, name="silence")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Who is acting (recorded with the change); default: OS user."),
]


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


def _config() -> AlertingConfig:
    return load_alerting_config(cli_state.settings().content_dir)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
def list_command(
    state: Annotated[
        list[AlertState] | None, typer.Option("--state", help="Only alerts in this state.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 200,
    as_json: JsonOption = False,
) -> None:
    """Alerts, newest first: state, severity, rule, asset, team and playbook."""
    now = utcnow()
    with cli_state.store().session() as session:
        alerts = list_alerts(session, now, states=state, limit=limit)
    if as_json:
        print_json([a.to_dict() for a in alerts])
        return
    rows = [
        (
            a.id,
            "silenced" if a.silenced_by and a.state is AlertState.FIRING else a.state.value,
            a.severity,
            a.rule_id,
            a.labels.get("user.id", ""),
            a.asset,
            a.team,
            a.playbook,
            a.firing_count,
            _when(a.starts_at),
        )
        for a in alerts
    ]
    columns = ["id", "state", "severity", "rule", "user", "asset", "team", "playbook", "firings"]
    console.print(table(f"{len(alerts)} alert(s)", [*columns, "since"], rows))


@app.command("show")
def show_command(alert_id: int, as_json: JsonOption = False) -> None:
    """One alert with its labels, annotations, and the firings and events behind it."""
    with cli_state.store().session() as session:
        alert = get_alert(session, alert_id, utcnow())
    if as_json:
        print_json(alert.to_dict())
        return
    data = alert.to_dict()
    rows = [(k, v) for k, v in data.items() if not isinstance(v, dict | list)]
    rows += [(f"label {k}", v) for k, v in alert.labels.items()]
    rows += [(f"annotation {k}", v) for k, v in alert.annotations.items()]
    rows += [("firing ids", ", ".join(alert.firing_ids)), ("event ids", ", ".join(alert.event_ids))]
    console.print(table(f"alert {alert.id}", ["field", "value"], rows))


@app.command("ack")
def ack_command(alert_id: int, actor: ActorOption = None, as_json: JsonOption = False) -> None:
    """Acknowledge a firing alert (PagerDuty receivers are told too)."""
    with cli_state.store().session() as session:
        alert = acknowledge(session, _config(), alert_id, _actor(actor), utcnow())
    if as_json:
        print_json(alert.to_dict())
    else:
        console.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")


@app.command("resolve")
def resolve_command(alert_id: int, actor: ActorOption = None, as_json: JsonOption = False) -> None:
    """Resolve an alert by hand; the next `deliver` tells the receivers that were paged."""
    with cli_state.store().session() as session:
        alert = resolve(session, alert_id, _actor(actor), utcnow())
    if as_json:
        print_json(alert.to_dict())
    else:
        console.print(f"alert {alert.id} resolved by {alert.resolved_by}")


@app.command("deliver")
def deliver_command(
    watch: Annotated[
        float | None,
        typer.Option("--watch", metavar="SECONDS", help="Repeat every SECONDS until interrupted."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve timed-out alerts, enqueue due group notifications, and drain the outbox.

    Exit 1 when a notification became a dead letter in this run.
    """
    manager = AlertManager(cli_state.store(), _config())
    dead = 0
    while True:
        now = utcnow()
        flushed = manager.flush(now)
        delivered = manager.deliver(now)
        dead += delivered.dead
        report = {
            "resolved": flushed.resolved,
            "notifications": flushed.notifications,
            "sent": delivered.sent,
            "retried": delivered.retried,
            "dead": delivered.dead,
        }
        if as_json:
            print_json(report)
        else:
            console.print(", ".join(f"{k} {v}" for k, v in report.items()))
        if watch is None:
            break
        time.sleep(max(watch, 0.5))
    if dead:
        raise typer.Exit(1)


@app.command("outbox")
def outbox_command(
    dead: Annotated[bool, typer.Option("--dead", help="Only dead letters.")] = False,
    replay_id: Annotated[
        int | None, typer.Option("--replay", metavar="ID", help="Queue one dead letter again.")
    ] = None,
    replay_all: Annotated[
        bool, typer.Option("--replay-dead", help="Queue every dead letter again.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 200,
    as_json: JsonOption = False,
) -> None:
    """The notification outbox: pending, sending, sent and dead rows, newest first.

    With --dead, exit 1 when dead letters exist (a CI or cron check).
    """
    now = utcnow()
    with cli_state.store().session() as session:
        if replay_id is not None and replay_all:
            raise GarrisonError("give --replay ID or --replay-dead, not both")
        if replay_id is not None or replay_all:
            replayed = (
                [replay(session, replay_id, now)]
                if replay_id is not None
                else replay_dead(session, now)
            )
            if as_json:
                print_json([_outbox_dict(e) for e in replayed])
            else:
                console.print(f"{len(replayed)} dead letter(s) queued again")
            return
        entries = list_outbox(session, states=[OutboxState.DEAD] if dead else None, limit=limit)
    if as_json:
        print_json([_outbox_dict(e) for e in entries])
    else:
        rows = [
            (
                e.id,
                e.state.value,
                e.receiver,
                e.channel_type,
                e.attempts,
                _when(e.next_attempt_at) if e.state is OutboxState.PENDING else _when(e.sent_at),
                e.last_error,
            )
            for e in entries
        ]
        columns = ["id", "state", "receiver", "channel", "attempts", "next/sent", "last error"]
        console.print(table(f"{len(entries)} outbox row(s)", columns, rows))
    if dead and entries:
        raise typer.Exit(1)


def _outbox_dict(e: OutboxEntry) -> dict[str, object]:
    data = asdict(e)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


@silence_app.command("add")
def silence_add(
    matcher: Annotated[
        list[str],
        typer.Option("--matcher", "-m", help='name=value, name!=value, name=~"re", name!~"re".'),
    ],
    duration: Annotated[str, typer.Option("--duration", "-d", help="e.g. 30m, 2h, 1d.")] = "2h",
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why it is muted.")] = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mute alerts matching every --matcher for --duration."""
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--duration") from None
    if length <= timedelta(0):
        raise typer.BadParameter("must be positive", param_hint="--duration")
    now = utcnow()
    with cli_state.store().session() as session:
        silence = add_silence(
            session,
            matchers=matcher,
            ends_at=now + length,
            created_by=_actor(actor),
            comment=comment,
            now=now,
        )
    if as_json:
        print_json(silence.to_dict())
    else:
        console.print(f"silence {silence.id} active until {_when(silence.ends_at)} UTC")


@silence_app.command("list")
def silence_list(
    include_expired: Annotated[bool, typer.Option("--all", help="Include expired ones.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Silences, newest first (active and pending unless --all)."""
    with cli_state.store().session() as session:
        silences = list_silences(session, utcnow(), include_expired=include_expired)
    if as_json:
        print_json([s.to_dict() for s in silences])
        return
    rows = [
        (
            s.id,
            s.status.value,
            " ".join(str(m) for m in s.matchers),
            _when(s.ends_at),
            s.created_by,
            s.comment,
        )
        for s in silences
    ]
    columns = ["id", "status", "matchers", "ends", "by", "comment"]
    console.print(table(f"{len(silences)} silence(s)", columns, rows))


@silence_app.command("expire")
def silence_expire(silence_id: int, actor: ActorOption = None, as_json: JsonOption = False) -> None:
    """End a silence now."""
    with cli_state.store().session() as session:
        silence = expire_silence(session, silence_id, _actor(actor), utcnow())
    if as_json:
        print_json(silence.to_dict())
    else:
        console.print(f"silence {silence.id} expired")
