"""Sigma correlations evaluated over a stream, per group, in sliding event-time windows.

A correlation sees "hits": events that matched one of the rules it references, or firings of a
correlation it chains on. Each group keeps its hits sorted by event time in a deque. An in-order
hit closes the window that ends at it; a late hit (older than the group's newest, but not older
than the watermark) is inserted in place and every window that contains it is checked, so an
event arriving out of order counts exactly where it belongs.

Counting correlations (event_count, value_count, value_sum) keep their hits after firing and rely
on the rule's suppression to raise one firing per burst. Temporal correlations consume the hits
that completed the sequence, so the same sequence is not reported twice.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

EVENT_COUNT = "event_count"
VALUE_COUNT = "value_count"
VALUE_SUM = "value_sum"
TEMPORAL = "temporal"
TEMPORAL_ORDERED = "temporal_ordered"
SUPPORTED_TYPES = (EVENT_COUNT, VALUE_COUNT, VALUE_SUM, TEMPORAL, TEMPORAL_ORDERED)

_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}


@dataclass(slots=True)
class Hit:
    ts: float
    event_id: str
    source: str
    """The name of the referenced rule that matched."""
    value: Any = None
    """The correlation's field value (value_count, value_sum)."""


@dataclass(slots=True)
class GroupWindow:
    hits: deque[Hit] = field(default_factory=deque)
    newest: float = float("-inf")


@dataclass(frozen=True, slots=True)
class WindowResult:
    start: float
    end: float
    hits: tuple[Hit, ...]
    measure: float
    """The number the condition was checked against (count, distinct values, sum, rules seen)."""


@dataclass(frozen=True, slots=True)
class CorrelationLogic:
    ctype: str
    sources: tuple[str, ...]
    span: float
    op: str
    threshold: float
    max_window_events: int

    def _measure(self, hits: Sequence[Hit]) -> float:
        if self.ctype == EVENT_COUNT:
            return float(len(hits))
        if self.ctype == VALUE_COUNT:
            return float(len({h.value for h in hits if h.value is not None}))
        if self.ctype == VALUE_SUM:
            return float(sum(_number(h.value) for h in hits))
        if self.ctype == TEMPORAL:
            return float(len({h.source for h in hits}))
        return float(_ordered_prefix(hits, self.sources))

    def holds(self, hits: Sequence[Hit]) -> tuple[bool, float]:
        measure = self._measure(hits)
        return _OPS[self.op](measure, self.threshold), measure

    def add(self, window: GroupWindow, hit: Hit, watermark: float) -> WindowResult | None:
        """Place ``hit`` in its group's window and return the window that now matches, if any."""
        hits = window.hits
        late = hit.ts < window.newest
        if late:
            index = bisect.bisect_right([h.ts for h in hits], hit.ts)
            hits.insert(index, hit)
        else:
            hits.append(hit)
            window.newest = hit.ts
        # Hits older than any window a future (on-time or tolerated-late) hit can close are gone.
        floor = min(watermark, hit.ts) - self.span
        while hits and hits[0].ts < floor:
            hits.popleft()
        while len(hits) > self.max_window_events:
            hits.popleft()
        ends = [hit.ts]
        if late:
            ends.extend(h.ts for h in hits if hit.ts < h.ts <= hit.ts + self.span)
        for end in ends:
            chosen = _window(hits, end - self.span, end)
            ok, measure = self.holds(chosen)
            if ok and chosen:
                if self.ctype in (TEMPORAL, TEMPORAL_ORDERED):
                    for used in chosen:
                        hits.remove(used)
                return WindowResult(chosen[0].ts, chosen[-1].ts, chosen, measure)
        return None


def _window(hits: deque[Hit], start: float, end: float) -> tuple[Hit, ...]:
    """Hits with ``start <= ts <= end``, walking from the newest end (the usual case)."""
    picked: list[Hit] = []
    for hit in reversed(hits):
        if hit.ts > end:
            continue
        if hit.ts < start:
            break
        picked.append(hit)
    picked.reverse()
    return tuple(picked)


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _ordered_prefix(hits: Sequence[Hit], sources: tuple[str, ...]) -> int:
    """How many of ``sources`` occur in ``hits`` in that order (greedy, earliest first)."""
    found = 0
    for hit in hits:
        if found < len(sources) and hit.source == sources[found]:
            found += 1
    return found


def condition_op(op: str) -> str:
    if op not in _OPS:
        raise ValueError(f"condition operator {op!r} is not one of {', '.join(_OPS)}")
    return op
