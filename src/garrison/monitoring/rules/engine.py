"""The streaming rule engine: events in, suppressed firings out to a pluggable sink.

For each event: the per-event Sigma rules indexed under its category or type are evaluated; each
match feeds the correlations that reference the rule; plugins observe the event. Whatever matches
goes through the rule's suppression (one firing per rule and group per ``suppress`` span; later
matches extend it) and then to the sink. Firings of a correlation are also hits for correlations
that chain on it.

Event time drives everything. The watermark is the newest event time seen minus the rule's
allowed lateness; a correlation hit older than that is dropped and counted, never misplaced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from garrison.monitoring import metrics
from garrison.monitoring.events import SecurityEvent, new_event_id
from garrison.monitoring.rules.correlation import GroupWindow, Hit
from garrison.monitoring.rules.fields import Getter, getter, group_key
from garrison.monitoring.rules.firing import MAX_FIRING_EVENT_IDS, RuleFiring
from garrison.monitoring.rules.loader import CorrelationRule, EventRule, RulePack
from garrison.monitoring.rules.model import RuleMeta
from garrison.monitoring.rules.plugins import (
    PluginContext,
    PluginMatch,
    RulePlugin,
    rule_plugin_registry,
)
from garrison.monitoring.rules.state import KeyedState


class FiringSink(Protocol):
    """Where firings go: alerting, a store writer, a benchmark counter, a test list."""

    def fire(self, firing: RuleFiring) -> None:
        """A new firing."""

    def extend(self, firing: RuleFiring) -> None:
        """A firing already sent (same ``firing_id``) grew: more events within its suppression."""


@dataclass
class CollectingSink:
    """Keeps every firing, latest version per firing ID; for tests, replays and the CLI."""

    firings: dict[str, RuleFiring] = field(default_factory=dict)

    def fire(self, firing: RuleFiring) -> None:
        self.firings[firing.firing_id] = firing

    def extend(self, firing: RuleFiring) -> None:
        self.firings[firing.firing_id] = firing

    def all(self) -> list[RuleFiring]:
        return list(self.firings.values())


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _merge_ids(old: tuple[str, ...], new: Iterable[str]) -> tuple[str, ...]:
    """The first half of the cap from the start of the firing, the rest the latest."""
    seen = set(old)
    merged = list(old) + [i for i in new if i not in seen]
    if len(merged) <= MAX_FIRING_EVENT_IDS:
        return tuple(merged)
    half = MAX_FIRING_EVENT_IDS // 2
    return tuple(merged[:half] + merged[-(MAX_FIRING_EVENT_IDS - half) :])


@dataclass(slots=True)
class _Open:
    firing: RuleFiring
    until: float
    newest: float


@dataclass(frozen=True, slots=True)
class _Match:
    meta: RuleMeta
    org: str
    group: dict[str, str]
    start: float
    end: float
    event_ids: tuple[str, ...]
    count: int
    summary: str
    labels: dict[str, str]
    user_id: str | None
    session_id: str | None
    asset_id: str | None


class _Correlator:
    def __init__(self, rule: CorrelationRule) -> None:
        self.rule = rule
        self.getters: tuple[Getter, ...] = tuple(getter(f) for f in rule.group_by)
        self.value: Getter | None = getter(rule.value_field) if rule.value_field else None
        self.state: KeyedState[GroupWindow] = KeyedState(rule.max_keys)


class RuleEngine:
    """Evaluates a :class:`RulePack` over a stream of events; not thread-safe (one per worker)."""

    def __init__(
        self,
        pack: RulePack,
        sink: FiringSink | None = None,
        *,
        context: PluginContext | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        self.pack = pack
        self.sink: FiringSink = sink if sink is not None else CollectingSink()
        self.settings = pack.settings
        ctx = context or PluginContext(max_keys=self.settings.max_keys)
        wanted = None if only is None else {r.upper() for r in only}
        self._by_index: dict[tuple[str, str], list[EventRule]] = defaultdict(list)
        self._unindexed: list[EventRule] = []
        for rule in pack.event_rules:
            if rule.index is None:
                self._unindexed.append(rule)
            else:
                field_name, values = rule.index
                for value in values:
                    self._by_index[(field_name, value)].append(rule)
        self._correlators: list[_Correlator] = [_Correlator(c) for c in pack.correlations]
        self._consumers: dict[str, list[_Correlator]] = defaultdict(list)
        for corr in self._correlators:
            for source in corr.rule.logic.sources:
                self._consumers[source].append(corr)
        self._plugins: list[tuple[RuleMeta, RulePlugin]] = [
            (p.meta, rule_plugin_registry.get(p.plugin)(ctx, p.settings))
            for p in pack.plugins
            if wanted is None or p.meta.rule_id in wanted
        ]
        self._wanted = wanted
        self._routes: dict[
            tuple[object, object, bool],
            tuple[tuple[EventRule, ...], tuple[tuple[RuleMeta, RulePlugin], ...]],
        ] = {}
        self._suppressed: KeyedState[_Open] = KeyedState(self.settings.max_keys)
        self._newest = float("-inf")
        self._seen = 0
        self._users: dict[str, float] = {}
        self._longest = max([c.rule.logic.span for c in self._correlators] + [600.0], default=600.0)
        self.dropped_late = 0

    # --- the stream ---------------------------------------------------------------------------

    def process(self, event: SecurityEvent) -> list[RuleFiring]:
        ts = event.timestamp.timestamp()
        self._newest = max(self._newest, ts)
        out: list[RuleFiring] = []
        candidates, plugins = self._route(event)
        for rule in candidates:
            if not rule.predicate(event):
                continue
            if rule.meta is not None:
                self._emit(self._event_match(rule, rule.meta, event), ts, out)
            for corr in self._consumers.get(rule.name, ()):
                self._correlate(corr, event, None, rule.name, ts, event.event_id, out)
        for meta, plugin in plugins:
            found = plugin.observe(event, ts)
            if found is not None:
                self._emit(self._plugin_match(meta, event, found), ts, out)
        if event.user_id is not None:
            self._users[event.user_id] = ts
        self._seen += 1
        if self._seen % self.settings.gauge_every == 0:
            self.housekeeping()
        return out

    def process_many(self, events: Iterable[SecurityEvent]) -> list[RuleFiring]:
        out: list[RuleFiring] = []
        for event in events:
            out.extend(self.process(event))
        return out

    def _route(
        self, event: SecurityEvent
    ) -> tuple[tuple[EventRule, ...], tuple[tuple[RuleMeta, RulePlugin], ...]]:
        """The rules and plugins an event of this type and category can match (cached)."""
        key = (event.event_type, event.category, bool(event.findings))
        found = self._routes.get(key)
        if found is None:
            rules: list[EventRule] = []
            if event.category is not None:
                rules.extend(self._by_index.get(("garrison.category", event.category.value), ()))
            rules.extend(self._by_index.get(("garrison.event.type", event.event_type.value), ()))
            rules.extend(self._unindexed)
            if not event.findings:
                rules = [r for r in rules if not r.needs_findings]
            plugins = tuple(
                (m, p) for m, p in self._plugins if p.accepts(event.event_type, event.category)
            )
            unique = tuple({id(r): r for r in rules}.values())
            found = self._routes[key] = (unique, plugins)
        return found

    # --- correlations -------------------------------------------------------------------------

    def _correlate(  # noqa: PLR0917 - one hit's parts, called from two places
        self,
        corr: _Correlator,
        event: SecurityEvent | None,
        group: Mapping[str, str] | None,
        source: str,
        ts: float,
        hit_id: str,
        out: list[RuleFiring],
        org: str | None = None,
    ) -> bool:
        rule = corr.rule
        watermark = self._newest - rule.lateness
        if ts < watermark:
            self.dropped_late += 1
            metrics.EVENTS_DROPPED.labels(stage="rules", reason="too_late").inc()
            return True
        if event is not None:
            key = group_key(event, corr.getters)
            tenant = event.org
            value = corr.value(event) if corr.value is not None else None
        else:
            assert group is not None
            values = [group.get(f) for f in rule.group_by]
            key = None if any(v is None for v in values) else tuple(str(v) for v in values)
            tenant = org or "default"
            value = group.get(rule.value_field) if rule.value_field else None
        if key is None:
            return False
        full_key = (tenant, *key)
        window = corr.state.touch(full_key, GroupWindow)
        result = rule.logic.add(window, Hit(ts, hit_id, source, value), watermark)
        if result is None:
            return False
        named = dict(zip(rule.group_by, key, strict=True))
        ids = tuple(h.event_id for h in result.hits)
        if rule.meta is None:
            # A building block has no suppression of its own: every match feeds its consumers.
            self._chain(rule.name, tenant, named, result.end, ids, out)
            return False
        match = _Match(
            meta=rule.meta,
            org=tenant,
            group=named,
            start=result.start,
            end=result.end,
            event_ids=ids,
            count=len(result.hits),
            summary=_summary(rule, result.measure, named),
            labels={"correlation": rule.logic.ctype, "measure": f"{result.measure:g}"},
            user_id=named.get("user.id") or (event.user_id if event is not None else None),
            session_id=named.get("session.id") or (event.session_id if event is not None else None),
            asset_id=named.get("garrison.asset.id")
            or (event.asset_id if event is not None else None),
        )
        self._emit(match, ts, out, name=rule.name)
        return False

    def _chain(  # noqa: PLR0917
        self,
        name: str,
        org: str,
        group: Mapping[str, str],
        end: float,
        ids: tuple[str, ...],
        out: list[RuleFiring],
    ) -> None:
        for consumer in self._consumers.get(name, ()):
            hit_id = ids[-1] if ids else new_event_id()
            self._correlate(consumer, None, group, name, end, hit_id, out, org=org)

    # --- suppression and output -----------------------------------------------------------------

    def _emit(
        self, match: _Match, ts: float, out: list[RuleFiring], *, name: str | None = None
    ) -> None:
        """Suppress or send ``match``; a new firing of a correlation named ``name`` also feeds
        the correlations chained on it."""
        meta = match.meta
        key = (match.org, meta.rule_id, *(f"{k}={v}" for k, v in sorted(match.group.items())))
        current = self._suppressed.get(key)
        if current is not None and ts < current.until:
            old = current.firing
            ids = _merge_ids(old.event_ids, match.event_ids)
            grown = replace(
                old,
                window_start=min(old.window_start, _utc(match.start)),
                window_end=max(old.window_end, _utc(match.end)),
                event_ids=ids,
                # Each later match is completed by exactly one new event.
                event_count=old.event_count + 1,
            )
            current.firing = grown
            current.newest = max(current.newest, ts)
            if self._wanted is None or meta.rule_id in self._wanted:
                self.sink.extend(grown)
            return
        firing = RuleFiring(
            firing_id=new_event_id(_utc(ts)),
            rule_id=meta.rule_id,
            title=meta.title,
            severity=meta.severity,
            org=match.org,
            window_start=_utc(match.start),
            window_end=_utc(match.end),
            fired_at=_utc(ts),
            group=dict(match.group),
            event_ids=_merge_ids((), match.event_ids),
            event_count=match.count,
            asset_id=match.asset_id,
            user_id=match.user_id,
            session_id=match.session_id,
            atlas=meta.atlas,
            owasp=meta.owasp,
            labels=dict(match.labels),
            summary=match.summary or meta.title,
        )
        suppress = meta.suppress.total_seconds()
        if suppress > 0:
            state = self._suppressed.touch(key, lambda: _Open(firing, ts + suppress, ts))
            state.firing, state.until, state.newest = firing, ts + suppress, ts
        if self._wanted is None or meta.rule_id in self._wanted:
            metrics.RULE_FIRINGS.labels(rule=meta.rule_id).inc()
            self.sink.fire(firing)
            out.append(firing)
        if name is not None:
            self._chain(name, match.org, match.group, match.end, match.event_ids, out)

    def _event_match(self, rule: EventRule, meta: RuleMeta, event: SecurityEvent) -> _Match:
        group = {}
        for name in rule.suppress_by:
            value = getter(name)(event)
            if value is not None and not isinstance(value, list):
                group[name] = str(value)
        ts = event.timestamp.timestamp()
        labels = {}
        if event.guardrail_layer:
            labels["layer"] = event.guardrail_layer
        if event.findings:
            labels["detector"] = event.findings[0].detector_id
        return _Match(
            meta=meta,
            org=event.org,
            group=group,
            start=ts,
            end=ts,
            event_ids=(event.event_id,),
            count=1,
            summary=f"{meta.title}: event {event.event_id} ({event.event_type.value})",
            labels=labels,
            user_id=event.user_id,
            session_id=event.session_id,
            asset_id=event.asset_id,
        )

    def _plugin_match(self, meta: RuleMeta, event: SecurityEvent, found: PluginMatch) -> _Match:
        return _Match(
            meta=meta,
            org=event.org,
            group=found.group,
            start=found.start,
            end=found.end,
            event_ids=found.event_ids,
            count=found.count,
            summary=found.summary,
            labels=found.labels,
            user_id=event.user_id,
            session_id=event.session_id,
            asset_id=event.asset_id,
        )

    # --- bounded state --------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Expire idle keys and publish the state gauges; runs every ``gauge_every`` events."""
        newest = self._newest
        for corr in self._correlators:
            rule = corr.rule
            corr.state.expire(newest - rule.lateness - rule.logic.span)
            rule_label = rule.meta.rule_id if rule.meta else rule.name
            metrics.RULE_STATE_KEYS.labels(rule=rule_label).set(len(corr.state))
            if corr.state.evictions:
                metrics.RULE_STATE_EVICTIONS.labels(rule=rule_label).inc(corr.state.evictions)
                corr.state.evictions = 0
        for meta, plugin in self._plugins:
            plugin.expire(newest)
            metrics.RULE_STATE_KEYS.labels(rule=meta.rule_id).set(plugin.key_count())
        self._suppressed.expire(newest)
        horizon = newest - self._longest
        if (
            len(self._users) > 2 * self.settings.max_keys
            or self._seen % (self.settings.gauge_every * 10) == 0
        ):
            self._users = {u: t for u, t in self._users.items() if t >= horizon}
        metrics.ACTIVE_USERS.set(sum(1 for t in self._users.values() if t >= horizon))

    def state_sizes(self) -> dict[str, int]:
        sizes = {
            (c.rule.meta.rule_id if c.rule.meta else c.rule.name): len(c.state)
            for c in self._correlators
        }
        sizes.update({m.rule_id: p.key_count() for m, p in self._plugins})
        sizes["suppression"] = len(self._suppressed)
        return sizes

    def evictions(self) -> int:
        return sum(c.state.evictions for c in self._correlators) + sum(
            p.evictions() for _, p in self._plugins
        )


def _summary(rule: CorrelationRule, measure: float, group: Mapping[str, str]) -> str:
    who = ", ".join(f"{k}={v}" for k, v in group.items()) or "all events"
    span = f"{rule.logic.span:g}s"
    what = {
        "event_count": f"{measure:g} matching events",
        "value_count": f"{measure:g} distinct {rule.value_field}",
        "value_sum": f"{rule.value_field} summing to {measure:g}",
        "temporal": f"{measure:g} of {len(rule.logic.sources)} rules matched",
        "temporal_ordered": f"{len(rule.logic.sources)} rules matched in order",
    }[rule.logic.ctype]
    return f"{rule.meta.title if rule.meta else rule.name}: {what} within {span} for {who}"
