"""Alerting: rule firings become alerts, routed Alertmanager-style to Slack, PagerDuty, webhooks
and e-mail through a persistent outbox.

Other pillars use what is re-exported here:

``AlertManager(store, config).receive(firings, now)`` / ``.flush(now)`` / ``.deliver(now)``
    the pipeline; the clock is always passed in.
``load_alerting_config(content_dir)``
    ``content/alerting.yaml`` validated (routing tree, receivers, inhibition, severity matrix).
``list_alerts``, ``get_alert``, ``acknowledge``, ``resolve``
    alerts for people; state changes take the ``actor`` who made them.
``add_silence``, ``list_silences``, ``expire_silence``
    silences with an expiry.
``CHANNELS``
    the channel plugin registry (entry-point group ``garrison.alert_channels``).
"""

from garrison.monitoring.alerting.channels import CHANNELS, DeliveryError, Notification
from garrison.monitoring.alerting.config import AlertingConfig, load_alerting_config
from garrison.monitoring.alerting.core import AssetContext
from garrison.monitoring.alerting.matchers import Matcher, MatcherError, parse_matcher
from garrison.monitoring.alerting.outbox import (
    DeliveryReport,
    OutboxEntry,
    OutboxState,
    deliver_due,
    list_outbox,
    replay,
    replay_dead,
)
from garrison.monitoring.alerting.service import (
    Alert,
    AlertManager,
    AlertState,
    FlushReport,
    Silence,
    SilenceStatus,
    acknowledge,
    add_silence,
    expire_silence,
    get_alert,
    list_alerts,
    list_silences,
    resolve,
)

__all__ = [
    "CHANNELS",
    "Alert",
    "AlertManager",
    "AlertState",
    "AlertingConfig",
    "AssetContext",
    "DeliveryError",
    "DeliveryReport",
    "FlushReport",
    "Matcher",
    "MatcherError",
    "Notification",
    "OutboxEntry",
    "OutboxState",
    "Silence",
    "SilenceStatus",
    "acknowledge",
    "add_silence",
    "deliver_due",
    "expire_silence",
    "get_alert",
    "list_alerts",
    "list_outbox",
    "list_silences",
    "load_alerting_config",
    "parse_matcher",
    "replay",
    "replay_dead",
    "resolve",
]
