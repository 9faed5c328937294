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

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

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
    alerts: list[_OpenAlert] = field(default_factory=list)


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
            # A flush reads every open alert and every group, so it reads them as plain column
            # values: ORM objects for ~10k alerts and groups made a flush cost seconds (issue 7's
            # load run). Full alert rows load only for the alerts a notification is sent about.
            open_alerts = _load_open_alerts(session)
            silences = active_silences(session, now)
            resolved = _resolve_timed_out(session, open_alerts, now)
            still_open = [alert for alert in open_alerts if alert.state in OPEN_STATES]
            notifications, ids = self._notify(session, now, still_open, silences)
            _gauge(still_open, silences)
        PIPELINE_LATENCY.labels(stage="route").observe(time.perf_counter() - started)
        outbox.update_depth(self.store)
        return FlushReport(resolved=resolved, notifications=notifications, outbox_ids=tuple(ids))

    def deliver(self, now: datetime, **kwargs: Any) -> outbox.DeliveryReport:
        return outbox.deliver_due(self.store, self.config, ensure_utc(now), **kwargs)

    def _muted(
        self,
        open_alerts: Sequence[_OpenAlert],
        silences: Mapping[str, list[tuple[int, list[Matcher]]]],
    ) -> set[int]:
        """The IDs of open alerts a silence or an inhibit rule keeps quiet."""
        muted: set[int] = set()
        by_org: dict[str, dict[str, _OpenAlert]] = {}
        for alert in open_alerts:
            by_org.setdefault(alert.org, {})[alert.fingerprint] = alert
            if silenced_by(alert.labels, silences.get(alert.org, [])):
                muted.add(alert.id)
        for org_alerts in by_org.values():
            for fp in inhibited({fp: a.labels for fp, a in org_alerts.items()}, self._inhibit):
                muted.add(org_alerts[fp].id)
        return muted

    def _groups(
        self,
        open_alerts: Sequence[_OpenAlert],
        silences: Mapping[str, list[tuple[int, list[Matcher]]]],
    ) -> dict[str, _Group]:
        """The open alerts that are not muted, in the groups of every route they match."""
        muted = self._muted(open_alerts, silences)
        groups: dict[str, _Group] = {}
        for alert in open_alerts:
            if alert.id in muted:
                continue
            for route in match_routes(self.config.tree, alert.labels):
                labels = group_labels(route, alert.labels)
                key = group_key(route, labels)
                group = groups.setdefault(
                    _digest(alert.org, key), _Group(alert.org, route, labels, key)
                )
                group.alerts.append(alert)
        return groups

    def _plans(
        self, session: Session, groups: Mapping[str, _Group]
    ) -> tuple[list[tuple[_Group, _GroupState]], list[int]]:
        """Each group with its stored state (new when first seen), in digest order; and the IDs
        of stored groups whose route left alerting.yaml, to forget."""
        stored = {state.key_digest: state for state in _load_groups(session)}
        dropped: list[int] = []
        plans: list[tuple[_Group, _GroupState]] = []
        for digest in sorted(set(groups) | set(stored)):
            state = stored.get(digest)
            group = groups.get(digest)
            if group is None:
                assert state is not None
                assert state.id is not None
                known = _route_by_path(self.config.tree, state.route_path)
                if known is None:
                    dropped.append(state.id)
                    continue
                group = _Group(state.org, known, dict(state.group_labels), state.group_key)
            plans.append((group, state if state is not None else _GroupState.new(group, digest)))
        return plans, dropped

    def _notify(
        self,
        session: Session,
        now: datetime,
        open_alerts: Sequence[_OpenAlert],
        silences: Mapping[str, list[tuple[int, list[Matcher]]]],
    ) -> tuple[int, list[int]]:
        groups = self._groups(open_alerts, silences)
        plans, dropped = self._plans(session, groups)

        # Alerts a group was last told were firing and that have left it: resolved ones are
        # announced (when the receiver wants that). One query for every group, not one each.
        told: dict[int, list[int]] = {}
        for index, (group, state) in enumerate(plans):
            if self.config.receiver(group.route.receiver).send_resolved:
                still = {alert.id for alert in group.alerts}
                told[index] = [i for i in state.told_firing() if i not in still]
        resolved_rows = _load_alerts(
            session, {i for ids in told.values() for i in ids}, AlertState.RESOLVED
        )

        due: list[tuple[_Group, _GroupState, list[_OpenAlert], list[AlertRow]]] = []
        for index, (group, state) in enumerate(plans):
            firing = sorted(group.alerts, key=lambda a: a.id)
            resolved = [resolved_rows[i] for i in sorted(told.get(index, ())) if i in resolved_rows]
            if not firing and not resolved:
                # nothing left to say: a later firing waits group_wait again
                if state.id is not None:
                    dropped.append(state.id)
                state.dropped = True
                continue
            if self._due(group, state, firing, resolved, now):
                due.append((group, state, firing, resolved))

        full = _load_alerts(session, {a.id for _, _, firing, _ in due for a in firing}, None)
        notifications = 0
        enqueued: list[OutboxRow] = []
        for group, state, firing, resolved in due:
            members = [*(full[a.id] for a in firing if a.id in full), *resolved]
            enqueued.extend(self._send(session, group, state, members, now))
            state.last_sent_at = now
            state.sent_alert_ids = [{"id": a.id, "status": "firing"} for a in firing]
            state.notifications += 1
            state.changed = True
            notifications += 1
        _write_groups(session, [state for _, state in plans], dropped)
        session.flush()
        return notifications, [row.id for row in enqueued]

    @staticmethod
    def _due(
        group: _Group,
        state: _GroupState,
        firing: Sequence[_OpenAlert],
        resolved: Sequence[AlertRow],
        now: datetime,
    ) -> bool:
        previous = state.previous()
        news = has_news(
            firing={a.id for a in firing},
            resolved={r.id for r in resolved},
            last_firing={i for i, s in previous.items() if s == "firing"},
            last_resolved={i for i, s in previous.items() if s == "resolved"},
        )
        return notification_due(
            now=now,
            first_seen=state.first_seen_at,
            last_sent=state.last_sent_at,
            news=news,
            any_firing=any(a.state == AlertState.FIRING.value for a in firing),
            route=group.route,
        )

    def _send(
        self,
        session: Session,
        group: _Group,
        state: _GroupState,
        members: Sequence[AlertRow],
        now: datetime,
    ) -> list[OutboxRow]:
        """Render the group's notification for each of its receiver's channels, into the outbox."""
        receiver = self.config.receiver(group.route.receiver)
        notified = tuple(_notified(r, self.config.external_url) for r in members)
        any_firing = any(a.status == "firing" for a in notified)
        notification = Notification(
            receiver=receiver.name,
            group_key=group.key,
            status="firing" if any_firing else "resolved",
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
        state.last_hash = content_hash([(a.fingerprint, a.status) for a in notified])
        return rows


_OPEN_COLUMNS = (
    "id",
    "org",
    "fingerprint",
    "severity",
    "state",
    "labels",
    "first_received_at",
    "last_received_at",
    "resolve_timeout_s",
)


@dataclass(slots=True)
class _OpenAlert:
    """The columns of an open alert that resolving, silencing and grouping read."""

    id: int
    org: str
    fingerprint: str
    severity: str
    state: str
    labels: dict[str, str]
    first_received_at: datetime
    last_received_at: datetime
    resolve_timeout_s: int


def _load_open_alerts(session: Session) -> list[_OpenAlert]:
    table = AlertRow.__table__
    rows = session.execute(
        select(*(table.c[name] for name in _OPEN_COLUMNS)).where(table.c.state.in_(OPEN_STATES))
    )
    return [_OpenAlert(*row) for row in rows]


def _load_alerts(session: Session, ids: set[int], state: AlertState | None) -> dict[int, AlertRow]:
    """Full alert rows by ID (only those in ``state`` when one is given), 500 IDs a query."""
    found: dict[int, AlertRow] = {}
    ordered = sorted(ids)
    for first in range(0, len(ordered), 500):
        query = select(AlertRow).where(AlertRow.id.in_(ordered[first : first + 500]))
        if state is not None:
            query = query.where(AlertRow.state == state.value)
        found.update((row.id, row) for row in session.scalars(query))
    return found


_GROUP_UPDATED = ("id", "last_sent_at", "last_hash", "sent_alert_ids", "notifications")


@dataclass(slots=True)
class _GroupState:
    """A notification group's row as plain values, written back in bulk after the flush."""

    id: int | None
    org: str
    key_digest: str
    group_key: str
    route_path: str
    receiver: str
    group_labels: dict[str, str]
    first_seen_at: datetime
    last_sent_at: datetime | None
    last_hash: str
    sent_alert_ids: list[Any]
    notifications: int
    changed: bool = False
    dropped: bool = False

    @classmethod
    def new(cls, group: _Group, digest: str) -> _GroupState:
        return cls(
            id=None,
            org=group.org,
            key_digest=digest,
            group_key=group.key,
            route_path=group.route.path,
            receiver=group.route.receiver,
            group_labels=group.labels,
            # group_wait counts from the first alert's arrival, as in Alertmanager
            first_seen_at=min(a.first_received_at for a in group.alerts),
            last_sent_at=None,
            last_hash="",
            sent_alert_ids=[],
            notifications=0,
        )

    def previous(self) -> dict[int, str]:
        """What the last notification said of each alert: ``firing`` or ``resolved``."""
        return {int(e["id"]): str(e["status"]) for e in self.sent_alert_ids}

    def told_firing(self) -> list[int]:
        return [i for i, status in self.previous().items() if status == "firing"]

    def columns(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _GROUP_COLUMNS}
        del values["id"]
        return values


_GROUP_COLUMNS = tuple(c.key for c in NotificationGroupRow.__table__.columns)


def _load_groups(session: Session) -> list[_GroupState]:
    table = NotificationGroupRow.__table__
    return [_GroupState(**row._asdict()) for row in session.execute(select(table))]


def _write_groups(session: Session, states: Sequence[_GroupState], dropped: Sequence[int]) -> None:
    """New groups inserted, notified ones updated and emptied ones deleted, in a few statements."""
    for first in range(0, len(dropped), 500):
        chunk = dropped[first : first + 500]
        session.execute(delete(NotificationGroupRow).where(NotificationGroupRow.id.in_(chunk)))
    added = [s.columns() for s in states if s.id is None and not s.dropped]
    if added:
        session.execute(insert(NotificationGroupRow), added)
    changed = [
        {name: getattr(s, name) for name in _GROUP_UPDATED}
        for s in states
        if s.id is not None and s.changed and not s.dropped
    ]
    if changed:
        session.execute(update(NotificationGroupRow), changed)


def _resolve_timed_out(session: Session, open_alerts: Sequence[_OpenAlert], now: datetime) -> int:
    """Resolve the open alerts no firing has renewed within their route's resolve_timeout."""
    ended: list[dict[str, Any]] = []
    for alert in open_alerts:
        deadline = alert.last_received_at + timedelta(seconds=alert.resolve_timeout_s)
        if deadline <= now:
            alert.state = AlertState.RESOLVED.value
            ended.append({"id": alert.id, "state": alert.state, "ends_at": deadline})
    if ended:
        session.execute(update(AlertRow), ended)
    return len(ended)


def _gauge(
    open_alerts: Sequence[_OpenAlert], silences: Mapping[str, list[tuple[int, list[Matcher]]]]
) -> None:
    counts: dict[tuple[str, str], int] = {}
    for alert in open_alerts:
        state = (
            "silenced" if silenced_by(alert.labels, silences.get(alert.org, [])) else alert.state
        )
        counts[(alert.severity, state)] = counts.get((alert.severity, state), 0) + 1
    ALERTS.clear()
    for (severity, state), count in counts.items():
        ALERTS.labels(severity=severity, state=state).set(count)
