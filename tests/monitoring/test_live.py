"""LiveDetection without a server: the rules over stored batches, alerts counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from garrison.monitoring.alerting import AlertManager, list_alerts, load_alerting_config
from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.live import LiveDetection
from garrison.monitoring.rules.loader import load_rule_pack
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
