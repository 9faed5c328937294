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
import time
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

MAX_PENDING_FIRINGS = 20_000
"""Firings gathered before a write is forced, whatever ``write_every`` says; also the most kept
for a retry while the store does not answer (the oldest beyond it are dropped and counted)."""


@dataclass
class _PendingFirings:
    """The engine's sink: firings new or grown since the last write, latest version per ID."""

    pending: dict[str, RuleFiring] = field(default_factory=dict)

    def fire(self, firing: RuleFiring) -> None:
        self.pending[firing.firing_id] = firing

    def extend(self, firing: RuleFiring) -> None:
        self.pending[firing.firing_id] = firing

    def drain(self) -> list[RuleFiring]:
        firings = list(self.pending.values())
        self.pending.clear()
        return firings

    def restore(self, firings: Sequence[RuleFiring]) -> None:
        """Put back firings a failed write took, unless the engine has a newer version."""
        for firing in firings:
            self.pending.setdefault(firing.firing_id, firing)
        while len(self.pending) > MAX_PENDING_FIRINGS:
            del self.pending[next(iter(self.pending))]
            metrics.EVENTS_DROPPED.labels(stage="rules", reason="alert_write").inc()


class LiveDetection:
    """One per server process; ``observe`` is called by ingest with every newly stored batch.

    The rules run on every batch at once. Their firings are written (stored, and routed into
    alerts) every ``write_every`` seconds of wall-clock time rather than per batch: a burst that
    grows one firing over a hundred requests is then one row update, not a hundred, and the
    write's fixed cost is paid a few times a second instead of per request. ``write_every=0``
    writes after every batch. ``write_pending`` (called by the server's timer and at shutdown)
    writes whatever is waiting.
    """

    def __init__(
        self,
        store: Store,
        pack: RulePack,
        manager: AlertManager,
        *,
        context: PluginContext | None = None,
        write_every: float = 0.0,
    ) -> None:
        self.store = store
        self.manager = manager
        self.write_every = max(0.0, write_every)
        self._sink = _PendingFirings()
        self.engine = RuleEngine(pack, self._sink, context=context)
        self._counted: OrderedDict[str, int] = OrderedDict()
        self._last_write = float("-inf")
        # Ingest runs request handlers in a thread pool; the engine's state is not thread-safe.
        self._lock = threading.Lock()
        # One writer at a time, so that alert updates never race each other for the same row.
        self._write_lock = threading.Lock()

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
        return cls(
            store,
            pack,
            manager,
            context=PluginContext(authorized_tools=tools),
            write_every=settings.alerting_write_seconds,
        )

    def observe(self, events: Sequence[SecurityEvent], now: datetime | None = None) -> list[Alert]:
        """Run newly stored events through the rules; when a write is due, store the firings
        and raise their alerts. Returns the alerts written by this call."""
        now = ensure_utc(now) if now is not None else utcnow()
        horizon = now + FUTURE_TOLERANCE
        with self._lock:
            for event in events:
                if event.timestamp > horizon:
                    metrics.EVENTS_DROPPED.labels(stage="rules", reason="future").inc()
                    continue
                self.engine.process(event)
            due = self._write_due()
        # The events are stored: a failed write must not become an error the client retries.
        return self._write_or_keep(now) if due else []

    def _write_or_keep(self, now: datetime) -> list[Alert]:
        """``write_pending``, but a store that does not answer only delays the firings: they
        stay for the next write (the timer's, or the next batch's)."""
        try:
            return self.write_pending(now)
        except SQLAlchemyError as exc:
            log.warning("writing rule firings failed, kept for the next write: %s", exc)
            return []

    def _write_due(self) -> bool:
        pending = len(self._sink.pending)
        if not pending:
            return False
        elapsed = time.monotonic() - self._last_write
        return elapsed >= self.write_every or pending >= MAX_PENDING_FIRINGS

    def has_due_firings(self) -> bool:
        """Firings have waited ``write_every`` seconds (the server's timer writes them)."""
        with self._lock:
            return self._write_due()

    def write_pending(self, now: datetime | None = None) -> list[Alert]:
        """Store the firings gathered since the last write and route them into alerts, in one
        transaction. A write that fails keeps them for the next one."""
        now = ensure_utc(now) if now is not None else utcnow()
        with self._write_lock:
            with self._lock:
                firings = self._sink.drain()
                self._last_write = time.monotonic()
            if not firings:
                return []
            increments, counted = self._increments(firings)
            try:
                # One transaction: a firing is never stored without its alert, nor the reverse.
                with self.store.session() as session:
                    save_firings(session, firings)
                    alerts = self.manager.record(session, increments, now)
            except Exception:
                with self._lock:
                    self._sink.restore(firings)
                raise
            for firing_id, told in counted.items():
                self._counted[firing_id] = told
                self._counted.move_to_end(firing_id)
            while len(self._counted) > COUNTED_FIRINGS:
                self._counted.popitem(last=False)
            return alerts

    def _increments(self, firings: list[RuleFiring]) -> tuple[list[RuleFiring], dict[str, int]]:
        """Each firing with only the events alerting has not been told about yet, and the
        counts alerting will have been told once the write succeeds."""
        out: list[RuleFiring] = []
        counted: dict[str, int] = {}
        for firing in firings:
            told = self._counted.get(firing.firing_id, 0)
            counted[firing.firing_id] = max(told, firing.event_count)
            new = max(0, firing.event_count - told)
            out.append(dataclasses.replace(firing, event_count=new) if told else firing)
        return out, counted

    def tick(self, now: datetime | None = None) -> tuple[FlushReport, DeliveryReport]:
        """Write waiting firings, resolve timed-out alerts, enqueue due group notifications,
        and drain the outbox."""
        now = ensure_utc(now) if now is not None else utcnow()
        # A failed write keeps its firings; the alerts already stored are flushed all the same.
        self._write_or_keep(now)
        return self.manager.flush(now), self.manager.deliver(now)
