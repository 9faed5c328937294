"""Alerting fixtures: loopback receivers, an alerting.yaml pointing at them, rule firings."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from garrison.monitoring.alerting import AlertingConfig, AlertManager, load_alerting_config
from garrison.monitoring.alerting.core import AssetContext
from garrison.monitoring.detectors.base import Severity
from garrison.monitoring.rules.firing import RuleFiring
from garrison.store import Store
from tests.monitoring.alerting.receivers import (
    HttpReceiver,
    SmtpReceiver,
    http_receiver,
    smtp_receiver,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

CONFIG = """
route:
  receiver: soc-slack
  group_by: [alertname, user.id]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  resolve_timeout: 5m
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall
      continue: true
    - matchers: ['team=~"payments|fraud"']
      receiver: payments-mail
      continue: true
    - receiver: soc-slack
      continue: true
    - receiver: siem
receivers:
  - name: soc-slack
    channels:
      - type: slack
        url_env: TEST_SLACK_URL
  - name: oncall
    channels:
      - type: pagerduty
        routing_key_file: {key_file}
        url: {http}/v2/enqueue
  - name: siem
    channels:
      - type: webhook
        url: {http}/siem
  - name: payments-mail
    channels:
      - type: email
        to: [payments-oncall@example.com]
        from: garrison@example.com
        smarthost: 127.0.0.1:{smtp_port}
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"high|medium|low|info"']
    equal: [user.id]
severity_matrix:
  unknown_asset_level: medium
  levels:
    critical: {{critical: critical, high: critical, medium: high, low: medium}}
    high: {{critical: critical, high: high, medium: medium, low: low}}
    medium: {{critical: high, high: medium, medium: medium, low: low}}
    low: {{critical: medium, high: low, medium: low, low: info}}
    info: {{critical: info, high: info, medium: info, low: info}}
delivery:
  max_attempts: 3
  initial_backoff: 10s
  max_backoff: 5m
  lease: 2m
  timeout: 5s
external_url: https://garrison.example.com
"""

ROUTING_KEY = "R0UTINGKEY0000000000000000000000"


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with smtp_receiver() as receiver:
        yield receiver


@pytest.fixture
def config_path(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> Path:
    key_file = tmp_path / "pd.key"
    key_file.write_text(ROUTING_KEY + "\n")
    monkeypatch.setenv("TEST_SLACK_URL", f"{http.url}/slack")
    path = tmp_path / "alerting.yaml"
    path.write_text(CONFIG.format(key_file=key_file, http=http.url, smtp_port=smtp.port))
    return path


@pytest.fixture
def config(config_path: Path) -> AlertingConfig:
    return load_alerting_config(path=config_path)


ASSETS = {
    "agent-prod": AssetContext("agent-prod", "refund agent", "critical", "payments"),
    "sandbox": AssetContext("sandbox", "dev sandbox", "low", "research"),
}


def fake_assets(session: Any, org: str, ids: Any) -> dict[str, AssetContext]:
    return {i: ASSETS[i] for i in ids if i in ASSETS}


@pytest.fixture
def manager(store: Store, config: AlertingConfig) -> AlertManager:
    return AlertManager(store, config, assets=fake_assets)


_ids = itertools.count(1)

FiringFactory = Callable[..., RuleFiring]


@pytest.fixture
def firing() -> FiringFactory:
    def make(
        *,
        rule_id: str = "RULE-RAPID-GUARDRAIL-BLOCKS",
        severity: Severity = Severity.HIGH,
        user: str = "u-17",
        asset: str | None = None,
        at: datetime = T0,
        labels: dict[str, str] | None = None,
    ) -> RuleFiring:
        n = next(_ids)
        return RuleFiring(
            firing_id=f"f-{n}",
            rule_id=rule_id,
            title="Rapid guardrail blocks",
            severity=severity,
            org="default",
            window_start=at - timedelta(minutes=1),
            window_end=at,
            fired_at=at,
            group={"user.id": user},
            event_ids=(f"e-{n}",),
            event_count=1,
            asset_id=asset,
            user_id=user,
            owasp=("LLM01:2025",),
            labels={"playbook": "PB-PROMPT-INJECTION", **(labels or {})},
            summary=f"guardrail blocked user {user}",
        )

    return make
