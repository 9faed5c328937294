"""The one ingest pipeline every door feeds: validate, apply the content policy, scan, store.

Each item gets its own verdict in the report (accepted, duplicate, or rejected with the key and
the reason). Good items of a batch are kept when others are bad, and items are committed in
chunks, so a failure late in a large upload never takes back what was already accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from sqlalchemy.exc import SQLAlchemyError

from garrison.monitoring import metrics
from garrison.monitoring.content import ContentPolicy, Scanner, default_scanner
from garrison.monitoring.events import (
    EventCategory,
    EventValidationError,
    FieldError,
    IngestSource,
    SecurityEvent,
    derived_event_id,
)
from garrison.monitoring.ingest.enrich import ContextFactory, default_context, prepare_event
from garrison.monitoring.store import insert_events
from garrison.store import Store

log = logging.getLogger(__name__)

Status = Literal["accepted", "duplicate", "rejected"]

EventObserver = Callable[[Sequence[SecurityEvent]], object]
"""Called with each chunk's newly stored events: the live rules (``monitoring.live``)."""
DEFAULT_CHUNK = 500
EVENT_ID_KEY = "garrison.event.id"
_BLOCK_CATEGORIES = frozenset({EventCategory.GUARDRAIL_BLOCK, EventCategory.OUTPUT_FILTER_BLOCK})


@dataclass(frozen=True)
class Submission:
    """One item as it arrived: a decoded JSON value, a ready event, or why it could not be read."""

    index: int
    data: Any = None
    error: FieldError | None = None
    line: int | None = None
    """The line of a JSON-lines body or file, for the report."""


@dataclass(frozen=True)
class ItemReport:
    index: int
    status: Status
    event_id: str | None = None
    errors: tuple[FieldError, ...] = ()
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.line is not None:
            out["line"] = self.line
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


@dataclass
class IngestReport:
    items: list[ItemReport] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def accepted(self) -> int:
        return self.count("accepted")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def extend(self, other: IngestReport) -> None:
        self.items.extend(other.items)

    def as_dict(self, *, items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "received": len(self.items),
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }
        if items:
            out["items"] = [item.as_dict() for item in self.items]
        return out


def validate(submission: Submission) -> SecurityEvent | list[FieldError]:
    """The event a submission describes, or what is wrong with it."""
    if submission.error is not None:
        return [submission.error]
    data = submission.data
    if isinstance(data, SecurityEvent):
        return data
    if not isinstance(data, dict):
        kind = "array" if isinstance(data, list) else type(data).__name__
        return [FieldError("", f"an event must be a JSON object, not {kind}")]
    try:
        event = SecurityEvent.from_flat(data)
    except EventValidationError as exc:
        return exc.errors
    if EVENT_ID_KEY not in data:
        # Same submission, same ID: a re-sent event is recognised as a duplicate.
        canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        event = event.with_updates(event_id=derived_event_id(event.timestamp, canonical))
    return event


class IngestPipeline:
    """Validate → content policy → detectors → store, for any door."""

    def __init__(
        self,
        store: Store,
        *,
        policy: ContentPolicy,
        scanner: Scanner | None = None,
        context_for: ContextFactory = default_context,
        chunk_size: int = DEFAULT_CHUNK,
        observer: EventObserver | None = None,
    ) -> None:
        self.store = store
        self.observer = observer
        self.policy = policy
        self.scanner = scanner if scanner is not None else default_scanner()
        self.context_for = context_for
        self.chunk_size = max(1, chunk_size)

    def prepare(self, event: SecurityEvent) -> SecurityEvent:
        return prepare_event(event, self.policy, self.scanner, self.context_for)

    def ingest(self, submissions: Iterable[Submission], *, source: IngestSource) -> IngestReport:
        report = IngestReport()
        for chunk in _chunks(submissions, self.chunk_size):
            report.extend(self._ingest_chunk(chunk, source))
        return report

    def ingest_events(
        self, events: Sequence[SecurityEvent], *, source: IngestSource
    ) -> IngestReport:
        return self.ingest((Submission(i, event) for i, event in enumerate(events)), source=source)

    def _ingest_chunk(self, chunk: list[Submission], source: IngestSource) -> IngestReport:
        started = time.perf_counter()
        results: dict[int, ItemReport] = {}
        ready: list[tuple[Submission, SecurityEvent]] = []
        for submission in chunk:
            checked = validate(submission)
            if isinstance(checked, list):
                results[submission.index] = _rejected(submission, checked)
                continue
            ready.append((submission, self.prepare(checked)))
        results.update(self._store(ready, source))
        report = IngestReport([results[s.index] for s in chunk])
        # Per item, not per event ID: a second copy of an ID in the same chunk is a duplicate.
        stored = [event for sub, event in ready if results[sub.index].status == "accepted"]
        _count(report, stored, source)
        if self.observer is not None and stored:
            _observe(self.observer, stored)
        metrics.PIPELINE_LATENCY.labels("ingest").observe(time.perf_counter() - started)
        return report

    def _store(
        self, ready: list[tuple[Submission, SecurityEvent]], source: IngestSource
    ) -> dict[int, ItemReport]:
        if not ready:
            return {}
        try:
            with self.store.session() as session:
                inserted = insert_events(session, [event for _, event in ready], source=source)
            return _outcomes(ready, inserted)
        except SQLAlchemyError:
            log.warning("storing a chunk of %d events failed; retrying one by one", len(ready))
        # One bad row must not sink its neighbours: store each alone, in its own transaction.
        results: dict[int, ItemReport] = {}
        for pair in ready:
            try:
                with self.store.session() as session:
                    inserted = insert_events(session, [pair[1]], source=source)
                results.update(_outcomes([pair], inserted))
            except SQLAlchemyError as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
                results[pair[0].index] = _rejected(
                    pair[0], [FieldError("", f"could not be stored: {reason}")], pair[1].event_id
                )
        return results


def _observe(observer: EventObserver, stored: list[SecurityEvent]) -> None:
    """Hand a chunk's newly stored events to the observer (the live rules), in order."""
    try:
        observer(stored)
    except Exception:
        # The events are stored and the client is told so; a rule or alerting failure must
        # not turn that into an error the client would retry. It is logged and counted.
        log.exception("live detection failed on %d stored events", len(stored))
        metrics.EVENTS_DROPPED.labels(stage="rules", reason="error").inc(len(stored))


def _count(report: IngestReport, stored: list[SecurityEvent], source: IngestSource) -> None:
    """Feed the Prometheus counters from one chunk's outcome: accepted events by type and
    category, guardrail blocks by layer, and what was refused and why."""
    for event in stored:
        category = event.category.value if event.category is not None else "none"
        metrics.EVENTS.labels(event.event_type.value, category).inc()
        if event.category in _BLOCK_CATEGORIES:
            metrics.GUARDRAIL_BLOCKS.labels(event.guardrail_layer or "unknown").inc()
    for status in ("rejected", "duplicate"):
        if n := report.count(status):
            reason = "invalid" if status == "rejected" else status
            metrics.EVENTS_REJECTED.labels(source.value, reason).inc(n)


def _outcomes(
    ready: list[tuple[Submission, SecurityEvent]], inserted: set[str]
) -> dict[int, ItemReport]:
    results: dict[int, ItemReport] = {}
    claimed: set[str] = set()
    for submission, event in ready:
        new = event.event_id in inserted and event.event_id not in claimed
        claimed.add(event.event_id)
        results[submission.index] = ItemReport(
            submission.index,
            "accepted" if new else "duplicate",
            event.event_id,
            line=submission.line,
        )
    return results


def _rejected(
    submission: Submission, errors: Sequence[FieldError], event_id: str | None = None
) -> ItemReport:
    if event_id is None and isinstance(submission.data, dict):
        candidate = submission.data.get(EVENT_ID_KEY)
        event_id = candidate if isinstance(candidate, str) and len(candidate) <= 128 else None
    return ItemReport(submission.index, "rejected", event_id, tuple(errors), submission.line)


def _chunks(items: Iterable[Submission], size: int) -> Iterator[list[Submission]]:
    chunk: list[Submission] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
