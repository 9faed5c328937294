"""OTLP/HTTP JSON traces and logs to Garrison events.

Reads the OTLP JSON encoding (``resourceSpans/scopeSpans/spans``, ``resourceLogs/scopeLogs/
logRecords``, attributes as ``[{key, value: {stringValue | intValue | ...}}]``) and both dialects
of the OpenTelemetry GenAI conventions:

* older: ``gen_ai.system``, ``gen_ai.prompt`` / ``gen_ai.completion`` (attributes, indexed
  ``gen_ai.prompt.N.content`` attributes, or ``gen_ai.content.prompt`` span events),
  ``gen_ai.usage.prompt_tokens`` / ``completion_tokens``, per-message log events;
* newer: ``gen_ai.provider.name``, ``gen_ai.input.messages`` / ``gen_ai.output.messages``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.client.inference.operation.details``.

Guardrail spans (``apply_guardrail``) and ``gen_ai.guardrail.security.finding`` events become
``guardrail.evaluation`` events whose findings carry the OWASP LLM 2025 IDs they name. A span or
log record that already carries ``garrison.event.type`` is taken as a Garrison event as it is.

Everything is pure: the result is a list of submissions for the ingest pipeline, each tagged with
the span or log record it came from so that rejections can be counted per OTLP item.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from garrison.monitoring.events import (
    MAX_ATTRIBUTE_VALUE_CHARS,
    EventType,
    FieldError,
    derived_event_id,
)
from garrison.monitoring.ingest.calls import (
    INPUT_ROLES,
    OUTPUT_ROLES,
    ModelCall,
    call_events,
    message_text,
)
from garrison.monitoring.ingest.pipeline import Submission

MAX_VALUE_DEPTH = 8
SPAN_STATUS_ERROR = 2

GUARDRAIL_OPERATIONS = frozenset({"apply_guardrail", "guardrail"})
TOOL_OPERATIONS = frozenset({"execute_tool"})
FINDING_EVENTS = frozenset({"gen_ai.guardrail.security.finding", "gen_ai.security.finding"})
DETAILS_EVENT = "gen_ai.client.inference.operation.details"


class OtlpError(ValueError):
    """The payload is not OTLP JSON at all."""


@dataclass
class Conversion:
    """Submissions and, for each, the OTLP item (span or log record number) it came from."""

    submissions: list[Submission] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    items: int = 0
    """Spans or log records read."""

    def add(
        self, origin: int, data: dict[str, Any] | None, error: FieldError | None = None
    ) -> None:
        index = len(self.submissions)
        self.submissions.append(Submission(index, data, error))
        self.origins.append(origin)


# --- OTLP JSON values ------------------------------------------------------------------------


def _string(raw: Any, depth: int) -> Any:
    return raw if isinstance(raw, str) else None


def _double(raw: Any, depth: int) -> Any:
    # Non-finite doubles arrive as the strings "NaN" / "Infinity": not a usable measurement.
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def _array(raw: Any, depth: int) -> Any:
    values = raw.get("values", []) if isinstance(raw, Mapping) else []
    return [any_value(v, depth + 1) for v in values] if isinstance(values, list) else None


def _kvlist(raw: Any, depth: int) -> Any:
    return attributes(raw.get("values", []), depth + 1) if isinstance(raw, Mapping) else None


def _bytes(raw: Any, depth: int) -> Any:
    return base64.b64decode(raw, validate=False).hex() if isinstance(raw, str) else None


_DECODERS: dict[str, Any] = {
    "stringValue": _string,
    "boolValue": lambda raw, depth: bool(raw),
    "intValue": lambda raw, depth: _int(raw),
    "doubleValue": _double,
    "arrayValue": _array,
    "kvlistValue": _kvlist,
    "bytesValue": _bytes,
}


def any_value(value: Any, depth: int = 0) -> Any:
    """Decode an OTLP ``AnyValue``; nesting deeper than ``MAX_VALUE_DEPTH`` is refused."""
    if depth > MAX_VALUE_DEPTH:
        raise OtlpError(f"attribute value nested deeper than {MAX_VALUE_DEPTH} levels")
    if not isinstance(value, Mapping):
        return None
    for key, decode in _DECODERS.items():
        if key in value:
            return decode(value[key], depth)
    return None


def _int(raw: Any) -> int | None:
    # OTLP JSON sends 64-bit integers as strings or numbers.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20:
        return int(raw)
    return None


def attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            out[item["key"]] = any_value(item.get("value"), depth)
    return out


# Timestamps Python's datetime can hold: nanoseconds since 1970 up to the end of year 9999.
_MAX_UNIX_NANOS = 253_402_300_799 * 10**9


def _time(raw: Any) -> datetime | None:
    nanos = _int(raw)
    if not nanos:
        return None
    if not 0 < nanos <= _MAX_UNIX_NANOS:
        raise OtlpError(f"timestamp {nanos} ns is outside 1970-01-01 .. 9999-12-31")
    return datetime.fromtimestamp(nanos / 1e9, UTC)


def _resource_attributes(container: Mapping[str, Any]) -> dict[str, Any]:
    resource = container.get("resource")
    return attributes(resource.get("attributes")) if isinstance(resource, Mapping) else {}


def _hex_id(raw: Any) -> str | None:
    return raw.lower() if isinstance(raw, str) and raw and len(raw) <= 64 else None


# --- attribute readers -----------------------------------------------------------------------


def _str(attrs: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _intattr(attrs: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return None


def _messages(value: Any) -> Any:
    """Messages may arrive as structured values or as a JSON string."""
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith(("[", "{")):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
    return value


_INDEXED = re.compile(r"\Agen_ai\.(prompt|completion)\.(\d{1,4})\.(role|content)\Z")


def _indexed_messages(attrs: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """OpenLLMetry's ``gen_ai.prompt.0.role`` / ``gen_ai.prompt.0.content`` attributes."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        match = _INDEXED.match(key) if key.startswith("gen_ai.") else None
        if match and match.group(1) == kind:
            found.setdefault(int(match.group(2)), {})[match.group(3)] = value
    return [found[i] for i in sorted(found)]


def _finish_reasons(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _cost(attrs: Mapping[str, Any]) -> Decimal | None:
    raw = attrs.get("garrison.usage.cost")
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


# Attributes copied onto the request event as they are. Everything else is either mapped to a
# field or dropped: content-carrying attributes must go through the content policy, never around.
_PASS_PREFIXES = ("gen_ai.request.", "gen_ai.usage.", "gen_ai.openai.", "deployment.", "cloud.")
_CONTENT_WORDS = ("prompt", "completion", "message", "content", "instruction", "argument", "result")
_MAPPED = frozenset(
    {
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.completion_tokens",
    }
)


def _passthrough(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if key in _MAPPED or not key.startswith(_PASS_PREFIXES):
            continue
        if any(word in key for word in _CONTENT_WORDS):
            continue
        if _scalarish(value):
            out[key] = value
    return out


def _scalarish(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return len(items) <= 128 and all(
        isinstance(v, str | int | float | bool)
        and not (isinstance(v, str) and len(v) > MAX_ATTRIBUTE_VALUE_CHARS)
        for v in items
    )


# --- spans -----------------------------------------------------------------------------------

_IDENTITY_KEYS = {
    "service.name": ("service.name",),
    "garrison.asset.id": ("garrison.asset.id",),
    "garrison.org": ("garrison.org",),
    "user.id": ("user.id", "enduser.id"),
    "session.id": ("session.id", "gen_ai.session.id"),
    "gen_ai.conversation.id": ("gen_ai.conversation.id",),
    "gen_ai.agent.name": ("gen_ai.agent.name",),
    "server.address": ("server.address",),
}


def _identity(resource: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Who and where, from the span's attributes first, then its resource's."""
    out: dict[str, Any] = {}
    for target, keys in _IDENTITY_KEYS.items():
        value = _str(attrs, *keys) or _str(resource, *keys)
        if value is not None:
            out[target] = value
    port = _intattr(attrs, "server.port")
    if port is not None:
        out["server.port"] = port
    return out


@dataclass(frozen=True)
class _Span:
    trace_id: str
    span_id: str
    name: str
    start: datetime
    end: datetime
    attrs: dict[str, Any]
    resource: dict[str, Any]
    events: list[tuple[str, datetime, dict[str, Any]]]
    status_error: bool
    status_message: str | None


def _read_span(span: Mapping[str, Any], resource: dict[str, Any]) -> _Span:
    start = _time(span.get("startTimeUnixNano")) or _time(span.get("endTimeUnixNano"))
    if start is None:
        raise OtlpError("span has no startTimeUnixNano")
    end = _time(span.get("endTimeUnixNano")) or start
    events: list[tuple[str, datetime, dict[str, Any]]] = []
    for event in span.get("events", []) or []:
        if isinstance(event, Mapping):
            events.append(
                (
                    str(event.get("name", "")),
                    _time(event.get("timeUnixNano")) or end,
                    attributes(event.get("attributes")),
                )
            )
    status = span.get("status") if isinstance(span.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    code = status.get("code")
    return _Span(
        trace_id=_hex_id(span.get("traceId")) or "",
        span_id=_hex_id(span.get("spanId")) or "",
        name=str(span.get("name", ""))[:256],
        start=start,
        end=end,
        attrs=attributes(span.get("attributes")),
        resource=resource,
        events=events,
        status_error=code in (SPAN_STATUS_ERROR, "STATUS_CODE_ERROR"),
        status_message=status.get("message") if isinstance(status.get("message"), str) else None,
    )


def _event_text(
    events: list[tuple[str, datetime, dict[str, Any]]], names: set[str], keys: tuple[str, ...]
) -> str | None:
    for name, _, attrs in events:
        if name in names:
            for key in keys:
                value = attrs.get(key)
                text = message_text(_messages(value), frozenset({None, "user", "assistant"}))
                if text:
                    return text
    return None


@dataclass(frozen=True)
class _Where:
    """When a call happened and how it correlates; the span, if it came as one."""

    start: datetime
    end: datetime
    correlation: str | None
    span: _Span | None = None


def _model_call(attrs: Mapping[str, Any], resource: Mapping[str, Any], where: _Where) -> ModelCall:
    input_text = (
        message_text(_messages(attrs.get("gen_ai.input.messages")), INPUT_ROLES)
        or message_text(_messages(attrs.get("gen_ai.prompt")), INPUT_ROLES)
        or message_text(_indexed_messages(attrs, "prompt"), INPUT_ROLES)
    )
    output_text = (
        message_text(_messages(attrs.get("gen_ai.output.messages")), OUTPUT_ROLES)
        or message_text(_messages(attrs.get("gen_ai.completion")), OUTPUT_ROLES)
        or message_text(_indexed_messages(attrs, "completion"), OUTPUT_ROLES)
    )
    span = where.span
    if span is not None:
        input_text = input_text or _event_text(
            span.events,
            {"gen_ai.content.prompt", "gen_ai.user.message"},
            ("gen_ai.prompt", "content"),
        )
        output_text = output_text or _event_text(
            span.events,
            {"gen_ai.content.completion", "gen_ai.choice"},
            ("gen_ai.completion", "content", "message"),
        )
    identity = _identity(resource, attrs)
    error_type = _str(attrs, "error.type")
    if error_type is None and span is not None and span.status_error:
        error_type = "error"
    return ModelCall(
        started=where.start,
        ended=where.end,
        provider=_str(attrs, "gen_ai.provider.name", "gen_ai.system"),
        operation=_str(attrs, "gen_ai.operation.name") or "chat",
        request_model=_str(attrs, "gen_ai.request.model"),
        response_model=_str(attrs, "gen_ai.response.model"),
        response_id=_str(attrs, "gen_ai.response.id"),
        finish_reasons=_finish_reasons(attrs.get("gen_ai.response.finish_reasons")),
        input_text=input_text,
        output_text=output_text,
        input_tokens=_intattr(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
        output_tokens=_intattr(
            attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"
        ),
        cost=_cost(attrs),
        currency=_str(attrs, "garrison.usage.currency"),
        error_type=error_type,
        user_id=identity.get("user.id"),
        session_id=identity.get("session.id"),
        conversation_id=identity.get("gen_ai.conversation.id"),
        agent_name=identity.get("gen_ai.agent.name"),
        service_name=identity.get("service.name"),
        asset_id=identity.get("garrison.asset.id"),
        org=identity.get("garrison.org"),
        correlation_id=_str(attrs, "garrison.correlation.id") or where.correlation,
        server_address=identity.get("server.address"),
        server_port=identity.get("server.port"),
        request_attributes=_passthrough(attrs),
    )


_DECISIONS = {
    "allow": "pass",
    "allowed": "pass",
    "pass": "pass",
    "none": "pass",
    "deny": "block",
    "denied": "block",
    "block": "block",
    "blocked": "block",
    "intervened": "block",
    "modify": "redact",
    "modified": "redact",
    "redact": "redact",
    "sanitize": "redact",
    "warn": "flag",
    "flag": "flag",
    "audit": "flag",
}
_OUTPUT_TARGETS = frozenset({"llm_output", "output", "response", "completion", "model_output"})
_OWASP = re.compile(r"\A(?:OWASP[-_ ]?)?LLM(\d{2})(?::2025)?\Z", re.IGNORECASE)
# OWASP LLM 2025 items that correspond to one detector category; the rest keep their own ID.
_OWASP_CATEGORY = {
    "LLM01": "prompt_injection",
    "LLM02": "pii",
    "LLM05": "unsafe_output",
    "LLM07": "system_prompt_leak",
}
_SEVERITIES = {"info", "low", "medium", "high", "critical"}


def _finding(attrs: Mapping[str, Any], detector: str) -> dict[str, Any]:
    raw_category = (
        _str(
            attrs,
            "gen_ai.security.risk.category",
            "gen_ai.guardrail.risk.category",
            "risk.category",
        )
        or "unknown"
    )
    owasp: list[str] = []
    category = re.sub(r"[^A-Za-z0-9_.:\-]", "_", raw_category)[:64]
    match = _OWASP.match(raw_category.strip())
    if match:
        item = f"LLM{match.group(1)}"
        owasp.append(f"{item}:2025")
        category = _OWASP_CATEGORY.get(item, f"owasp_{item.lower()}")
    severity = (
        _str(attrs, "gen_ai.security.risk.severity", "gen_ai.guardrail.risk.severity") or "medium"
    ).lower()
    score = attrs.get("gen_ai.security.risk.score", attrs.get("gen_ai.guardrail.risk.score"))
    return {
        "detector_id": detector[:256],
        "category": category,
        "score": float(score) if isinstance(score, int | float) and 0 <= score <= 1 else 1.0,
        "severity": severity if severity in _SEVERITIES else "medium",
        "message": (_str(attrs, "gen_ai.security.finding.message", "message") or raw_category)[
            :4096
        ],
        "owasp": owasp,
    }


def _guardrail_event(span: _Span, correlation: str | None) -> dict[str, Any]:
    attrs = span.attrs
    name = (
        _str(attrs, "gen_ai.guardrail.name", "gen_ai.guardian.name", "garrison.guardrail.name")
        or span.name
        or "guardrail"
    )
    decision = (
        _str(
            attrs,
            "gen_ai.security.decision.type",
            "gen_ai.guardrail.decision.type",
            "gen_ai.guardrail.decision",
            "garrison.guardrail.action",
        )
        or ""
    ).lower()
    target = (
        _str(attrs, "gen_ai.security.target.type", "gen_ai.guardrail.target.type") or ""
    ).lower()
    findings = [_finding(a, name) for n, _, a in span.events if n in FINDING_EVENTS]
    action = _DECISIONS.get(decision) or ("flag" if findings else "pass")
    kind = (
        EventType.OUTPUT_FILTER_ACTION
        if target in _OUTPUT_TARGETS
        else EventType.GUARDRAIL_EVALUATION
    )
    event: dict[str, Any] = {
        **_identity(span.resource, attrs),
        "garrison.event.type": kind.value,
        "timestamp": span.end.isoformat(),
        "garrison.guardrail.name": name[:256],
        "garrison.guardrail.action": action,
        "garrison.correlation.id": _str(attrs, "garrison.correlation.id") or correlation,
    }
    layer = _str(
        attrs, "garrison.guardrail.layer", "gen_ai.guardrail.layer", "gen_ai.guardian.provider.name"
    )
    reason = _str(
        attrs,
        "gen_ai.security.decision.reason",
        "gen_ai.guardrail.decision.reason",
        "garrison.guardrail.reason",
    )
    if layer:
        event["garrison.guardrail.layer"] = layer[:256]
    if reason:
        event["garrison.guardrail.reason"] = reason[:4096]
    if findings:
        event["garrison.findings"] = findings
    return {k: v for k, v in event.items() if v is not None}


def _tool_event(span: _Span, correlation: str | None) -> dict[str, Any]:
    attrs = span.attrs
    status = _str(attrs, "garrison.tool.status") or ("error" if span.status_error else "ok")
    event: dict[str, Any] = {
        **_identity(span.resource, attrs),
        "garrison.event.type": EventType.TOOL_CALL.value,
        "timestamp": span.end.isoformat(),
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": _str(attrs, "gen_ai.tool.name") or span.name or None,
        "gen_ai.tool.call.id": _str(attrs, "gen_ai.tool.call.id"),
        "garrison.tool.status": status,
        "garrison.correlation.id": _str(attrs, "garrison.correlation.id") or correlation,
        "error.type": _str(attrs, "error.type"),
    }
    arguments = attrs.get("gen_ai.tool.call.arguments")
    result = attrs.get("gen_ai.tool.call.result")
    if arguments is not None:
        event["garrison.tool.arguments"] = (
            arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
        )
    if result is not None:
        event["garrison.content.text"] = (
            result if isinstance(result, str) else orjson.dumps(result).decode()
        )
    return {k: v for k, v in event.items() if v is not None}


def _garrison_event(
    attrs: Mapping[str, Any], resource: Mapping[str, Any], when: datetime
) -> dict[str, Any]:
    """A span or log record that is a Garrison event already: its attributes are the event."""
    event = {
        k: v
        for k, v in resource.items()
        if k in ("service.name", "garrison.asset.id", "garrison.org")
    }
    event.update(attrs)
    event.setdefault("timestamp", when.isoformat())
    return event


def _is_genai(attrs: Mapping[str, Any]) -> bool:
    return any(key.startswith("gen_ai.") for key in attrs)


def span_events(span: _Span) -> list[dict[str, Any]]:
    """The flat events one span stands for (none for spans that are not GenAI)."""
    attrs = span.attrs
    correlation = span.trace_id or None
    if "garrison.event.type" in attrs:
        return [_garrison_event(attrs, span.resource, span.start)]
    operation = (_str(attrs, "gen_ai.operation.name") or "").lower()
    has_findings = any(name in FINDING_EVENTS for name, _, _ in span.events)
    if operation in GUARDRAIL_OPERATIONS or has_findings:
        return [_guardrail_event(span, correlation)]
    if operation in TOOL_OPERATIONS:
        return [_tool_event(span, correlation)]
    if not _is_genai(attrs) and not any(n.startswith("gen_ai.") for n, _, _ in span.events):
        return []
    return call_events(
        _model_call(attrs, span.resource, _Where(span.start, span.end, correlation, span))
    )


def _with_id(event: dict[str, Any], *parts: str) -> dict[str, Any]:
    """Give an event from OTLP an ID derived from its trace, span and kind, so a re-sent
    batch is recognised as a duplicate."""
    if "garrison.event.id" in event:
        return event
    try:
        when = datetime.fromisoformat(str(event.get("timestamp")))
    except ValueError:
        return event
    return {
        **event,
        "garrison.event.id": derived_event_id(when, *parts, str(event.get("garrison.event.type"))),
    }


def _iter(container: Any, key: str) -> Iterator[Mapping[str, Any]]:
    items = container.get(key) if isinstance(container, Mapping) else None
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping):
                yield item


def traces_to_submissions(payload: Any) -> Conversion:
    """Submissions for every GenAI span of an ``ExportTraceServiceRequest`` in JSON."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("resourceSpans", []), list):
        raise OtlpError("expected an object with resourceSpans (OTLP JSON traces)")
    out = Conversion()
    for resource_spans in _iter(payload, "resourceSpans"):
        resource = _resource_attributes(resource_spans)
        for scope in _iter(resource_spans, "scopeSpans"):
            for raw in _iter(scope, "spans"):
                number = out.items
                out.items += 1
                try:
                    span = _read_span(raw, resource)
                    events = span_events(span)
                except OtlpError as exc:
                    out.add(number, None, FieldError("span", str(exc)))
                    continue
                for event in events:
                    out.add(number, _with_id(event, "span", span.trace_id, span.span_id, span.name))
    return out


def logs_to_submissions(payload: Any) -> Conversion:
    """Submissions for every GenAI or Garrison log record of an ``ExportLogsServiceRequest``."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("resourceLogs", []), list):
        raise OtlpError("expected an object with resourceLogs (OTLP JSON logs)")
    out = Conversion()
    for resource_logs in _iter(payload, "resourceLogs"):
        resource = _resource_attributes(resource_logs)
        for scope in _iter(resource_logs, "scopeLogs"):
            for record in _iter(scope, "logRecords"):
                number = out.items
                out.items += 1
                try:
                    events = _log_events(record, resource)
                except OtlpError as exc:
                    out.add(number, None, FieldError("logRecord", str(exc)))
                    continue
                trace = _hex_id(record.get("traceId")) or ""
                span = _hex_id(record.get("spanId")) or ""
                digest = (
                    orjson.dumps(record, option=orjson.OPT_SORT_KEYS).hex()[:64] if not span else ""
                )
                for event in events:
                    out.add(number, _with_id(event, "log", trace, span, digest))
    return out


def _log_events(record: Mapping[str, Any], resource: dict[str, Any]) -> list[dict[str, Any]]:
    attrs = attributes(record.get("attributes"))
    when = _time(record.get("timeUnixNano")) or _time(record.get("observedTimeUnixNano"))
    if when is None:
        raise OtlpError("log record has neither timeUnixNano nor observedTimeUnixNano")
    body = any_value(record.get("body"))
    name = record.get("eventName") if isinstance(record.get("eventName"), str) else None
    name = name or _str(attrs, "event.name", "gen_ai.event.name") or ""
    correlation = _hex_id(record.get("traceId"))
    if "garrison.event.type" in attrs:
        event = _garrison_event(attrs, resource, when)
        if isinstance(body, str) and "garrison.description" not in event:
            event["garrison.description"] = body[:4096]
        return [event]
    if name == DETAILS_EVENT:
        return call_events(_model_call(attrs, resource, _Where(when, when, correlation)))
    if name in FINDING_EVENTS:
        span = _Span(
            correlation or "",
            "",
            "guardrail",
            when,
            when,
            attrs,
            resource,
            [(name, when, attrs)],
            False,
            None,
        )
        return [_guardrail_event(span, correlation)]
    body_map = body if isinstance(body, Mapping) else {}
    if name == "gen_ai.user.message":
        text = message_text(body_map.get("content") if body_map else body, frozenset({None}))
        call = _model_call(attrs, resource, _Where(when, when, correlation))
        events = call_events(replace(call, input_text=text, output_text=None))
        return events[:1]
    if name == "gen_ai.choice":
        message = (
            body_map.get("message") if isinstance(body_map.get("message"), Mapping) else body_map
        )
        text = message_text(
            message.get("content") if isinstance(message, Mapping) else None, frozenset({None})
        )
        call = _model_call(attrs, resource, _Where(when, when, correlation))
        reason = body_map.get("finish_reason")
        events = call_events(
            replace(call, input_text=None, output_text=text, finish_reasons=_finish_reasons(reason))
        )
        return events[1:2]
    return []
