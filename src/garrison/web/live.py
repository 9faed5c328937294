"""Live detection inside the server: every stored event reaches the rules, and a background task
flushes due alert groups and delivers the notification outbox every ``alerting_tick_seconds``."""

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
    ticker = asyncio.create_task(_tick_forever(detection, settings.alerting_tick_seconds))
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        app.state.live = None


async def _tick_forever(detection: LiveDetection, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(detection.tick)
        except Exception:
            # A store hiccup must not end delivery for the life of the process; the outbox keeps
            # what is due, and the next tick tries again.
            log.exception("alert flush/delivery failed; trying again in %g s", every)


def event_observer(request: Request) -> EventObserver | None:
    """What the ingest routes hand newly stored events to, when live detection runs."""
    detection: LiveDetection | None = getattr(request.app.state, "live", None)
    return detection.observe if detection is not None else None
