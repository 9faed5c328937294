"""The default rule pack: every rule fires on its attack stream and stays silent on benign ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from garrison.catalog import get_catalog
from garrison.monitoring.events import SecurityEvent
from tests.monitoring.rules.support import SAMPLES, default_pack, read_events, run

RULE_IDS = sorted(default_pack().rule_ids())


def test_every_rule_has_samples_tags_and_a_severity() -> None:
    catalog = get_catalog()
    for meta in default_pack().metas():
        assert (SAMPLES / f"{meta.rule_id}.fire.jsonl").is_file(), meta.rule_id
        assert (SAMPLES / f"{meta.rule_id}.silent.jsonl").is_file(), meta.rule_id
        assert meta.atlas and meta.owasp, meta.rule_id
        assert all(catalog.find(i) is not None for i in (*meta.atlas, *meta.owasp))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_on_its_attack_stream(rule_id: str) -> None:
    events = read_events(SAMPLES / f"{rule_id}.fire.jsonl")
    fired = [f for f in run(events) if f.rule_id == rule_id]
    assert len(fired) == 1, [f.summary for f in fired]
    firing = fired[0]
    known = {e.event_id for e in events}
    assert firing.event_ids and set(firing.event_ids) <= known
    assert firing.window_start <= firing.window_end
    assert firing.atlas and firing.owasp


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_stays_silent_on_the_benign_stream(rule_id: str) -> None:
    events = read_events(SAMPLES / f"{rule_id}.silent.jsonl")
    assert [f.summary for f in run(events) if f.rule_id == rule_id] == []


def _block(i: int, seconds: float) -> SecurityEvent:
    return SecurityEvent.from_flat(
        {
            "garrison.event.id": f"b-{i}",
            "timestamp": (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=seconds))
            .isoformat()
            .replace("+00:00", "Z"),
            "garrison.event.type": "guardrail.evaluation",
            "garrison.category": "guardrail_block",
            "garrison.guardrail.layer": "injection",
            "user.id": "u-burst",
        }
    )


def test_a_ten_minute_burst_of_100_blocks_raises_one_firing() -> None:
    events = [_block(i, i * 6) for i in range(100)]  # 100 blocks over 594 seconds
    fired = [f for f in run(events) if f.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    assert len(fired) == 1
    assert fired[0].event_count == 100  # later blocks extended the one firing
    assert fired[0].group == {"user.id": "u-burst"}


def test_the_same_burst_after_suppression_fires_again() -> None:
    first = [_block(i, i * 6) for i in range(20)]
    second = [_block(100 + i, 1300 + i * 6) for i in range(20)]
    fired = [f for f in run(first + second) if f.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    assert len(fired) == 2
