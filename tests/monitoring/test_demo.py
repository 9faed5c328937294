"""The demo's traffic step: the attacker's probes and the agent's stray tool call become alerts,
once, through the same pipeline and live rules a server runs."""

from __future__ import annotations

from datetime import UTC, datetime

from garrison.inventory.demo import load_demo_assets
from garrison.monitoring.alerting import list_alerts
from garrison.monitoring.demo import ATTACKER, load_demo_traffic
from garrison.store import Store

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_the_demo_traffic_raises_its_alerts_once(store: Store) -> None:
    load_demo_assets(store, None)
    first = load_demo_traffic(store, "northwind", now=NOW)
    assert first.startswith("22 events (22 new)")
    with store.session() as session:
        alerts = list_alerts(session, NOW, org="northwind")
    by_rule = {a.rule_id: a for a in alerts}
    assert {
        "RULE-RAPID-GUARDRAIL-BLOCKS",
        "RULE-SYSTEMATIC-ENUMERATION",
        "RULE-INJECTION-KEYWORD",
        "RULE-UNAUTHORIZED-TOOL-CALL",
    } <= set(by_rule)
    burst = by_rule["RULE-RAPID-GUARDRAIL-BLOCKS"]
    assert burst.labels["user.id"] == ATTACKER
    assert burst.team == "Digital Channels"  # the asset's owner, from the inventory
    assert by_rule["RULE-UNAUTHORIZED-TOOL-CALL"].team == "Wealth Technology"
    # Loading the demo again stores nothing new and raises nothing new.
    again = load_demo_traffic(store, "northwind", now=NOW)
    assert again.startswith("22 events (0 new)")
    with store.session() as session:
        assert len(list_alerts(session, NOW, org="northwind")) == len(alerts)


def test_without_the_demo_assets_the_step_says_it_skipped(store: Store) -> None:
    assert load_demo_traffic(store, "northwind", now=NOW).startswith("skipped")
