"""The monitoring seed's ``DetectionEngine`` (002, step 3), re-implemented as the baseline.

Faithful to the seed's behaviour: one unbounded list of events per user, trimmed to a 10-minute
window, and four rules that rescan the whole list on every event and raise an alert on every
event once their threshold holds (no suppression). One defect is fixed so the comparison is fair:
the seed's trim compares a mangled timestamp with 0 and never drops anything; here it drops events
older than the window in event time, as the seed meant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from garrison.monitoring.events import EventCategory, SecurityEvent

WINDOW_SECONDS = 600


@dataclass
class SeedAlert:
    rule_name: str
    user_id: str
    evidence: list[str]


class SeedDetectionEngine:
    def __init__(self) -> None:
        self.buffer: dict[str, list[SecurityEvent]] = defaultdict(list)

    def ingest(self, event: SecurityEvent) -> list[SeedAlert]:
        user = event.user_id or ""
        self.buffer[user].append(event)
        self._trim(user, event.timestamp.timestamp())
        events = self.buffer[user]
        return [
            *self._rapid_blocks(user, events),
            *self._output_filter(user, events),
            *self._escalating(user, events),
            *self._enumeration(user, events),
        ]

    def _trim(self, user: str, now: float) -> None:
        cutoff = now - WINDOW_SECONDS
        self.buffer[user] = [e for e in self.buffer[user] if e.timestamp.timestamp() > cutoff]

    @staticmethod
    def _rapid_blocks(user: str, events: list[SecurityEvent]) -> list[SeedAlert]:
        blocks = [e for e in events if e.category is EventCategory.GUARDRAIL_BLOCK]
        if len(blocks) >= 10:
            return [SeedAlert("rapid_guardrail_blocks", user, [e.event_id for e in blocks[:5]])]
        return []

    @staticmethod
    def _output_filter(user: str, events: list[SecurityEvent]) -> list[SeedAlert]:
        blocks = [e for e in events if e.category is EventCategory.OUTPUT_FILTER_BLOCK]
        if len(blocks) >= 3:
            return [SeedAlert("output_filter_bypass", user, [e.event_id for e in blocks[:5]])]
        return []

    @staticmethod
    def _escalating(user: str, events: list[SecurityEvent]) -> list[SeedAlert]:
        blocks = [
            e
            for e in events
            if e.category in (EventCategory.GUARDRAIL_BLOCK, EventCategory.OUTPUT_FILTER_BLOCK)
        ]
        if len(blocks) < 5:
            return []
        lengths = [len(e.content_preview) for e in blocks if e.content_preview]
        if len(lengths) >= 5:
            rising = all(lengths[i] <= lengths[i + 1] for i in range(len(lengths) - 1))
            if rising and lengths[-1] > lengths[0] * 2:
                return [SeedAlert("escalating_complexity", user, [e.event_id for e in blocks[-5:]])]
        return []

    @staticmethod
    def _enumeration(user: str, events: list[SecurityEvent]) -> list[SeedAlert]:
        blocks = [e for e in events if e.category is EventCategory.GUARDRAIL_BLOCK]
        layers = {e.guardrail_layer or "" for e in blocks}
        if len(layers) >= 3:
            return [SeedAlert("systematic_enumeration", user, [e.event_id for e in blocks[:5]])]
        return []
