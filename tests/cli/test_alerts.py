"""``garrison alerts``: listing, acting on alerts, silences, delivery and the outbox, through the
real CLI against a real store and a loopback webhook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from garrison.core.timeutil import utcnow
from garrison.monitoring.alerting import AlertManager, load_alerting_config
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.rules.firing import RuleFiring
from garrison.store import open_store
from tests.cli.conftest import Invoke
from tests.monitoring.alerting.receivers import HttpReceiver, http_receiver

CONFIG = """
route:
  receiver: siem
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: siem
    channels:
      - type: webhook
        url: {url}/hook
severity_matrix:
  levels:
    critical: {{low: critical}}
    high: {{low: high}}
    medium: {{low: medium}}
    low: {{low: low}}
    info: {{low: info}}
delivery:
  max_attempts: 1
"""


@pytest.fixture
def receiver() -> Any:
    with http_receiver() as found:
        yield found


@pytest.fixture
def fired(
    monkeypatch: pytest.MonkeyPatch, store_url: str, tmp_path: Path, receiver: HttpReceiver
) -> int:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alerting.yaml").write_text(CONFIG.format(url=receiver.url))
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(content))
    store = open_store(store_url)
    now = utcnow()
    try:
        firing = RuleFiring(
            firing_id="f-1",
            rule_id="RULE-X",
            title="X",
            severity=Severity.HIGH,
            org="default",
            window_start=now - timedelta(minutes=1),
            window_end=now,
            fired_at=now,
            user_id="u1",
            group={"user.id": "u1"},
        )
        (alert,) = AlertManager(store, load_alerting_config(content)).receive([firing], now)
    finally:
        store.dispose()
    return alert.id


def test_list_show_ack_resolve(garrison: Invoke, fired: int) -> None:
    listed = garrison("alerts", "list", "--json")
    assert listed.code == 0, listed.err
    rows = listed.json()
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == [fired]
    shown = garrison("alerts", "show", str(fired))
    assert "RULE-X" in shown.out
    assert garrison("alerts", "ack", str(fired), "--actor", "alice").code == 0
    assert garrison("alerts", "ack", str(fired)).code == 2
    resolved = garrison("alerts", "resolve", str(fired), "--actor", "bob", "--json").json()
    assert isinstance(resolved, dict)
    assert resolved["resolved_by"] == "bob"
    assert garrison("alerts", "list", "--state", "firing", "--json").json() == []
    missing = garrison("alerts", "show", "404")
    assert missing.code == 2
    assert "no alert 404" in missing.err


def test_silence_add_list_expire(garrison: Invoke, fired: int) -> None:
    added = garrison(
        "alerts", "silence", "add", "--matcher", "user.id=u1", "--duration", "2h",
        "--comment", "pen test", "--actor", "alice", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    silence = added.json()
    assert isinstance(silence, dict)
    listed = garrison("alerts", "silence", "list", "--json").json()
    assert isinstance(listed, list)
    assert [s["id"] for s in listed] == [silence["id"]]
    alerts = garrison("alerts", "list", "--json").json()
    assert isinstance(alerts, list)
    assert alerts[0]["silenced_by"] == [silence["id"]]
    assert garrison("alerts", "silence", "expire", str(silence["id"])).code == 0
    assert garrison("alerts", "silence", "list", "--json").json() == []
    bad = garrison("alerts", "silence", "add", "-m", "user.id", "-c", "x")
    assert bad.code == 2
    assert "no operator" in bad.err
    bad_duration = garrison("alerts", "silence", "add", "-m", "a=b", "-d", "soon", "-c", "x")
    assert bad_duration.code == 2


def test_deliver_then_dead_letter_and_replay(
    garrison: Invoke, fired: int, receiver: HttpReceiver
) -> None:
    receiver.fail_next = 1
    failed = garrison("alerts", "deliver", "--json")
    assert failed.code == 1  # max_attempts 1: the failure is a dead letter at once
    dead = garrison("alerts", "outbox", "--dead", "--json")
    assert dead.code == 1
    rows = dead.json()
    assert isinstance(rows, list)
    assert len(rows) == 1
    assert "HTTP 503" in rows[0]["last_error"]
    assert garrison("alerts", "outbox", "--replay-dead").code == 0
    assert garrison("alerts", "deliver").code == 0
    assert garrison("alerts", "outbox", "--dead").code == 0
    assert len(receiver.accepted()) == 1
    body = receiver.accepted()[0].body
    assert body["version"] == "4"
    everything = garrison("alerts", "outbox", "--json").json()
    assert isinstance(everything, list)
    assert [r["state"] for r in everything] == ["sent"]


def test_broken_alerting_yaml_names_file_and_line(
    garrison: Invoke, fired: int, tmp_path: Path
) -> None:
    path = tmp_path / "content" / "alerting.yaml"
    path.write_text(path.read_text().replace("receiver: siem\n", "receiver: nobody\n", 1))
    result = garrison("alerts", "deliver")
    assert result.code == 2
    assert "alerting.yaml:" in result.err
    assert "nobody" in result.err


def test_help_teaches(garrison: Invoke) -> None:
    result = garrison("alerts", "--help")
    assert result.code == 0
    assert "garrison alerts silence add --matcher user.id=u1" in result.out
