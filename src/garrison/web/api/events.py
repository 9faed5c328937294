"""``/api/v1/events``: send security events (one, a batch, or JSON lines) and read them back.

Every accepted item is stored even when others in the same body are refused; the answer says
which item was refused, at which key, and why. Bodies are read as a stream and refused with 413
as soon as they pass the limit, so an oversized upload costs no more memory than the limit.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from garrison.core.errors import NotFoundError
from garrison.core.settings import Settings
from garrison.monitoring.content import (
    ContentPolicy,
    Scanner,
    content_policy_from_settings,
    scanner_for,
)
from garrison.monitoring.events import EventCategory, EventType, IngestSource
from garrison.monitoring.ingest.decode import (
    JSON_LINES_TYPES,
    JSON_TYPES,
    BodyError,
    decode_json_document,
    decode_json_lines,
    media_type,
)
from garrison.monitoring.ingest.pipeline import IngestPipeline, IngestReport, Submission
from garrison.monitoring.store import EventFilter, StoredEvent, get_event, list_events
from garrison.store import Store
from garrison.web.deps import StoreDep
from garrison.web.live import event_observer
from garrison.web.ratelimit import check_ingest, limit_message
from garrison.web.security import PrincipalDep, bind_submissions, current_principal, scoped_org

router = APIRouter(prefix="/api/v1", tags=["events"])


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


def max_body_bytes(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.ingest_max_body_bytes


def content_policy(request: Request) -> ContentPolicy:
    """The deployment's content policy, built once per app so digests stay comparable."""
    state = request.app.state
    policy = getattr(state, "content_policy", None)
    if not isinstance(policy, ContentPolicy):
        policy = content_policy_from_settings(state.settings)
        state.content_policy = policy
    return policy


def content_scanner(request: Request) -> Scanner:
    """The detectors bound to the deployment's detectors.yaml, built once per app."""
    state = request.app.state
    scanner: Scanner | None = getattr(state, "content_scanner", None)
    if scanner is None:
        scanner = state.content_scanner = scanner_for(state.settings.content_dir)
    return scanner


def ingest_pipeline(request: Request, store: StoreDep) -> IngestPipeline:
    """The pipeline requests feed; tests override this dependency to inject a scanner."""
    return IngestPipeline(
        store,
        policy=content_policy(request),
        scanner=content_scanner(request),
        observer=event_observer(request),
    )


PipelineDep = Annotated[IngestPipeline, Depends(ingest_pipeline)]

INGEST_THREADS = 1
"""Ingest batches scanned at once. Scanning is CPU work under the GIL, and SQLite takes one
writer at a time: a second thread only takes turns with the first, and each hand-over of the GIL
costs. Requests past it wait their turn in order. On the loopback load test, one thread against
two: median 1,211 against 1,096 events/s, and 805 against 998 us of server CPU per event
(benchmarks/ingest/RESULTS.md)."""


async def run_ingest(
    request: Request,
    pipeline: IngestPipeline,
    submissions: list[Submission],
    source: IngestSource,
) -> IngestReport:
    """``pipeline.ingest`` on a worker thread, at most ``INGEST_THREADS`` at a time per app."""
    state = request.app.state
    limiter = getattr(state, "ingest_limiter", None)
    if not isinstance(limiter, anyio.CapacityLimiter):
        # Made on first use, inside the app's own event loop.
        limiter = state.ingest_limiter = anyio.CapacityLimiter(INGEST_THREADS)
    return await anyio.to_thread.run_sync(
        functools.partial(pipeline.ingest, submissions, source=source), limiter=limiter
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, message: str, hint: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "hint": hint, **extra}, status_code=status)


def too_large(limit: int) -> JSONResponse:
    return error(
        413,
        f"the body is larger than the limit of {limit} bytes",
        "split the batch into smaller requests",
    )


def report_response(report: IngestReport) -> JSONResponse:
    content = report.as_dict()
    if report.ok:
        return JSONResponse(content, status_code=202)
    kept = report.accepted + report.duplicates
    content["error"] = (
        f"{report.rejected} of {len(report.items)} event(s) were rejected; "
        f"the other {kept} were kept"
    )
    content["hint"] = "see items[].errors for the key and reason of each rejected event"
    return JSONResponse(content, status_code=422)


@router.post(
    "/events",
    status_code=202,
    summary="Send security events",
    responses={
        202: {"description": "All events accepted (or already stored)."},
        413: {"description": "The body is over the size limit."},
        415: {"description": "Not JSON or JSON lines."},
        422: {"description": "Some or all events were rejected; the others were kept."},
        429: {"description": "Over the sender's rate limit; nothing was stored. See Retry-After."},
    },
)
async def post_events(request: Request, pipeline: PipelineDep) -> JSONResponse:
    """One event (a JSON object), a batch (a JSON array), or JSON lines
    (``application/x-ndjson`` or ``application/jsonl``), each event in its flat dotted-key form."""
    kind = media_type(request.headers.get("content-type"))
    if kind not in JSON_TYPES | JSON_LINES_TYPES:
        return error(
            415,
            f"content type {kind or '(none)'!r} is not accepted",
            "send application/json (an event or an array of events) or application/x-ndjson",
        )
    limit = max_body_bytes(request)
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        return too_large(limit)
    try:
        submissions: list[Submission] = (
            decode_json_lines(body) if kind in JSON_LINES_TYPES else decode_json_document(body)
        )
    except BodyError as exc:
        return error(422, str(exc), "send a JSON object or an array of JSON objects")
    if not submissions:
        return error(422, "the body holds no events", "send at least one event")
    decision = check_ingest(request, len(submissions))
    if not decision.allowed:
        message, hint = limit_message(decision)
        response = error(429, message, hint)
        response.headers["Retry-After"] = decision.retry_after_header
        return response
    # identity: an org-scoped credential only ever writes its own org's events
    submissions = bind_submissions(submissions, current_principal(request))
    report = await run_ingest(request, pipeline, submissions, IngestSource.HTTP)
    return report_response(report)


def _stored_dict(stored: StoredEvent) -> dict[str, Any]:
    return {
        "event": stored.event.to_flat(),
        "source": stored.source.value,
        "received_at": stored.received_at.isoformat(),
    }


def _list(store: Store, filters: EventFilter, limit: int) -> list[dict[str, Any]]:
    with store.session() as session:
        return [_stored_dict(s) for s in list_events(session, filters, limit=limit)]


def _get(store: Store, event_id: str) -> dict[str, Any] | None:
    with store.session() as session:
        stored = get_event(session, event_id)
        return None if stored is None else _stored_dict(stored)


@router.get("/events", summary="List stored events, newest first")
async def get_events(
    *,
    store: StoreDep,
    principal: PrincipalDep,
    user: Annotated[str | None, Query(description="user.id")] = None,
    session: Annotated[str | None, Query(description="session.id")] = None,
    category: EventCategory | None = None,
    event_type: Annotated[EventType | None, Query(alias="type")] = None,
    asset: Annotated[str | None, Query(description="garrison.asset.id")] = None,
    correlation: Annotated[str | None, Query(description="garrison.correlation.id")] = None,
    org: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            return error(422, f"{name} has no timezone", "send UTC, e.g. 2026-01-31T12:00:00Z")
    filters = EventFilter(
        org=scoped_org(principal, org),
        user_id=user,
        session_id=session,
        category=None if category is None else category.value,
        event_type=None if event_type is None else event_type.value,
        asset_id=asset,
        correlation_id=correlation,
        since=since,
        until=until,
    )
    events = await run_in_threadpool(_list, store, filters, limit)
    return JSONResponse({"count": len(events), "events": events})


@router.get("/events/{event_id}", summary="One stored event")
async def get_one_event(event_id: str, store: StoreDep, principal: PrincipalDep) -> JSONResponse:
    found = await run_in_threadpool(_get, store, event_id)
    if found is not None and not principal.can_see(found["event"].get("garrison.org")):
        found = None
    if found is None:
        raise NotFoundError(f"no event {event_id!r}", hint="list events with GET /api/v1/events")
    return JSONResponse(found)
