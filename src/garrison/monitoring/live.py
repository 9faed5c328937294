"""The live detection path of a running server: stored events go through the rule engine, firings
become alerts, and due notifications are flushed and delivered on a timer.

Without this the rules only run on recordings (``garrison monitor replay``, ``garrison rules
test``); with it an attack stream sent to ``/api/v1/events`` or the OTLP receiver pages someone.

Rule state (windows, baselines, suppression) lives in this process's memory over event time, so
a deployment that runs several server processes must send each organization's events to one of
them (DESIGN.md, scale path); the alerts and the outbox are in the store and shared.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from garrison.core.settings import Settings
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.monitoring import metrics
from garrison.monitoring.alerting import (
    Alert,
    AlertManager,
    DeliveryReport,
    FlushReport,
    load_alerting_config,
)
from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.rules.context import authorized_tools
from garrison.monitoring.rules.engine import RuleEngine
from garrison.monitoring.rules.firing import RuleFiring
from garrison.monitoring.rules.loader import RulePack, load_rule_pack
from garrison.monitoring.rules.plugins import PluginContext
from garrison.monitoring.rules.store import save_firings
from garrison.store import Store

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of this server's clock an event may be stamped and still reach the rules.

The engine's windows follow the newest event time it has seen; one event stamped in the year 9999
would make every later event "late" and blind the rules, so such events are stored but not
correlated (counted in ``garrison_events_dropped_total{stage="rules",reason="future"}``)."""


COUNTED_FIRINGS = 50_000
"""Firings whose event count already reached alerting, remembered so that a firing re-sent as it
grows adds only its new events to the alert (the oldest are forgotten first)."""


@dataclass
class _PendingFirings:
    """The engine's sink: firings new or grown since the last drain, latest version per ID."""

    pending: dict[str, RuleFiring] = field(default_factory=dict)

    def fire(self, firing: RuleFiring) -> None:
        self.pending[firing.firing_id] = firing

    def extend(self, firing: RuleFiring) -> None:
        self.pending[firing.firing_id] = firing

    def drain(self) -> list[RuleFiring]:
        firings = list(self.pending.values())
        self.pending.clear()
        return firings


class LiveDetection:
    """One per server process; ``observe`` is called by ingest with every newly stored batch."""

    def __init__(
        self,
        store: Store,
        pack: RulePack,
        manager: AlertManager,
        *,
        context: PluginContext | None = None,
    ) -> None:
        self.store = store
        self.manager = manager
        self._sink = _PendingFirings()
        self.engine = RuleEngine(pack, self._sink, context=context)
        self._counted: OrderedDict[str, int] = OrderedDict()
        # Ingest runs request handlers in a thread pool; the engine's state is not thread-safe.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> LiveDetection:
        """The organization's rule pack and alerting.yaml (or the packaged ones), and the agents'
        authorized tools from the inventory as they are at start-up."""
        try:
            with store.session() as session:
                tools = authorized_tools(session)
        except SQLAlchemyError as exc:
            # A store that does not answer yet must not keep the server (and /healthz) down;
            # the agent-policy plugin then knows no agents until the next start.
            log.warning("live rules start without the inventory's agent tools: %s", exc)
            tools = {}
        pack = load_rule_pack(settings.content_dir)
        manager = AlertManager(store, load_alerting_config(settings.content_dir))
        return cls(store, pack, manager, context=PluginContext(authorized_tools=tools))

    def observe(self, events: Sequence[SecurityEvent], now: datetime | None = None) -> list[Alert]:
        """Run newly stored events through the rules; store the firings and raise their alerts."""
        now = ensure_utc(now) if now is not None else utcnow()
        horizon = now + FUTURE_TOLERANCE
        with self._lock:
            for event in events:
                if event.timestamp > horizon:
                    metrics.EVENTS_DROPPED.labels(stage="rules", reason="future").inc()
                    continue
                self.engine.process(event)
            firings = self._sink.drain()
            increments = self._increments(firings)
        if not firings:
            return []
        with self.store.session() as session:
            save_firings(session, firings)
        return self.manager.receive(increments, now)

    def _increments(self, firings: list[RuleFiring]) -> list[RuleFiring]:
        """Each firing with only the events alerting has not been told about yet."""
        out: list[RuleFiring] = []
        for firing in firings:
            told = self._counted.pop(firing.firing_id, 0)
            self._counted[firing.firing_id] = max(told, firing.event_count)
            out.append(dataclasses.replace(firing, event_count=max(0, firing.event_count - told)))
        while len(self._counted) > COUNTED_FIRINGS:
            self._counted.popitem(last=False)
        return out

    def tick(self, now: datetime | None = None) -> tuple[FlushReport, DeliveryReport]:
        """Resolve timed-out alerts, enqueue due group notifications, and drain the outbox."""
        now = ensure_utc(now) if now is not None else utcnow()
        return self.manager.flush(now), self.manager.deliver(now)
