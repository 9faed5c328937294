"""``garrison rules`` and ``garrison monitor replay`` through the real CLI entry point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import pytest

from tests.cli.conftest import Invoke

SAMPLES = Path(__file__).parents[1] / "monitoring" / "rules" / "samples"


def test_list_json_names_every_rule_with_tags(garrison: Invoke) -> None:
    result = garrison("rules", "list", "--json")
    assert result.code == 0
    rules = {r["rule_id"]: r for r in cast(list[dict[str, Any]], result.json())}
    assert "RULE-RAPID-GUARDRAIL-BLOCKS" in rules
    assert all(r["atlas"] and r["owasp"] for r in rules.values())


def test_test_command_exit_codes(garrison: Invoke) -> None:
    fire = str(SAMPLES / "RULE-RAPID-GUARDRAIL-BLOCKS.fire.jsonl")
    silent = str(SAMPLES / "RULE-RAPID-GUARDRAIL-BLOCKS.silent.jsonl")
    assert garrison("rules", "test", "RULE-RAPID-GUARDRAIL-BLOCKS", fire).code == 0
    assert garrison("rules", "test", "RULE-RAPID-GUARDRAIL-BLOCKS", silent).code == 1
    assert (
        garrison("rules", "test", "RULE-RAPID-GUARDRAIL-BLOCKS", silent, "--expect", "silent").code
        == 0
    )
    unknown = garrison("rules", "test", "RULE-NOPE", fire)
    assert unknown.code == 2 and "RULE-NOPE" in unknown.err


def test_test_command_names_the_bad_line(garrison: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"garrison.event.type": "llm.request"}\n{not json\n', encoding="utf-8")
    result = garrison("rules", "test", "RULE-INJECTION-KEYWORD", str(bad))
    assert result.code == 2
    assert "bad.jsonl:2" in result.err


def test_export_splunk_gives_queries(garrison: Invoke) -> None:
    result = garrison("rules", "export", "--backend", "splunk", "RULE-INJECTION-KEYWORD", "--json")
    assert result.code == 0
    (exported,) = cast(list[dict[str, Any]], result.json())
    assert "garrison.content.text" in exported["queries"][0]
    assert garrison("rules", "export", "--backend", "nosuch").code == 2


def test_replay_store_then_explain(
    garrison: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    fire = str(SAMPLES / "RULE-RAPID-GUARDRAIL-BLOCKS.fire.jsonl")
    result = garrison("monitor", "replay", fire, "--store", "--json")
    assert result.code == 1
    firings = cast(list[dict[str, Any]], result.json())
    (firing,) = [f for f in firings if f["rule_id"] == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    explained = garrison("rules", "explain", firing["firing_id"], "--json")
    assert explained.code == 0
    body = cast(dict[str, Any], explained.json())
    assert body["firing"]["rule_id"] == "RULE-RAPID-GUARDRAIL-BLOCKS"
    assert {e["garrison.event.id"] for e in body["events"]} == set(firing["event_ids"])
    assert garrison("rules", "explain", "no-such-firing").code == 2


def test_explain_an_alert_shows_the_events_of_its_firings(
    garrison: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from garrison.core.timeutil import utcnow
    from garrison.monitoring.alerting import AlertManager, load_alerting_config
    from garrison.monitoring.rules.store import get_firing
    from garrison.store import open_store

    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    fire = str(SAMPLES / "RULE-RAPID-GUARDRAIL-BLOCKS.fire.jsonl")
    firings = cast(
        list[dict[str, Any]], garrison("monitor", "replay", fire, "--store", "--json").json()
    )
    (stored,) = [f for f in firings if f["rule_id"] == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    store = open_store(store_url)
    try:
        with store.session() as session:
            firing = get_firing(session, stored["firing_id"])
        (alert,) = AlertManager(store, load_alerting_config()).receive([firing], utcnow())
    finally:
        store.dispose()

    explained = garrison("rules", "explain", str(alert.id), "--json")
    assert explained.code == 0
    body = cast(dict[str, Any], explained.json())
    assert body["alert"]["id"] == alert.id
    (only,) = body["firings"]
    assert only["firing"]["firing_id"] == stored["firing_id"]
    assert {e["garrison.event.id"] for e in only["events"]} == set(stored["event_ids"])
    text = garrison("rules", "explain", str(alert.id))
    assert text.code == 0 and f"alert {alert.id} RULE-RAPID-GUARDRAIL-BLOCKS" in text.out
    missing = garrison("rules", "explain", "999999")
    assert missing.code == 2 and "no alert 999999" in missing.err


def test_without_the_siem_backends_only_export_is_unavailable(
    garrison: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The siem extra is not part of `make demo`'s install: the CLI must still build and run.
    for module in (
        "sigma.backends.splunk.splunk",
        "sigma.backends.elasticsearch.elasticsearch_eql",
        "sigma.backends.elasticsearch.elasticsearch_esql",
        "sigma.backends.elasticsearch.elasticsearch_lucene",
    ):
        monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    assert garrison("rules", "list", "--json").code == 0
    refused = garrison("rules", "export", "--backend", "splunk")
    assert refused.code == 2
    assert "no Sigma backend 'splunk' is installed" in refused.err
    assert "garrison[siem]" in refused.err
