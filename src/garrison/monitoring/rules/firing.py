"""What a rule hands to alerting when it fires: one value, the contract between the two.

A firing says which rule matched, for which group (the values of the rule's group-by fields),
over which event-time window, and which events made it match, so that an analyst can always ask
"why did this fire?" and get the events back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from garrison.monitoring.detectors.base import Severity

MAX_FIRING_EVENT_IDS = 100
"""A firing keeps at most this many contributing event IDs (the first ones, then the latest)."""


@dataclass(frozen=True, slots=True)
class RuleFiring:
    firing_id: str
    """A UUIDv7, unique per firing."""
    rule_id: str
    """The rule's stable ID, e.g. ``RULE-RAPID-GUARDRAIL-BLOCKS``."""
    title: str
    severity: Severity
    """The rule's own severity; alerting may raise or lower it by the asset's risk level."""
    org: str
    window_start: datetime
    window_end: datetime
    """Event-time bounds (timezone-aware UTC) of the events that made the rule match."""
    fired_at: datetime
    """Event time of the event that completed the match."""
    group: dict[str, str] = field(default_factory=dict)
    """Group-by field -> value, e.g. ``{"user.id": "u-17"}``; empty for ungrouped rules."""
    event_ids: tuple[str, ...] = ()
    event_count: int = 0
    """How many events matched in the window (may exceed ``len(event_ids)``)."""
    asset_id: str | None = None
    """The inventory asset the events concern, when they name one."""
    user_id: str | None = None
    session_id: str | None = None
    atlas: tuple[str, ...] = ()
    """Catalog IDs, e.g. ``AML.T0051``."""
    owasp: tuple[str, ...] = ()
    """Catalog IDs, e.g. ``LLM01:2025``."""
    labels: dict[str, str] = field(default_factory=dict)
    """Anything else routing may match on (e.g. ``detector``, ``layer``)."""
    summary: str = ""
    """One line for a human: what happened, with the counts."""
