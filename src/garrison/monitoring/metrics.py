"""Prometheus metrics for the monitoring pipeline: one registry, every metric named here.

Every pillar of monitoring (ingest, detectors, rules, alerting, the outbox) records into these
objects and ``/metrics`` renders :data:`REGISTRY`. Label values come from small closed sets
(categories, detector IDs, rule IDs, channel names, severities): never a user, session or asset
ID, which would make one series per user and exhaust Prometheus.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
"""Garrison's own registry, so tests and embedding apps never collide with the global one."""

# Detection runs in microseconds; a request round trip in milliseconds.
_FAST_BUCKETS = (
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)  # fmt: skip

EVENTS = Counter(
    "garrison_events_total",
    "Security events accepted, by event type and category (category 'none' when unset).",
    ["event_type", "category"],
    registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "garrison_events_rejected_total",
    "Events refused at ingest, by source and reason (invalid, too_large, duplicate).",
    ["source", "reason"],
    registry=REGISTRY,
)
GUARDRAIL_BLOCKS = Counter(
    "garrison_guardrail_blocks_total",
    "Guardrail and output-filter blocks, by guardrail layer.",
    ["layer"],
    registry=REGISTRY,
)
DETECTOR_FINDINGS = Counter(
    "garrison_detector_findings_total",
    "Findings raised by content detectors, by detector, category and verdict.",
    ["detector", "category", "verdict"],
    registry=REGISTRY,
)
DETECTOR_LATENCY = Histogram(
    "garrison_detector_latency_seconds",
    "Time one detector takes on one text.",
    ["detector"],
    buckets=_FAST_BUCKETS,
    registry=REGISTRY,
)
PIPELINE_LATENCY = Histogram(
    "garrison_pipeline_latency_seconds",
    "Time per pipeline stage for one event or batch: ingest, detect, rules, route, deliver.",
    ["stage"],
    buckets=_FAST_BUCKETS,
    registry=REGISTRY,
)
RULE_FIRINGS = Counter(
    "garrison_rule_firings_total",
    "Rule firings (after the rule's own suppression), by rule ID.",
    ["rule"],
    registry=REGISTRY,
)
RULE_STATE_KEYS = Gauge(
    "garrison_rule_state_keys",
    "Group keys a correlation rule currently holds in memory.",
    ["rule"],
    registry=REGISTRY,
)
RULE_STATE_EVICTIONS = Counter(
    "garrison_rule_state_evictions_total",
    "Group keys evicted because a rule reached its key cap (oldest first).",
    ["rule"],
    registry=REGISTRY,
)
EVENTS_DROPPED = Counter(
    "garrison_events_dropped_total",
    "Events a stage could not place, by stage and reason (e.g. rules/too_late).",
    ["stage", "reason"],
    registry=REGISTRY,
)
ALERTS_RAISED = Counter(
    "garrison_alerts_raised_total",
    "Alerts opened, by severity after the asset's risk level is applied.",
    ["severity"],
    registry=REGISTRY,
)
ALERTS = Gauge(
    "garrison_alerts",
    "Alerts currently known, by severity and state (firing, acknowledged, silenced, resolved).",
    ["severity", "state"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "garrison_notifications_total",
    "Notification delivery attempts, by channel type and outcome (sent, retry, dead).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "garrison_outbox_depth",
    "Notifications in the outbox, by state (pending, dead).",
    ["state"],
    registry=REGISTRY,
)
ACTIVE_USERS = Gauge(
    "garrison_active_users",
    "Distinct users with events inside the rule engine's longest window.",
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The registry in Prometheus text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
