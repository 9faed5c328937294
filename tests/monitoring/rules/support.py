"""Helpers shared by the rule tests: read sample streams, run the default pack over them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson

from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.rules.engine import CollectingSink, RuleEngine
from garrison.monitoring.rules.firing import RuleFiring
from garrison.monitoring.rules.loader import RulePack, load_rule_pack
from garrison.monitoring.rules.plugins import PluginContext

SAMPLES = Path(__file__).parent / "samples"
AUTHORIZED = {"agent-1": frozenset({"search", "send_email"})}
_PACK: list[RulePack] = []


def default_pack() -> RulePack:
    if not _PACK:
        _PACK.append(load_rule_pack())
    return _PACK[0]


def read_events(path: Path) -> list[SecurityEvent]:
    return [
        SecurityEvent.from_flat(orjson.loads(line))
        for line in path.read_bytes().splitlines()
        if line.strip()
    ]


def run(events: Iterable[SecurityEvent], pack: RulePack | None = None) -> list[RuleFiring]:
    sink = CollectingSink()
    engine = RuleEngine(
        pack or default_pack(), sink, context=PluginContext(authorized_tools=AUTHORIZED)
    )
    engine.process_many(events)
    return sink.all()
