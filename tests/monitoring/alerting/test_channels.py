"""Channels on their own: hostile text, missing secrets, and metrics of outcomes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from garrison.monitoring.alerting import AlertManager, DeliveryError, list_outbox
from garrison.monitoring.alerting.channels import (
    EmailChannel,
    EmailSettings,
    Notification,
    NotifiedAlert,
    SlackSettings,
    WebhookSettings,
    read_secret,
)
from garrison.monitoring.metrics import NOTIFICATIONS
from tests.monitoring.alerting.conftest import T0, FiringFactory
from tests.monitoring.alerting.receivers import HttpReceiver, SmtpReceiver


def _notification(title: str) -> Notification:
    alert = NotifiedAlert(
        id=1,
        fingerprint="f" * 32,
        status="firing",
        severity="high",
        labels={"alertname": "R", "user.id": "u1"},
        annotations={"title": title, "summary": title},
        starts_at="2026-11-22T09:00:00Z",
        ends_at="0001-01-01T00:00:00Z",
        url="https://garrison.example.com/alerts/1",
    )
    return Notification("mail", "0:{}", "firing", {}, (alert,), "https://garrison.example.com")


def test_email_subject_cannot_inject_headers(smtp: SmtpReceiver) -> None:
    settings = EmailSettings.model_validate(
        {"to": ["soc@example.com"], "from": "g@example.com", "smarthost": f"127.0.0.1:{smtp.port}"}
    )
    channel = EmailChannel()
    (payload,) = channel.render(settings, _notification("hi\r\nBcc: victim@example.com"))
    channel.send(settings, payload, "key-1", 5.0)
    (message,) = smtp.messages
    assert message["Bcc"] is None
    assert "Bcc: victim@example.com" in message["Subject"]
    assert message["X-Garrison-Idempotency-Key"] == "key-1"


def test_email_to_a_closed_port_is_retryable(tmp_path: Path) -> None:
    settings = EmailSettings.model_validate(
        {"to": ["soc@example.com"], "from": "g@example.com", "smarthost": "127.0.0.1:1"}
    )
    with pytest.raises(DeliveryError) as caught:
        EmailChannel().send(settings, {"subject": "s", "body": "b"}, "k", 2.0)
    assert caught.value.retryable


def test_secret_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(DeliveryError, match="NOT_SET_ANYWHERE"):
        read_secret(SlackSettings(url_env="NOT_SET_ANYWHERE"), "url")
    secret = tmp_path / "slack.url"
    secret.write_text("https://hooks.example.com/x\n")
    assert read_secret(SlackSettings(url_file=str(secret)), "url") == "https://hooks.example.com/x"
    with pytest.raises(ValueError, match="exactly one"):
        SlackSettings(url_env="A", url_file="b")
    with pytest.raises(ValueError, match="exactly one"):
        WebhookSettings()


def test_missing_secret_retries_then_names_the_variable(
    manager: AlertManager,
    firing: FiringFactory,
    http: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_SLACK_URL")
    before = NOTIFICATIONS.labels(channel="slack", outcome="retry")._value.get()
    manager.receive([firing()], T0)
    now = T0 + timedelta(seconds=30)
    manager.flush(now)
    report = manager.deliver(now)
    assert (report.sent, report.retried) == (1, 1)  # the webhook went, slack waits
    after = NOTIFICATIONS.labels(channel="slack", outcome="retry")._value.get()
    assert after == before + 1
    with manager.store.session() as session:
        (pending,) = [e for e in list_outbox(session) if e.channel_type == "slack"]
    assert "TEST_SLACK_URL" in pending.last_error
    assert "hooks" not in str(pending.payload)  # no secret was stored with the notification
