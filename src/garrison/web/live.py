"""Live detection inside the server: every stored event reaches the rules; a background task
writes the firings that waited ``alerting_write_seconds`` (ingest writes them itself while
traffic flows), and flushes due alert groups and delivers the outbox every
``alerting_tick_seconds``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from garrison.core.settings import Settings
from garrison.monitoring.ingest.pipeline import EventObserver
from garrison.monitoring.live import LiveDetection
from garrison.store import Store

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(app: FastAPI, store: Store, settings: Settings) -> AsyncIterator[None]:
    """Live detection for the app's lifetime (nothing when ``live_rules`` is off).

    A rule pack or alerting.yaml that does not load stops the server at start-up with the
    file and line, rather than serving with detection silently missing."""
    app.state.live = None
    if not settings.live_rules:
        yield
        return
    detection = await run_in_threadpool(LiveDetection.from_settings, store, settings)
    app.state.live = detection
    ticker = asyncio.create_task(
        _tick_forever(detection, settings.alerting_tick_seconds, settings.alerting_write_seconds)
    )
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        app.state.live = None
        try:
            # Firings gathered since the last write are stored before the process goes.
            await run_in_threadpool(detection.write_pending)
        except Exception:
            log.exception("firings gathered before shutdown could not be written")


async def _tick_forever(detection: LiveDetection, every: float, write_every: float) -> None:
    """``tick`` every ``every`` seconds; in between, write firings that have waited long
    enough, so an alert is never held back by a quiet stream."""
    step = min(every, write_every) if write_every > 0 else every
    loop = asyncio.get_running_loop()
    next_tick = loop.time() + every
    while True:
        await asyncio.sleep(step)
        try:
            if loop.time() >= next_tick:
                next_tick = loop.time() + every
                await run_in_threadpool(detection.tick)
            elif detection.has_due_firings():
                await run_in_threadpool(detection.write_pending)
        except Exception:
            # A store hiccup must not end delivery for the life of the process; the outbox and
            # the waiting firings keep what is due, and the next round tries again.
            log.exception("alert write, flush or delivery failed; trying again in %g s", step)


def event_observer(request: Request) -> EventObserver | None:
    """What the ingest routes hand newly stored events to, when live detection runs."""
    detection: LiveDetection | None = getattr(request.app.state, "live", None)
    return detection.observe if detection is not None else None
