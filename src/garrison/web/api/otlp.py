"""OTLP/HTTP receiver (JSON encoding): ``POST /v1/traces`` and ``POST /v1/logs``.

Point an OpenTelemetry exporter at Garrison (``OTEL_EXPORTER_OTLP_PROTOCOL=http/json``) and its
GenAI spans and log records become security events. Answers follow OTLP: 200 with a
``partialSuccess`` that counts the spans or log records refused and says why; errors as a
``Status`` object (``{"code", "message"}``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from garrison.monitoring.events import IngestSource
from garrison.monitoring.ingest.decode import media_type
from garrison.monitoring.ingest.otlp import (
    Conversion,
    OtlpError,
    logs_to_submissions,
    traces_to_submissions,
)
from garrison.monitoring.ingest.pipeline import IngestPipeline
from garrison.web.api.events import (
    BodyTooLarge,
    PipelineDep,
    max_body_bytes,
    read_body,
    run_ingest,
)
from garrison.web.ratelimit import check_ingest, limit_message
from garrison.web.security import bind_submissions, current_principal

router = APIRouter(tags=["otlp"])

# google.rpc.Code values used in OTLP error answers.
INVALID_ARGUMENT = 3
RESOURCE_EXHAUSTED = 8
MAX_ERROR_MESSAGES = 5


def _status(http_status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=http_status)


def convert_payload(convert: Callable[[Any], Conversion], payload: Any) -> Conversion:
    """``convert(payload)``, with any error a malformed payload can cause as ``OtlpError``.

    The mapping is pure, so a ValueError or TypeError out of it can only come from the payload
    (a timestamp past year 9999, a resource that is not an object...): the sender gets a 400
    naming it, never a 500 that makes the exporter retry the same batch for ever.
    """
    try:
        return convert(payload)
    except OtlpError:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        raise OtlpError(f"malformed OTLP payload ({type(exc).__name__}: {exc})") from None


async def _receive(
    request: Request, pipeline: IngestPipeline, convert: Any, rejected_key: str
) -> JSONResponse:
    kind = media_type(request.headers.get("content-type"))
    if kind != "application/json":
        return _status(
            415,
            INVALID_ARGUMENT,
            f"content type {kind or '(none)'!r} is not accepted: this receiver takes OTLP/HTTP "
            "JSON only (application/json); set OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
        )
    limit = max_body_bytes(request)
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        return _status(413, RESOURCE_EXHAUSTED, f"the body is larger than {limit} bytes")
    try:
        conversion: Conversion = convert_payload(convert, orjson.loads(body))
    except orjson.JSONDecodeError as exc:
        return _status(400, INVALID_ARGUMENT, f"not valid JSON: {exc}")
    except OtlpError as exc:
        return _status(400, INVALID_ARGUMENT, str(exc))
    return await _ingest(request, pipeline, conversion, rejected_key)


async def _ingest(
    request: Request, pipeline: IngestPipeline, conversion: Conversion, rejected_key: str
) -> JSONResponse:
    decision = check_ingest(request, len(conversion.submissions))
    if not decision.allowed:
        message, _ = limit_message(decision)
        response = _status(429, RESOURCE_EXHAUSTED, message)
        # OTLP exporters honour Retry-After on 429 and retry with backoff.
        response.headers["Retry-After"] = decision.retry_after_header
        return response
    # identity: an org-scoped credential only ever writes its own org's events
    submissions = bind_submissions(conversion.submissions, current_principal(request))
    report = await run_ingest(request, pipeline, submissions, IngestSource.OTLP)
    refused: Counter[int] = Counter()
    messages: list[str] = []
    for item in report.items:
        if item.status == "rejected":
            origin = conversion.origins[item.index]
            refused[origin] += 1
            for err in item.errors:
                if len(messages) < MAX_ERROR_MESSAGES:
                    messages.append(f"item {origin}: {err.field or 'event'}: {err.reason}")
    if not refused:
        return JSONResponse({"partialSuccess": {}})
    # OTLP's JSON mapping writes 64-bit counts as strings.
    return JSONResponse(
        {"partialSuccess": {rejected_key: str(len(refused)), "errorMessage": "; ".join(messages)}}
    )


@router.post("/v1/traces", summary="OTLP/HTTP JSON traces")
async def otlp_traces(request: Request, pipeline: PipelineDep) -> JSONResponse:
    return await _receive(request, pipeline, traces_to_submissions, "rejectedSpans")


@router.post("/v1/logs", summary="OTLP/HTTP JSON logs")
async def otlp_logs(request: Request, pipeline: PipelineDep) -> JSONResponse:
    return await _receive(request, pipeline, logs_to_submissions, "rejectedLogRecords")
