"""Alerting over the store: rule firings become alerts, alerts become grouped notifications in
the outbox, and people acknowledge, resolve and silence.

:class:`AlertManager` is the entry point the rule engine calls: ``receive(firings, now)`` records
alerts, ``flush(now)`` applies resolve timeouts, silences, inhibition and the group timers and
enqueues what is due, ``deliver(now)`` drains the outbox. The clock is always passed in, so tests
replay ten minutes of traffic in milliseconds and a restart resumes from what the store holds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session, defer

from garrison import audit
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import ensure_utc
from garrison.monitoring.alerting import outbox
from garrison.monitoring.alerting.channels import (
    CHANNELS,
    ZERO_TIME,
    Notification,
    NotifiedAlert,
    pagerduty_event,
)
from garrison.monitoring.alerting.config import AlertingConfig, ResolvedRoute
from garrison.monitoring.alerting.core import (
    AssetContext,
    InhibitRuleSpec,
    adjusted_severity,
    alert_annotations,
    alert_labels,
    content_hash,
    fingerprint,
    group_key,
    group_labels,
    has_news,
    identity,
    inhibited,
    match_routes,
    notification_due,
    silenced_by,
)
from garrison.monitoring.alerting.matchers import Matcher, MatcherError, parse_matcher
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.metrics import ALERTS, ALERTS_RAISED, PIPELINE_LATENCY
from garrison.monitoring.rules.firing import RuleFiring
from garrison.store import Store
from garrison.store.models.alerting import AlertRow, NotificationGroupRow, OutboxRow, SilenceRow

MAX_KEPT_IDS = 100
MAX_SILENCE = timedelta(days=366)


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATES = (AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class Alert:
    id: int
    org: str
    fingerprint: str
    rule_id: str
    severity: str
    state: AlertState
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    last_received_at: datetime
    ends_at: datetime | None
    firing_count: int
    event_count: int
    firing_ids: list[str]
    event_ids: list[str]
    acknowledged_by: str | None
    resolved_by: str | None
    silenced_by: list[int] = field(default_factory=list)

    @property
    def asset(self) -> str:
        return self.labels.get("asset", "")

    @property
    def team(self) -> str:
        return self.labels.get("team", "")

    @property
    def playbook(self) -> str:
        return self.annotations.get("playbook", "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org": self.org,
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "state": self.state.value,
            "asset": self.asset,
            "team": self.team,
            "playbook": self.playbook,
            "labels": self.labels,
            "annotations": self.annotations,
            "starts_at": self.starts_at.isoformat(),
            "last_received_at": self.last_received_at.isoformat(),
            "ends_at": None if self.ends_at is None else self.ends_at.isoformat(),
            "firing_count": self.firing_count,
            "event_count": self.event_count,
            "firing_ids": self.firing_ids,
            "event_ids": self.event_ids,
            "acknowledged_by": self.acknowledged_by,
            "resolved_by": self.resolved_by,
            "silenced_by": self.silenced_by,
        }


class SilenceStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    id: int
    org: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    expired_by: str | None
    status: SilenceStatus

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org": self.org,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "created_by": self.created_by,
            "comment": self.comment,
            "created_at": self.created_at.isoformat(),
            "expired_by": self.expired_by,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class FlushReport:
    resolved: int = 0
    notifications: int = 0
    """Group notifications sent to a receiver (one per route and group, whatever its channels)."""
    outbox_ids: tuple[int, ...] = ()


AssetLookup = Callable[[Session, str, Sequence[str]], Mapping[str, AssetContext]]


def inventory_assets(
    session: Session, org: str, asset_ids: Sequence[str]
) -> dict[str, AssetContext]:
    """Risk level and owner team through the risk and inventory pillars' public functions."""
    from garrison.inventory import get_asset
    from garrison.risk import risk_levels

    if not asset_ids:
        return {}
    levels = risk_levels(session, org=org)
    found: dict[str, AssetContext] = {}
    for asset_id in asset_ids:
        try:
            asset = get_asset(session, asset_id)
            name, team = asset.name, asset.owner_team
        except NotFoundError:
            name, team = "", ""
        found[asset_id] = AssetContext(asset_id, name, levels.get(asset_id), team)
    return found


def _alert(row: AlertRow | Mapping[str, Any], silenced: list[int] | None = None) -> Alert:
    """The alert a row holds: an ORM row, or the column values ``record`` writes in bulk."""
    v: Mapping[str, Any] = row if isinstance(row, Mapping) else _columns(row)
    return Alert(
        id=v["id"],
        org=v["org"],
        fingerprint=v["fingerprint"],
        rule_id=v["rule_id"],
        severity=v["severity"],
        state=AlertState(v["state"]),
        labels=dict(v["labels"]),
        annotations=dict(v["annotations"]),
        starts_at=v["starts_at"],
        last_received_at=v["last_received_at"],
        ends_at=v["ends_at"],
        firing_count=v["firing_count"],
        event_count=v["event_count"],
        firing_ids=list(v["firing_ids"]),
        event_ids=list(v["event_ids"]),
        acknowledged_by=v["acknowledged_by"],
        resolved_by=v["resolved_by"],
        silenced_by=silenced or [],
    )


_ALERT_COLUMNS = tuple(c.key for c in AlertRow.__table__.columns)


def _columns(row: AlertRow) -> dict[str, Any]:
    return {key: getattr(row, key) for key in _ALERT_COLUMNS}


def _keep(existing: Sequence[str], new: Iterable[str]) -> list[str]:
    # The first IDs explain how it started, the latest how it goes on: keep both ends.
    merged = list(existing) + [i for i in new if i not in existing]
    if len(merged) <= MAX_KEPT_IDS:
        return merged
    half = MAX_KEPT_IDS // 2
    return merged[:half] + merged[-half:]


def _route_by_path(tree: ResolvedRoute, path: str) -> ResolvedRoute | None:
    if tree.path == path:
        return tree
    for child in tree.children:
        if path == child.path or path.startswith(child.path + "."):
            return _route_by_path(child, path)
    return None


def _silence_status(row: SilenceRow, now: datetime) -> SilenceStatus:
    if row.ends_at <= now:
        return SilenceStatus.EXPIRED
    return SilenceStatus.PENDING if row.starts_at > now else SilenceStatus.ACTIVE


def _silence(row: SilenceRow, now: datetime) -> Silence:
    return Silence(
        id=row.id,
        org=row.org,
        matchers=tuple(Matcher.from_dict(m) for m in row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        comment=row.comment,
        created_at=row.created_at,
        expired_by=row.expired_by,
        status=_silence_status(row, now),
    )


def active_silences(session: Session, now: datetime) -> dict[str, list[tuple[int, list[Matcher]]]]:
    """Active silences per organization, as (id, matchers)."""
    rows = session.scalars(
        select(SilenceRow).where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now)
    )
    found: dict[str, list[tuple[int, list[Matcher]]]] = {}
    for row in rows:
        found.setdefault(row.org, []).append((row.id, [Matcher.from_dict(m) for m in row.matchers]))
    return found


# --- queries and human actions -------------------------------------------------------------------


def list_alerts(
    session: Session,
    now: datetime,
    *,
    org: str | None = None,
    states: Sequence[AlertState] | None = None,
    limit: int = 200,
) -> list[Alert]:
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if org is not None:
        query = query.where(AlertRow.org == org)
    if states:
        query = query.where(AlertRow.state.in_([s.value for s in states]))
    silences = active_silences(session, now)
    return [
        _alert(row, silenced_by(row.labels, silences.get(row.org, [])))
        for row in session.scalars(query)
    ]


def _require_alert(session: Session, alert_id: int) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id}", hint="list alerts with `garrison alerts list`")
    return row


def get_alert(session: Session, alert_id: int, now: datetime) -> Alert:
    row = _require_alert(session, alert_id)
    return _alert(row, silenced_by(row.labels, active_silences(session, now).get(row.org, [])))


def _check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > 320:
        raise GarrisonError("the actor must be 1 to 320 characters", hint="pass --actor NAME")
    return actor


def acknowledge(
    session: Session, config: AlertingConfig, alert_id: int, actor: str, now: datetime
) -> Alert:
    """Acknowledge a firing alert; PagerDuty receivers it routes to are told too (same
    dedup_key), so the on-call engineer stops being paged."""
    actor = _check_actor(actor)
    row = _require_alert(session, alert_id)
    if row.state != AlertState.FIRING.value:
        raise GarrisonError(f"alert {alert_id} is {row.state}; only a firing alert is acknowledged")
    before = _audit_view(row)
    row.state = AlertState.ACKNOWLEDGED.value
    row.acknowledged_by = actor
    row.acknowledged_at = now
    notified = _notified(row, config.external_url)
    for route in match_routes(config.tree, row.labels):
        receiver = config.receiver(route.receiver)
        for index, spec in enumerate(receiver.channels):
            if spec.type == "pagerduty":
                outbox.enqueue(
                    session,
                    org=row.org,
                    receiver=receiver.name,
                    channel_index=index,
                    channel_type=spec.type,
                    group_key=f"ack:{row.fingerprint}",
                    payload=pagerduty_event(notified, "acknowledge"),
                    now=now,
                )
    session.flush()
    _audit(session, actor, "alert.acknowledge", row, before, _audit_view(row))
    return _alert(row)


def resolve(session: Session, alert_id: int, actor: str, now: datetime) -> Alert:
    """Resolve an alert by hand; the next flush tells the receivers that were told it fired."""
    actor = _check_actor(actor)
    row = _require_alert(session, alert_id)
    if row.state == AlertState.RESOLVED.value:
        raise GarrisonError(f"alert {alert_id} is already resolved")
    before = _audit_view(row)
    row.state = AlertState.RESOLVED.value
    row.ends_at = now
    row.resolved_by = actor
    session.flush()
    _audit(session, actor, "alert.resolve", row, before, _audit_view(row))
    return _alert(row)


def _audit_view(row: AlertRow) -> dict[str, Any]:
    """What a person changes on an alert, for the audit trail's before and after."""
    return {
        "state": row.state,
        "severity": row.severity,
        "rule_id": row.rule_id,
        "fingerprint": row.fingerprint,
        "acknowledged_by": row.acknowledged_by,
        "resolved_by": row.resolved_by,
        "ends_at": row.ends_at,
    }


def _audit(  # noqa: PLR0917 - the audit entry's parts, in the trail's order
    session: Session,
    actor: str,
    action: str,
    row: AlertRow | SilenceRow,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    kind = "alert" if isinstance(row, AlertRow) else "silence"
    audit.record(session, actor, action, kind, str(row.id), before, after, org=row.org)


def add_silence(
    session: Session,
    *,
    matchers: Sequence[str | Matcher],
    ends_at: datetime,
    created_by: str,
    comment: str,
    now: datetime,
    starts_at: datetime | None = None,
    org: str = "default",
) -> Silence:
    """A silence mutes every alert whose labels match all its matchers, until it ends."""
    created_by = _check_actor(created_by)
    parsed: list[Matcher] = []
    for m in matchers:
        try:
            parsed.append(m if isinstance(m, Matcher) else parse_matcher(m))
        except MatcherError as exc:
            raise GarrisonError(
                str(exc), hint='e.g. --matcher user.id=u1 --matcher severity!="critical"'
            ) from None
    if not parsed:
        raise GarrisonError(
            "a silence needs at least one matcher", hint="e.g. --matcher user.id=u1"
        )
    if all(m.matches({}) for m in parsed):
        # As in Alertmanager: matchers that all match an empty label set would silence everything.
        raise GarrisonError(
            "these matchers match every alert; at least one must require a label value",
            hint='e.g. user.id="u1" or alertname=~"RULE-.*"',
        )
    start = ensure_utc(starts_at) if starts_at is not None else now
    end = ensure_utc(ends_at)
    if end <= start:
        raise GarrisonError("a silence must end after it starts", hint="use --duration 2h")
    if end - start > MAX_SILENCE:
        raise GarrisonError("a silence may last at most 366 days", hint="use a shorter --duration")
    comment = comment.strip()
    if not comment or len(comment) > 2000:
        raise GarrisonError("a silence needs a comment of 1 to 2000 characters (why it is muted)")
    row = SilenceRow(
        org=org,
        matchers=[m.to_dict() for m in parsed],
        starts_at=start,
        ends_at=end,
        created_by=created_by,
        comment=comment,
        created_at=now,
        expired_by=None,
    )
    session.add(row)
    session.flush()
    created = _silence(row, now)
    _audit(session, created_by, "silence.create", row, None, created.to_dict())
    return created


def list_silences(
    session: Session, now: datetime, *, org: str | None = None, include_expired: bool = False
) -> list[Silence]:
    query = select(SilenceRow).order_by(SilenceRow.id.desc())
    if org is not None:
        query = query.where(SilenceRow.org == org)
    if not include_expired:
        query = query.where(SilenceRow.ends_at > now)
    return [_silence(row, now) for row in session.scalars(query)]


def expire_silence(session: Session, silence_id: int, actor: str, now: datetime) -> Silence:
    actor = _check_actor(actor)
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise NotFoundError(
            f"no silence {silence_id}", hint="list silences with `garrison alerts silence list`"
        )
    if row.ends_at <= now:
        raise GarrisonError(f"silence {silence_id} has already expired")
    before = _silence(row, now).to_dict()
    row.ends_at = max(now, row.starts_at)
    row.expired_by = actor
    session.flush()
    expired = _silence(row, now)
    _audit(session, actor, "silence.expire", row, before, expired.to_dict())
    return expired


# --- the pipeline --------------------------------------------------------------------------------


def _notified(row: AlertRow, external_url: str) -> NotifiedAlert:
    status = "resolved" if row.state == AlertState.RESOLVED.value else "firing"
    return NotifiedAlert(
        id=row.id,
        fingerprint=row.fingerprint,
        status=status,
        severity=row.severity,
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        starts_at=row.starts_at.isoformat().replace("+00:00", "Z"),
        ends_at=(
            row.ends_at.isoformat().replace("+00:00", "Z")
            if status == "resolved" and row.ends_at is not None
            else ZERO_TIME
        ),
        url=f"{external_url.rstrip('/')}/alerts/{row.id}",
    )


def _common(dicts: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not dicts:
        return {}
    first = dicts[0]
    return {k: v for k, v in sorted(first.items()) if all(d.get(k) == v for d in dicts[1:])}


@dataclass
class _Group:
    org: str
    route: ResolvedRoute
    labels: dict[str, str]
    key: str
    alerts: list[AlertRow] = field(default_factory=list)


def _digest(org: str, key: str) -> str:
    return hashlib.sha256(f"{org}\n{key}".encode()).hexdigest()


FLUSH_LOCK_KEY = 0x47415252
"""PostgreSQL advisory lock taken by a flush, so that two API workers flushing at once cannot
both decide that a group is due and send it twice."""


def _serialise_flushes(session: Session) -> None:
    # SQLite serialises writers itself and is run by one process; PostgreSQL needs the lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FLUSH_LOCK_KEY})


class _Prepared(NamedTuple):
    asset: AssetContext | None
    severity: Severity
    labels: dict[str, str]
    fingerprint: str


def _open_alerts(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest open alert per (org, fingerprint) among ``keys``, as column values."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    by_org: dict[str, list[str]] = {}
    for org, fp in sorted(keys):
        by_org.setdefault(org, []).append(fp)
    table = AlertRow.__table__
    for org, fingerprints in by_org.items():
        # org first, so the (org, fingerprint, state) index answers it
        for first in range(0, len(fingerprints), 500):
            rows = session.execute(
                select(table)
                .where(
                    table.c.org == org,
                    table.c.fingerprint.in_(fingerprints[first : first + 500]),
                    table.c.state.in_(OPEN_STATES),
                )
                .order_by(table.c.id.desc())
            )
            for row in rows.mappings():
                found.setdefault((row["org"], row["fingerprint"]), dict(row))
    return found


_FOLDED = (
    "id",
    "last_received_at",
    "firing_count",
    "event_count",
    "firing_ids",
    "event_ids",
    "labels",
    "severity",
    "annotations",
)
"""The columns a later firing of an open alert changes."""


def _fold(values: dict[str, Any], firing: RuleFiring, prepared: _Prepared, now: datetime) -> None:
    """Fold a later firing into an open alert's column values."""
    values["last_received_at"] = max(values["last_received_at"], now)
    # The live engine re-sends a firing that grew within its suppression window: the alert
    # stays alive, but it is still one firing.
    if firing.firing_id not in values["firing_ids"]:
        values["firing_count"] += 1
    values["event_count"] += firing.event_count
    values["firing_ids"] = _keep(values["firing_ids"], [firing.firing_id])
    values["event_ids"] = _keep(values["event_ids"], firing.event_ids)
    values["labels"] = prepared.labels
    values["severity"] = prepared.severity.value
    values["annotations"] = alert_annotations(firing, prepared.asset)


class AlertManager:
    """Rule firings in, routed and grouped notifications out (through the outbox)."""

    def __init__(
        self,
        store: Store,
        config: AlertingConfig,
        *,
        assets: AssetLookup = inventory_assets,
    ) -> None:
        self.store = store
        self.config = config
        self._assets = assets
        self._inhibit = [
            InhibitRuleSpec(tuple(r.source_matchers), tuple(r.target_matchers), r.equal)
            for r in config.inhibit_rules
        ]

    def receive(self, firings: Iterable[RuleFiring], now: datetime) -> list[Alert]:
        """Record firings as alerts: a new fingerprint opens an alert, a known one is updated."""
        with self.store.session() as session:
            return self.record(session, firings, now)

    def record(self, session: Session, firings: Iterable[RuleFiring], now: datetime) -> list[Alert]:
        """``receive`` within the caller's transaction, so the live path stores a batch's
        firings and their alerts in one commit."""
        now = ensure_utc(now)
        started = time.perf_counter()
        batch = list(firings)
        by_org: dict[str, set[str]] = {}
        for firing in batch:
            if firing.asset_id:
                by_org.setdefault(firing.org, set()).add(firing.asset_id)
        contexts = {org: self._assets(session, org, sorted(ids)) for org, ids in by_org.items()}
        prepared = [(f, self._prepare(f, contexts.get(f.org, {}))) for f in batch]
        # A burst of one user's firings is one alert: the batch is folded per (org, fingerprint)
        # in memory, then written with one multi-row INSERT and one executemany UPDATE.
        current = _open_alerts(session, {(f.org, p.fingerprint) for f, p in prepared})
        opened: dict[tuple[str, str], dict[str, Any]] = {}
        updated: dict[tuple[str, str], dict[str, Any]] = {}
        for firing, prep in prepared:
            key = (firing.org, prep.fingerprint)
            values = opened.get(key) or updated.get(key)
            if values is None and key in current:
                values = updated[key] = current[key]
            if values is None:
                opened[key] = self._opened(firing, prep, now)
            else:
                _fold(values, firing, prep, now)
        if opened:
            new_rows = list(opened.values())
            ids = session.scalars(
                insert(AlertRow).returning(AlertRow.id, sort_by_parameter_order=True),
                [{k: v for k, v in values.items() if k != "id"} for values in new_rows],
            ).all()
            for values, alert_id in zip(new_rows, ids, strict=True):
                values["id"] = alert_id
                ALERTS_RAISED.labels(severity=values["severity"]).inc()
        if updated:
            session.execute(
                update(AlertRow), [{k: v[k] for k in _FOLDED} for v in updated.values()]
            )
        PIPELINE_LATENCY.labels(stage="route").observe(time.perf_counter() - started)
        return [_alert(values) for values in (*opened.values(), *updated.values())]

    def _prepare(self, firing: RuleFiring, contexts: Mapping[str, AssetContext]) -> _Prepared:
        asset = contexts.get(firing.asset_id) if firing.asset_id else None
        severity = adjusted_severity(
            self.config.severity_matrix, firing.severity, asset, bool(firing.asset_id)
        )
        labels = alert_labels(firing, severity, asset)
        return _Prepared(asset, severity, labels, fingerprint(identity(labels, firing.group)))

    def _opened(self, firing: RuleFiring, prepared: _Prepared, now: datetime) -> dict[str, Any]:
        """The column values of the alert a firing with a new fingerprint opens."""
        routes = match_routes(self.config.tree, prepared.labels)
        timeout = routes[0].resolve_timeout if routes else self.config.tree.resolve_timeout
        return {
            "id": None,
            "org": firing.org,
            "fingerprint": prepared.fingerprint,
            "rule_id": firing.rule_id,
            "severity": prepared.severity.value,
            "state": AlertState.FIRING.value,
            "labels": prepared.labels,
            "annotations": alert_annotations(firing, prepared.asset),
            "firing_ids": [firing.firing_id],
            "event_ids": list(firing.event_ids[:MAX_KEPT_IDS]),
            "firing_count": 1,
            "event_count": firing.event_count,
            "starts_at": min(ensure_utc(firing.window_start), now),
            "first_received_at": now,
            "last_received_at": now,
            "resolve_timeout_s": int(timeout.total_seconds()),
            "ends_at": None,
            "acknowledged_by": None,
            "acknowledged_at": None,
            "resolved_by": None,
        }

    def flush(self, now: datetime) -> FlushReport:
        """Resolve timed-out alerts, then enqueue a notification for every group that is due."""
        now = ensure_utc(now)
        started = time.perf_counter()
        with self.store.session() as session:
            _serialise_flushes(session)
            # The open alerts and the silences are read once and shared by the three steps: a
            # flush costs one pass over the open alerts, not three.
            # Routing needs the labels, not the kept firing and event IDs (up to 200 per alert):
            # those load only for the few alerts a notification is actually sent about.
            open_rows = list(
                session.scalars(
                    select(AlertRow)
                    .where(AlertRow.state.in_(OPEN_STATES))
                    .options(defer(AlertRow.firing_ids), defer(AlertRow.event_ids))
                )
            )
            silences = active_silences(session, now)
            resolved = _resolve_timed_out(open_rows, now)
            session.flush()
            still_open = [row for row in open_rows if row.state in OPEN_STATES]
            notifications, ids = self._notify(session, now, still_open, silences)
            _gauge(still_open, silences)
        PIPELINE_LATENCY.labels(stage="route").observe(time.perf_counter() - started)
        outbox.update_depth(self.store)
        return FlushReport(resolved=resolved, notifications=notifications, outbox_ids=tuple(ids))

    def deliver(self, now: datetime, **kwargs: Any) -> outbox.DeliveryReport:
        return outbox.deliver_due(self.store, self.config, ensure_utc(now), **kwargs)

    def _notify(
        self,
        session: Session,
        now: datetime,
        open_rows: Sequence[AlertRow],
        silences: Mapping[str, list[tuple[int, list[Matcher]]]],
    ) -> tuple[int, list[int]]:
        tree = self.config.tree
        muted: set[int] = set()
        by_org: dict[str, dict[str, AlertRow]] = {}
        for row in open_rows:
            by_org.setdefault(row.org, {})[row.fingerprint] = row
            if silenced_by(row.labels, silences.get(row.org, [])):
                muted.add(row.id)
        for org_rows in by_org.values():
            for fp in inhibited({fp: r.labels for fp, r in org_rows.items()}, self._inhibit):
                muted.add(org_rows[fp].id)

        groups: dict[str, _Group] = {}
        for row in open_rows:
            if row.id in muted:
                continue
            for route in match_routes(tree, row.labels):
                labels = group_labels(route, row.labels)
                key = group_key(route, labels)
                digest = _digest(row.org, key)
                groups.setdefault(digest, _Group(row.org, route, labels, key)).alerts.append(row)

        stored = {g.key_digest: g for g in session.scalars(select(NotificationGroupRow))}
        notifications = 0
        enqueued: list[OutboxRow] = []
        for digest in sorted(set(groups) | set(stored)):
            group_row = stored.get(digest)
            group = groups.get(digest)
            if group is None:
                assert group_row is not None
                known = _route_by_path(tree, group_row.route_path)
                if known is None:  # the route left alerting.yaml: forget its group
                    session.delete(group_row)
                    continue
                group = _Group(
                    group_row.org, known, dict(group_row.group_labels), group_row.group_key
                )
            if group_row is None:
                group_row = NotificationGroupRow(
                    org=group.org,
                    key_digest=digest,
                    group_key=group.key,
                    route_path=group.route.path,
                    receiver=group.route.receiver,
                    group_labels=group.labels,
                    # group_wait counts from the first alert's arrival, as in Alertmanager
                    first_seen_at=min(r.first_received_at for r in group.alerts),
                    last_sent_at=None,
                    last_hash="",
                    sent_alert_ids=[],
                    notifications=0,
                )
                session.add(group_row)
            sent = self._maybe_send(session, group, group_row, now)
            if sent is None:
                continue
            notifications += 1
            enqueued.extend(sent)
        session.flush()
        return notifications, [row.id for row in enqueued]

    def _maybe_send(
        self, session: Session, group: _Group, group_row: NotificationGroupRow, now: datetime
    ) -> list[OutboxRow] | None:
        receiver = self.config.receiver(group.route.receiver)
        previous = {int(e["id"]): str(e["status"]) for e in group_row.sent_alert_ids}
        firing = sorted(group.alerts, key=lambda r: r.id)
        firing_ids = {r.id for r in firing}
        resolved: list[AlertRow] = []
        told_firing = [i for i, s in previous.items() if s == "firing" and i not in firing_ids]
        if told_firing and receiver.send_resolved:
            resolved = list(
                session.scalars(
                    select(AlertRow)
                    .where(
                        AlertRow.id.in_(told_firing), AlertRow.state == AlertState.RESOLVED.value
                    )
                    .order_by(AlertRow.id)
                )
            )
        if not firing and not resolved:
            session.delete(group_row)  # nothing left to say: a later firing waits group_wait again
            return None
        news = has_news(
            firing={r.id for r in firing},
            resolved={r.id for r in resolved},
            last_firing={i for i, s in previous.items() if s == "firing"},
            last_resolved={i for i, s in previous.items() if s == "resolved"},
        )
        due = notification_due(
            now=now,
            first_seen=group_row.first_seen_at,
            last_sent=group_row.last_sent_at,
            news=news,
            any_firing=any(r.state == AlertState.FIRING.value for r in firing),
            route=group.route,
        )
        if not due:
            return None
        members = [*firing, *resolved]
        notified = tuple(_notified(r, self.config.external_url) for r in members)
        notification = Notification(
            receiver=receiver.name,
            group_key=group.key,
            status="firing" if firing else "resolved",
            group_labels=group.labels,
            alerts=notified,
            external_url=self.config.external_url,
            common_labels=_common([a.labels for a in notified]),
            common_annotations=_common([a.annotations for a in notified]),
        )
        rows: list[OutboxRow] = []
        for index, spec in enumerate(receiver.channels):
            channel = CHANNELS.get(spec.type)
            settings = channel.config_model.model_validate(spec.settings)
            for payload in channel.render(settings, notification):
                row = outbox.enqueue(
                    session,
                    org=group.org,
                    receiver=receiver.name,
                    channel_index=index,
                    channel_type=spec.type,
                    group_key=group.key,
                    payload=payload,
                    now=now,
                )
                rows.append(row)
        group_row.last_sent_at = now
        group_row.last_hash = content_hash([(a.fingerprint, a.status) for a in notified])
        group_row.sent_alert_ids = [{"id": r.id, "status": "firing"} for r in firing]
        group_row.notifications += 1
        return rows


def _resolve_timed_out(open_rows: Sequence[AlertRow], now: datetime) -> int:
    """Resolve the open alerts no firing has renewed within their route's resolve_timeout."""
    count = 0
    for row in open_rows:
        deadline = row.last_received_at + timedelta(seconds=row.resolve_timeout_s)
        if deadline <= now:
            row.state = AlertState.RESOLVED.value
            row.ends_at = deadline
            count += 1
    return count


def _gauge(
    open_rows: Sequence[AlertRow], silences: Mapping[str, list[tuple[int, list[Matcher]]]]
) -> None:
    counts: dict[tuple[str, str], int] = {}
    for row in open_rows:
        state = "silenced" if silenced_by(row.labels, silences.get(row.org, [])) else row.state
        counts[(row.severity, state)] = counts.get((row.severity, state), 0) + 1
    ALERTS.clear()
    for (severity, state), count in counts.items():
        ALERTS.labels(severity=severity, state=state).set(count)
