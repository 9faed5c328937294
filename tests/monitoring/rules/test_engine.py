"""Engine behaviour: lateness, bounded state, load-time errors, export, the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from garrison.core.errors import ContentError
from garrison.monitoring.events import EventCategory, EventType, SecurityEvent
from garrison.monitoring.rules.engine import CollectingSink, RuleEngine
from garrison.monitoring.rules.loader import RulePack, load_rule_pack
from garrison.monitoring.rules.model import EngineSettings
from garrison.monitoring.rules.store import get_firing, save_firings
from garrison.store.database import Store
from tests.monitoring.rules.support import run

T0 = datetime(2026, 11, 1, tzinfo=UTC)

COUNT_RULE = """
title: block
id: 11111111-1111-4111-8111-111111111111
name: block
logsource: {product: genai}
detection:
  sel: {garrison.category: guardrail_block}
  condition: sel
---
title: three blocks
id: 11111111-1111-4111-8111-111111111112
name: three_blocks
rule_id: RULE-THREE-BLOCKS
correlation:
  type: event_count
  rules: [block]
  group-by: [user.id]
  timespan: 1m
  condition: {gte: 3}
lateness: 30s
suppress: 0s
tags: [atlas.aml-t0051, owasp.llm01-2025]
level: high
"""


def _pack(tmp_path: Path, text: str, settings: EngineSettings | None = None) -> RulePack:
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return load_rule_pack(sigma_paths=[path], settings=settings)


def _block(i: int, seconds: float, user: str = "u-1") -> SecurityEvent:
    return SecurityEvent(
        event_id=f"e-{i}",
        timestamp=T0 + timedelta(seconds=seconds),
        event_type=EventType.GUARDRAIL_EVALUATION,
        category=EventCategory.GUARDRAIL_BLOCK,
        user_id=user,
    )


def test_a_late_event_within_lateness_completes_its_window(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNT_RULE)
    # 0s and 20s, then an event at 70s moves time on; the 10s event arrives late (within 30s).
    events = [_block(1, 0), _block(2, 20), _block(3, 45), _block(4, 10)]
    fired = run([*events[:2], events[3]], pack)
    assert [f.rule_id for f in fired] == ["RULE-THREE-BLOCKS"]
    assert set(fired[0].event_ids) == {"e-1", "e-2", "e-4"}


def test_an_event_later_than_the_lateness_is_dropped(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNT_RULE)
    sink = CollectingSink()
    engine = RuleEngine(pack, sink)
    engine.process_many([_block(1, 100), _block(2, 110), _block(3, 30)])
    assert engine.dropped_late == 1
    assert sink.all() == []


def test_events_outside_the_window_do_not_count(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNT_RULE)
    assert run([_block(1, 0), _block(2, 40), _block(3, 100)], pack) == []


def test_key_cap_evicts_least_recent_and_counts(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNT_RULE.replace("lateness: 30s", "lateness: 30s\nmax_keys: 10"))
    engine = RuleEngine(pack)
    engine.process_many(_block(i, i * 0.01, user=f"u-{i}") for i in range(50))
    assert engine.state_sizes()["RULE-THREE-BLOCKS"] == 10
    assert engine.evictions() == 40


def test_idle_keys_expire_so_state_stays_flat(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNT_RULE, EngineSettings(gauge_every=100))
    engine = RuleEngine(pack)
    sizes = []
    for i in range(5_000):
        engine.process(_block(i, i, user=f"u-{i}"))  # a new user every second
        if i % 1000 == 999:
            sizes.append(engine.state_sizes()["RULE-THREE-BLOCKS"])
    assert max(sizes) <= 200  # 60s window + 30s lateness + one sweep period, never 5,000
    assert engine.evictions() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "sel: {garrison.category: guardrail_block}",
            "sel: {garrison.content.text|cidr: 10.0.0.0/8}",
        ),
        ("tags: [atlas.aml-t0051,", "tags: [atlas.aml-t9999,"),
        ("type: event_count", "type: value_percentile"),
        ("lateness: 30s", "lateness: soon"),
        ("suppress: 0s", "supress: 0s"),
    ],
)
def test_bad_rules_fail_at_load_naming_the_rule(tmp_path: Path, change: str, message: str) -> None:
    with pytest.raises(ContentError) as excinfo:
        _pack(tmp_path, COUNT_RULE.replace(change, message))
    text = str(excinfo.value)
    assert "rules.yml" in text


def test_unknown_reference_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"blok.* not found"):
        _pack(tmp_path, COUNT_RULE.replace("rules: [block]", "rules: [blok]"))


def test_firings_round_trip_through_the_store(store: Store) -> None:
    events = [_block(i, i * 5) for i in range(12)]
    (firing,) = [f for f in run(events) if f.rule_id == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    with store.session() as session:
        assert save_firings(session, [firing]) == 1
    with store.session() as session:
        save_firings(session, [firing])  # saving again updates, never duplicates
        back = get_firing(session, firing.firing_id)
    assert back == firing
