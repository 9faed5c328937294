"""Where a Guard's events go: straight into a store, or to a Garrison server over HTTP.

Both sinks end in the same ingest pipeline (validation, content policy, detectors, idempotent
storage); they differ only in where it runs. The HTTP sink never blocks or fails the application:
events wait in a bounded queue, a background thread posts them in batches, and what cannot be
delivered is counted and logged, not raised.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import orjson

from garrison.monitoring.content import ContentPolicy, Scanner
from garrison.monitoring.events import IngestSource, SecurityEvent
from garrison.monitoring.ingest.pipeline import IngestPipeline, IngestReport
from garrison.store import Store

log = logging.getLogger(__name__)


class EventSink(Protocol):
    def emit(self, events: Sequence[SecurityEvent]) -> None: ...

    def flush(self, timeout: float | None = None) -> bool: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps events in a list: for tests and for applications that forward events themselves."""

    def __init__(self) -> None:
        self.events: list[SecurityEvent] = []
        self._lock = threading.Lock()

    def emit(self, events: Sequence[SecurityEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        return None


class StoreSink:
    """Runs the ingest pipeline in this process and writes to ``store``."""

    def __init__(
        self, store: Store, *, policy: ContentPolicy, scanner: Scanner | None = None
    ) -> None:
        self.pipeline = IngestPipeline(store, policy=policy, scanner=scanner)
        self.last_report: IngestReport | None = None

    def emit(self, events: Sequence[SecurityEvent]) -> None:
        self.last_report = self.pipeline.ingest_events(events, source=IngestSource.SDK)
        if not self.last_report.ok:
            log.warning("garrison: %d event(s) rejected", self.last_report.rejected)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        return None


class HttpSink:
    """Posts events to ``{base_url}/api/v1/events`` in batches from a background thread."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        batch_size: int = 100,
        max_queue: int = 10_000,
        flush_interval: float = 1.0,
        timeout: float = 10.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.retries = retries
        self.sent = 0
        self.rejected = 0
        self.dropped = 0
        self._queue: queue.Queue[SecurityEvent] = queue.Queue(maxsize=max_queue)
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="garrison-http-sink", daemon=True)
        self._thread.start()

    def emit(self, events: Sequence[SecurityEvent]) -> None:
        for event in events:
            with self._idle:
                self._pending += 1
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                # Monitoring must never slow the application down: drop and count instead.
                self.dropped += 1
                self._done(1)

    def _done(self, n: int) -> None:
        with self._idle:
            self._pending -= n
            if self._pending <= 0:
                self._idle.notify_all()

    def _take_batch(self) -> list[SecurityEvent]:
        try:
            first = self._queue.get(timeout=self.flush_interval)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._take_batch()
            if batch:
                try:
                    self._post(batch)
                finally:
                    self._done(len(batch))

    def _post(self, batch: list[SecurityEvent]) -> None:
        body = orjson.dumps([event.to_flat(mode="json") for event in batch])
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post("/api/v1/events", content=body)
            except httpx.HTTPError as exc:
                reason: Any = exc
            else:
                if response.status_code in (202, 422):
                    report = response.json()
                    self.sent += int(report.get("accepted", 0)) + int(report.get("duplicates", 0))
                    self.rejected += int(report.get("rejected", 0))
                    if response.status_code == 422:
                        log.warning("garrison: server rejected events: %s", report.get("error"))
                    return
                if response.status_code < 500 and response.status_code != 429:
                    log.error("garrison: server refused a batch: %s", response.text[:300])
                    self.dropped += len(batch)
                    return
                reason = f"HTTP {response.status_code}"
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        log.error("garrison: dropping %d event(s) after retries: %s", len(batch), reason)
        self.dropped += len(batch)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far is delivered or dropped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout)
        self._client.close()
