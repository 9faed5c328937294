"""Live detection in a running server: events sent over HTTP reach the rules, the firing becomes
one alert, and the background tick delivers one notification to a real webhook on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from garrison.core.settings import load_settings
from garrison.identity import Scope
from garrison.monitoring.alerting import list_alerts
from garrison.store import Store, open_store
from garrison.web import create_app
from garrison.web.server import run_in_thread
from tests.monitoring.alerting.receivers import HttpReceiver, http_receiver
from tests.web.auth import bearer, issue_token

ALERTING = """
route:
  receiver: siem
  group_by: [alertname, user.id]
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
  resolve_timeout: 30m
receivers:
  - name: siem
    channels:
      - type: webhook
        url: {url}/siem
severity_matrix:
  unknown_asset_level: medium
  levels:
    critical: {{critical: critical, high: critical, medium: high, low: medium}}
    high: {{critical: critical, high: high, medium: medium, low: low}}
    medium: {{critical: high, high: medium, medium: medium, low: low}}
    low: {{critical: medium, high: low, medium: low, low: info}}
    info: {{critical: info, high: info, medium: info, low: info}}
"""


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture
def live_server(
    tmp_path: Path, receiver: HttpReceiver
) -> Iterator[tuple[httpx.Client, httpx.Client, Store]]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alerting.yaml").write_text(ALERTING.format(url=receiver.url))
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    settings = load_settings(database_url=store.url, content_dir=content, alerting_tick_seconds=0.2)
    ingest = bearer(issue_token(store, (Scope.INGEST,), name="support-bot"))
    reader = bearer(issue_token(store, (Scope.READ,), name="soc"))
    try:
        with (
            run_in_thread(create_app(settings, store=store)) as url,
            httpx.Client(base_url=url, headers=ingest, timeout=30) as app_client,
            httpx.Client(base_url=url, headers=reader, timeout=30) as soc_client,
        ):
            yield app_client, soc_client, store
    finally:
        store.dispose()


def _blocks(user: str, count: int, start: datetime, every: timedelta) -> list[dict[str, Any]]:
    return [
        {
            "garrison.event.id": f"{user}-block-{i}",
            "timestamp": (start + i * every).isoformat(),
            "garrison.event.type": "guardrail.evaluation",
            "garrison.category": "guardrail_block",
            "garrison.guardrail.action": "block",
            "garrison.guardrail.layer": "injection",
            "user.id": user,
            "session.id": f"s-{user}",
        }
        for i in range(count)
    ]


def _send(client: httpx.Client, events: list[dict[str, Any]]) -> None:
    body = b"".join(orjson.dumps(e) + b"\n" for e in events)
    answer = client.post(
        "/api/v1/events", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == len(events)


def _wait_for(predicate: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server")
        time.sleep(0.1)


def _siem(receiver: HttpReceiver) -> list[dict[str, Any]]:
    return [r.body for r in receiver.accepted() if r.path == "/siem"]


def test_a_burst_sent_over_http_pages_once(
    live_server: tuple[httpx.Client, httpx.Client, Store], receiver: HttpReceiver
) -> None:
    app_client, soc_client, _ = live_server
    start = datetime.now(UTC) - timedelta(minutes=10)
    # 100 blocks by one attacker over 10 minutes, in ten requests, and a quiet user beside it.
    attack = _blocks("u-attacker", 100, start, timedelta(seconds=6))
    for first in range(0, 100, 10):
        _send(app_client, attack[first : first + 10])
    _send(app_client, _blocks("u-quiet", 1, start, timedelta(seconds=6)))

    _wait_for(lambda: len(_siem(receiver)) >= 1)
    time.sleep(1.0)  # five more ticks: a second notification would have been sent by now
    (notification,) = _siem(receiver)
    alerts = notification["alerts"]
    assert {a["labels"]["alertname"] for a in alerts} == {"RULE-RAPID-GUARDRAIL-BLOCKS"}
    assert {a["labels"]["user.id"] for a in alerts} == {"u-attacker"}

    listed = soc_client.get("/api/v1/alerts").json()
    rapid = [a for a in listed if a["rule_id"] == "RULE-RAPID-GUARDRAIL-BLOCKS"]
    assert len(rapid) == 1
    assert rapid[0]["labels"]["user.id"] == "u-attacker"
    assert all(a["labels"].get("user.id") != "u-quiet" for a in listed)


def test_an_event_stamped_in_the_future_does_not_blind_the_rules(
    live_server: tuple[httpx.Client, httpx.Client, Store], receiver: HttpReceiver
) -> None:
    app_client, soc_client, _ = live_server
    far = _blocks("u-clock-skew", 1, datetime(9000, 1, 1, tzinfo=UTC), timedelta(0))
    _send(app_client, far)
    start = datetime.now(UTC) - timedelta(minutes=2)
    _send(app_client, _blocks("u-attacker", 12, start, timedelta(seconds=10)))

    _wait_for(lambda: len(_siem(receiver)) >= 1)
    users = {a["labels"]["user.id"] for a in _siem(receiver)[0]["alerts"]}
    assert users == {"u-attacker"}
    # The skewed event is stored all the same: detection skips it, storage does not.
    listed = soc_client.get("/api/v1/events", params={"user": "u-clock-skew"}).json()
    assert len(listed["events"]) == 1


def test_live_rules_can_be_turned_off(tmp_path: Path, receiver: HttpReceiver) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    settings = load_settings(database_url=store.url, live_rules=False)
    ingest = bearer(issue_token(store, (Scope.INGEST,), name="support-bot"))
    try:
        with (
            run_in_thread(create_app(settings, store=store)) as url,
            httpx.Client(base_url=url, headers=ingest, timeout=30) as client,
        ):
            _send(client, _blocks("u-attacker", 12, datetime.now(UTC), timedelta(seconds=1)))
        with store.session() as session:
            assert list_alerts(session, datetime.now(UTC)) == []
    finally:
        store.dispose()


def test_firings_still_waiting_are_written_when_the_server_stops(tmp_path: Path) -> None:
    # Writes a minute apart, ticks an hour: only the first batch writes at once, the second waits, and
    # stopping the server must store it rather than drop it.
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    settings = load_settings(
        database_url=store.url, alerting_write_seconds=60, alerting_tick_seconds=3600
    )
    ingest = bearer(issue_token(store, (Scope.INGEST,), name="support-bot"))
    start = datetime.now(UTC) - timedelta(minutes=10)
    try:
        with (
            run_in_thread(create_app(settings, store=store)) as url,
            httpx.Client(base_url=url, headers=ingest, timeout=30) as client,
        ):
            _send(client, _blocks("u-first", 12, start, timedelta(seconds=5)))
            _send(
                client, _blocks("u-second", 12, start + timedelta(minutes=2), timedelta(seconds=5))
            )
            with store.session() as session:
                users = {a.labels.get("user.id") for a in list_alerts(session, datetime.now(UTC))}
            assert users == {"u-first"}
        with store.session() as session:
            users = {a.labels.get("user.id") for a in list_alerts(session, datetime.now(UTC))}
        assert users == {"u-first", "u-second"}
    finally:
        store.dispose()
