"""LiveDetection without a server: the rules over stored batches, alerts counted once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from garrison.monitoring.alerting import Alert, AlertManager, list_alerts, load_alerting_config
from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.live import LiveDetection
from garrison.monitoring.rules.firing import RuleFiring
from garrison.monitoring.rules.loader import load_rule_pack
from garrison.monitoring.rules.store import save_firings
from garrison.store import Store

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _block(n: int, at: datetime, user: str = "u-1") -> SecurityEvent:
    return SecurityEvent.from_flat(
        {
            "garrison.event.id": f"{user}-{n}",
            "timestamp": at.isoformat(),
            "garrison.event.type": "guardrail.evaluation",
            "garrison.category": "guardrail_block",
            "garrison.guardrail.action": "block",
            "garrison.guardrail.layer": "injection",
            "user.id": user,
        }
    )


def _live(store: Store) -> LiveDetection:
    return LiveDetection(store, load_rule_pack(), AlertManager(store, load_alerting_config()))


def test_a_growing_firing_counts_each_event_once(store: Store) -> None:
    live = _live(store)
    start = NOW - timedelta(minutes=10)
    events = [_block(i, start + timedelta(seconds=6 * i)) for i in range(100)]
    for first in range(0, 100, 5):  # twenty batches, as twenty requests would bring them
        live.observe(events[first : first + 5], NOW)
    with store.session() as session:
        alerts = [
            a for a in list_alerts(session, NOW) if a.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"
        ]
    (alert,) = alerts
    # One suppressed firing that grew over twenty batches: one firing, each block counted once
    # (re-sending the grown firing whole would have counted the early blocks twenty times).
    assert alert.firing_count == 1
    assert alert.event_count == 100


def test_future_stamped_events_are_skipped_not_correlated(store: Store) -> None:
    live = _live(store)
    live.observe([_block(0, datetime(9000, 1, 1, tzinfo=UTC), user="u-skew")], NOW)
    start = NOW - timedelta(minutes=2)
    fired = live.observe([_block(i, start + timedelta(seconds=10 * i)) for i in range(12)], NOW)
    assert {a.rule_id for a in fired} >= {"RULE-RAPID-GUARDRAIL-BLOCKS"}


def _burst(user: str, count: int = 12, *, after: timedelta = timedelta()) -> list[SecurityEvent]:
    # Event time moves on between bursts: the rules drop hits that arrive later than their
    # allowed lateness behind the newest event.
    start = NOW - timedelta(minutes=5) + after
    return [_block(i, start + timedelta(seconds=5 * i), user=user) for i in range(count)]


def _rapid(store: Store) -> list[Alert]:
    with store.session() as session:
        return [a for a in list_alerts(session, NOW) if a.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"]


def test_firings_wait_for_the_write_interval_then_land_together(store: Store) -> None:
    live = LiveDetection(
        store,
        load_rule_pack(),
        AlertManager(store, load_alerting_config()),
        write_every=3600,
    )
    # The first batch writes at once (nothing was written yet); later ones wait for the interval.
    assert live.observe(_burst("u-first"), NOW)
    assert live.observe(_burst("u-later", after=timedelta(minutes=1)), NOW) == []
    assert {a.labels["user.id"] for a in _rapid(store)} == {"u-first"}
    assert not live.has_due_firings()
    written = live.write_pending(NOW)
    assert {a.labels["user.id"] for a in written if a.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"} == {
        "u-later"
    }
    assert {a.labels["user.id"] for a in _rapid(store)} == {"u-first", "u-later"}
    assert live.write_pending(NOW) == []  # nothing left


def test_a_failed_write_keeps_its_firings_and_counts_each_event_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = _live(store)
    events = _burst("u-retry", 20)
    failures = iter([True])

    def flaky_save(session: Session, firings: Sequence[RuleFiring]) -> int:
        if next(failures, False):
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return save_firings(session, firings)

    monkeypatch.setattr("garrison.monitoring.live.save_firings", flaky_save)
    assert live.observe(events[:12], NOW) == []  # the write failed: nothing stored, nothing lost
    assert _rapid(store) == []
    live.observe(events[12:], NOW)  # the next write carries the kept firing, grown
    (alert,) = _rapid(store)
    assert alert.firing_count == 1
    assert alert.event_count == 20  # not 10 + 20: the failed write told alerting nothing
