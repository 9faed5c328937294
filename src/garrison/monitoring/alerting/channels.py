"""Notification channels: Slack (Block Kit), PagerDuty Events API v2, a generic webhook carrying
Alertmanager's v4 payload, and e-mail over SMTP.

Each channel is a plugin in :data:`CHANNELS` with a settings model (validated when
``alerting.yaml`` loads), a pure ``render`` that turns a notification into the stored outbox
payload, and ``send`` that performs the I/O. Secrets (webhook URLs, routing keys, SMTP
passwords) are named by ``*_env`` or ``*_file`` settings and read only at send time, so neither
the outbox nor a dead letter ever holds one.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from garrison.core.plugins import PluginRegistry

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's endsAt for an alert that is still firing."""
MAX_ERROR = 500


class DeliveryError(Exception):
    """A channel refused or could not take a notification; ``retryable`` says whether trying
    again later can help (a 5xx or a timeout can, a 400 cannot)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message[:MAX_ERROR])
        self.retryable = retryable


@dataclass(frozen=True)
class NotifiedAlert:
    id: int
    fingerprint: str
    status: str
    """``firing`` or ``resolved`` (Alertmanager's two states on the wire)."""
    severity: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    url: str


@dataclass(frozen=True)
class Notification:
    """One group's news for one receiver, the input every channel renders."""

    receiver: str
    group_key: str
    status: str
    group_labels: Mapping[str, str]
    alerts: tuple[NotifiedAlert, ...]
    external_url: str
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def read_secret(settings: BaseModel, name: str) -> str:
    """The secret ``name`` from ``<name>_env`` or ``<name>_file``; a missing one is an error that
    says which variable or file to provide."""
    env = getattr(settings, f"{name}_env", None)
    path = getattr(settings, f"{name}_file", None)
    if env:
        value = os.environ.get(env, "")
        if not value:
            raise DeliveryError(f"environment variable {env} (the {name}) is not set")
        return value.strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryError(f"cannot read the {name} from {path}: {exc.strerror}") from None
    raise DeliveryError(f"no {name}_env or {name}_file is configured")


def _one_source(settings: BaseModel, name: str, *, plain: bool = False) -> None:
    given = [
        s
        for s in (f"{name}_env", f"{name}_file", name if plain else "")
        if s and getattr(settings, s, None)
    ]
    if len(given) != 1:
        options = f"{name}_env or {name}_file" + (f" or {name}" if plain else "")
        raise ValueError(f"set exactly one of {options}")


class Channel(Protocol):
    config_model: ClassVar[type[BaseModel]]
    per_alert: ClassVar[bool]

    def render(self, settings: BaseModel, notification: Notification) -> list[dict[str, Any]]: ...

    def send(
        self, settings: BaseModel, payload: Mapping[str, Any], idempotency_key: str, timeout: float
    ) -> None: ...


CHANNELS: PluginRegistry[Channel] = PluginRegistry("alert_channels")


_CLIENT: list[httpx.Client] = []
_CLIENT_LOCK = threading.Lock()


def _http_client() -> httpx.Client:
    # One pooled client per process: building one loads the CA bundle, which costs more than
    # the request itself.
    with _CLIENT_LOCK:
        if not _CLIENT:
            _CLIENT.append(httpx.Client(follow_redirects=False))
        return _CLIENT[0]


def _post_json(
    url: str, body: Mapping[str, Any], idempotency_key: str, timeout: float
) -> httpx.Response:
    try:
        response = _http_client().post(
            url,
            json=body,
            headers={"Idempotency-Key": idempotency_key, "User-Agent": "garrison-alerting"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        # 4xx means the request itself is wrong and will stay wrong, except rate limits.
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        raise DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}", retryable=retryable
        )
    return response


# --- Slack -------------------------------------------------------------------------------------


class SlackSettings(_Settings):
    url_env: str | None = None
    url_file: str | None = None

    @model_validator(mode="after")
    def _source(self) -> SlackSettings:
        _one_source(self, "url")
        return self


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters; hostile text must not become a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(notification: Notification) -> str:
    firing = sum(1 for a in notification.alerts if a.status == "firing")
    first = notification.alerts[0] if notification.alerts else None
    name = first.annotations.get("title", first.labels.get("alertname", "")) if first else ""
    head = f"[{notification.status.upper()}"
    head += f":{firing}]" if notification.status == "firing" else "]"
    return f"{head} {name}"


class SlackChannel:
    """Slack incoming webhook with Block Kit blocks and a plain ``text`` fallback."""

    config_model: ClassVar[type[BaseModel]] = SlackSettings
    per_alert: ClassVar[bool] = False

    def render(self, settings: BaseModel, notification: Notification) -> list[dict[str, Any]]:
        title = _title(notification)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}
        ]
        for alert in notification.alerts[:20]:
            lines = [
                f"*{slack_escape(alert.status)}* · *{slack_escape(alert.severity)}* · "
                f"{slack_escape(alert.annotations.get('summary', ''))}",
            ]
            for key in ("asset", "team", "user.id"):
                if key in alert.labels:
                    lines.append(f"{key}: `{slack_escape(alert.labels[key])}`")
            if "playbook" in alert.annotations:
                lines.append(f"playbook: `{slack_escape(alert.annotations['playbook'])}`")
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}
            )
        if len(notification.alerts) > 20:
            more = len(notification.alerts) - 20
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more"}]}
            )
        return [{"text": title, "blocks": blocks}]

    def send(
        self, settings: BaseModel, payload: Mapping[str, Any], idempotency_key: str, timeout: float
    ) -> None:
        _post_json(read_secret(settings, "url"), payload, idempotency_key, timeout)


# --- PagerDuty ---------------------------------------------------------------------------------


class PagerDutySettings(_Settings):
    routing_key_env: str | None = None
    routing_key_file: str | None = None
    url: Annotated[str, Field(pattern=r"^https?://")] = PAGERDUTY_EVENTS_URL
    """The Events API v2 endpoint; configurable so tests and proxies can point it elsewhere."""

    @model_validator(mode="after")
    def _source(self) -> PagerDutySettings:
        _one_source(self, "routing_key")
        return self


_PD_SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}


def pagerduty_event(alert: NotifiedAlert, action: str) -> dict[str, Any]:
    """An Events API v2 body without its routing key (added at send time, never stored)."""
    event: dict[str, Any] = {"event_action": action, "dedup_key": alert.fingerprint}
    if action == "trigger":
        labels = alert.labels
        event["payload"] = {
            "summary": (alert.annotations.get("summary") or labels.get("alertname", ""))[:1024],
            "source": labels.get("asset") or labels.get("org", "garrison"),
            "severity": _PD_SEVERITY.get(alert.severity, "warning"),
            "component": labels.get("asset", ""),
            "group": labels.get("team", ""),
            "class": labels.get("alertname", ""),
            "custom_details": {
                "labels": dict(labels),
                "playbook": alert.annotations.get("playbook", ""),
            },
        }
        event["links"] = [{"href": alert.url, "text": "Alert in Garrison"}]
    return event


class PagerDutyChannel:
    """One Events API v2 event per alert: dedup_key is the alert fingerprint, so a resolve closes
    the incident the trigger opened, and a re-sent trigger does not open a second one."""

    config_model: ClassVar[type[BaseModel]] = PagerDutySettings
    per_alert: ClassVar[bool] = True

    def render(self, settings: BaseModel, notification: Notification) -> list[dict[str, Any]]:
        return [
            pagerduty_event(a, "trigger" if a.status == "firing" else "resolve")
            for a in notification.alerts
        ]

    def send(
        self, settings: BaseModel, payload: Mapping[str, Any], idempotency_key: str, timeout: float
    ) -> None:
        assert isinstance(settings, PagerDutySettings)
        body = {"routing_key": read_secret(settings, "routing_key"), **payload}
        _post_json(settings.url, body, idempotency_key, timeout)


# --- generic webhook (Alertmanager v4) -----------------------------------------------------------


class WebhookSettings(_Settings):
    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    url_env: str | None = None
    url_file: str | None = None
    max_alerts: Annotated[int, Field(ge=0)] = 0
    """0 sends every alert; otherwise the rest are counted in ``truncatedAlerts``."""

    @model_validator(mode="after")
    def _source(self) -> WebhookSettings:
        _one_source(self, "url", plain=True)
        return self


def alertmanager_payload(notification: Notification, max_alerts: int = 0) -> dict[str, Any]:
    alerts = notification.alerts
    kept = alerts if max_alerts == 0 else alerts[:max_alerts]
    return {
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": len(alerts) - len(kept),
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": dict(notification.group_labels),
        "commonLabels": dict(notification.common_labels),
        "commonAnnotations": dict(notification.common_annotations),
        "externalURL": notification.external_url,
        "alerts": [
            {
                "status": a.status,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "startsAt": a.starts_at,
                "endsAt": a.ends_at,
                "generatorURL": a.url,
                "fingerprint": a.fingerprint,
            }
            for a in kept
        ],
    }


class WebhookChannel:
    config_model: ClassVar[type[BaseModel]] = WebhookSettings
    per_alert: ClassVar[bool] = False

    def render(self, settings: BaseModel, notification: Notification) -> list[dict[str, Any]]:
        assert isinstance(settings, WebhookSettings)
        return [alertmanager_payload(notification, settings.max_alerts)]

    def send(
        self, settings: BaseModel, payload: Mapping[str, Any], idempotency_key: str, timeout: float
    ) -> None:
        assert isinstance(settings, WebhookSettings)
        url = settings.url or read_secret(settings, "url")
        _post_json(url, payload, idempotency_key, timeout)


# --- e-mail ------------------------------------------------------------------------------------


class EmailSettings(_Settings):
    to: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[^\s@]+@[^\s@]+$")], ...], Field(min_length=1)
    ]
    from_: Annotated[str, Field(alias="from", pattern=r"^[^\s@]+@[^\s@]+$")]
    smarthost: Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")]
    """``host:port`` of the SMTP server."""
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None


def _header(text: str) -> str:
    # Header injection: a CR or LF in an alert title must not start a new header.
    return " ".join(text.split())[:200]


def email_body(notification: Notification) -> str:
    lines = [_title(notification), ""]
    for alert in notification.alerts:
        lines.append(f"- [{alert.status}] {alert.severity}: {alert.annotations.get('summary', '')}")
        for key in ("alertname", "asset", "team", "user.id"):
            if key in alert.labels:
                lines.append(f"    {key}: {alert.labels[key]}")
        if "playbook" in alert.annotations:
            lines.append(f"    playbook: {alert.annotations['playbook']}")
        lines.append(f"    {alert.url}")
    return "\n".join(lines) + "\n"


class EmailChannel:
    """Plain-text e-mail (nothing to escape, nothing to render) with a Message-ID derived from
    the outbox row, so a receiving system can drop a re-delivery."""

    config_model: ClassVar[type[BaseModel]] = EmailSettings
    per_alert: ClassVar[bool] = False

    def render(self, settings: BaseModel, notification: Notification) -> list[dict[str, Any]]:
        return [{"subject": _header(_title(notification)), "body": email_body(notification)}]

    def send(
        self, settings: BaseModel, payload: Mapping[str, Any], idempotency_key: str, timeout: float
    ) -> None:
        assert isinstance(settings, EmailSettings)
        message = EmailMessage()
        message["Subject"] = _header(str(payload.get("subject", "")))
        message["From"] = settings.from_
        message["To"] = ", ".join(settings.to)
        message["Message-ID"] = make_msgid(idstring=idempotency_key, domain="garrison.alerts")
        message["X-Garrison-Idempotency-Key"] = idempotency_key
        message.set_content(str(payload.get("body", "")))
        host, _, port = settings.smarthost.rpartition(":")
        try:
            with smtplib.SMTP(host.strip("[]"), int(port), timeout=timeout) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, read_secret(settings, "password"))
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            retryable = exc.smtp_code < 500
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=retryable
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from None


CHANNELS.register("slack", SlackChannel())
CHANNELS.register("pagerduty", PagerDutyChannel())
CHANNELS.register("webhook", WebhookChannel())
CHANNELS.register("email", EmailChannel())
