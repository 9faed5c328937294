"""The one security event model: LLM traffic and the security signals drawn from it.

Serialized, an event is a *flat* mapping of dotted keys named after the OpenTelemetry GenAI
semantic conventions (``gen_ai.request.model``, ``user.id``, ...) with ``garrison.*`` for what
OTel has no name for. Sigma rules and SIEMs read these keys as they are, so ``to_flat`` /
``from_flat`` are the event's wire format everywhere: HTTP, files, the store and the rules.

Every limit below exists because events come from untrusted clients: a field that is too long, a
nested attribute, a naive timestamp or an unknown ``garrison.*`` key is refused with the key and
the reason, never guessed at.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from garrison.core.timeutil import utcnow
from garrison.monitoring.detectors.base import Finding, Severity, Verdict

# Limits on what one event may carry. Content is large on purpose (RAG prompts are long); names
# and attribute values are small because nothing legitimate needs more.
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 256
MAX_TEXT_CHARS = 4_096
MAX_CONTENT_CHARS = 1_000_000
MAX_EVENT_CONTENT_CHARS = 2_000_000
MAX_DOCUMENTS = 64
MAX_LIST_ITEMS = 128
MAX_ATTRIBUTES = 128
MAX_ATTRIBUTE_KEY_CHARS = 128
MAX_ATTRIBUTE_VALUE_CHARS = 8_192
MAX_FINDINGS = 256
MAX_EXPLANATION_BYTES = 8_192

DEFAULT_ORG = "default"


class EventType(StrEnum):
    """What happened: the raw traffic of an LLM application and the controls around it."""

    LLM_REQUEST = "llm.request"
    LLM_RESPONSE = "llm.response"
    GUARDRAIL_EVALUATION = "guardrail.evaluation"
    OUTPUT_FILTER_ACTION = "output_filter.action"
    TOOL_CALL = "tool.call"
    RETRIEVAL = "retrieval"
    AUTH_FAILURE = "auth.failure"
    RATE_LIMIT_HIT = "rate_limit.hit"
    USAGE = "usage"
    SECURITY_SIGNAL = "security.signal"
    """A security event another system already classified (it carries ``garrison.category``)."""


class EventCategory(StrEnum):
    """Why an event matters to security: the nine categories of the monitoring design."""

    GUARDRAIL_BLOCK = "guardrail_block"
    OUTPUT_FILTER_BLOCK = "output_filter_block"
    RATE_LIMIT_HIT = "rate_limit_hit"
    ANOMALOUS_PATTERN = "anomalous_pattern"
    SYSTEM_PROMPT_LEAKAGE = "system_prompt_leakage"
    PII_DETECTED = "pii_detected"
    TOOL_ABUSE_ATTEMPT = "tool_abuse_attempt"
    AUTH_FAILURE = "auth_failure"
    UNUSUAL_TOKEN_USAGE = "unusual_token_usage"  # noqa: S105 - a category name, not a secret


class GuardrailAction(StrEnum):
    PASS = "pass"  # noqa: S105 - a decision, not a password
    FLAG = "flag"
    REDACT = "redact"
    BLOCK = "block"


class ToolStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"
    """The application refused the call: the model asked for something it may not do."""


class IngestSource(StrEnum):
    """Which door an event came in by; kept beside the event, not in it."""

    SDK = "sdk"
    HTTP = "http"
    OTLP = "otlp"
    FILE = "file"


_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}
_VERDICT_ORDER = {v: i for i, v in enumerate(Verdict)}


def max_severity(*values: Severity) -> Severity:
    return max(values, key=_SEVERITY_ORDER.__getitem__)


def max_verdict(*values: Verdict) -> Verdict:
    return max(values, key=_VERDICT_ORDER.__getitem__)


# --- event IDs -------------------------------------------------------------------------------


def _uuid7_from(ms: int, tail: bytes) -> str:
    """A UUIDv7: 48 bits of Unix milliseconds, then 74 bits taken from ``tail``."""
    rand = int.from_bytes(tail[:10], "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def new_event_id(at: datetime | None = None) -> str:
    """A fresh, time-ordered event ID (UUIDv7), so IDs sort like the events they name."""
    ms = time.time_ns() // 1_000_000 if at is None else int(at.timestamp() * 1000)
    return _uuid7_from(ms, os.urandom(10))


def derived_event_id(at: datetime, *parts: str | bytes) -> str:
    """A UUIDv7 whose random bits are a hash of ``parts``.

    The same submission always gets the same ID, so a retried upload, a re-read log file or a
    re-sent OTLP batch is recognised as a duplicate instead of being stored twice.
    """
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return _uuid7_from(int(at.timestamp() * 1000), digest.digest())


# --- field types -----------------------------------------------------------------------------

# Control characters have no business in names and IDs; they break log viewers and PostgreSQL
# refuses NUL in text. The pattern is matched by pydantic-core's linear-time regex engine.
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS, pattern=_NO_CONTROL)
]
Ident = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS, pattern=_NO_CONTROL)
]
OrgKey = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
]
ShortText = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
Content = Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)]
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Count = Annotated[int, Field(ge=0, le=10**12)]


class FindingSpan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    view: Annotated[str, StringConstraints(max_length=64)] = "text"


class EventFinding(BaseModel):
    """A detector finding as carried by an event: what, how sure, where, why, and its mappings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector_id: Name
    detector_version: Annotated[str, StringConstraints(max_length=32)] = ""
    category: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    ]
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    severity: Severity = Severity.MEDIUM
    message: ShortText = ""
    owasp: Annotated[list[Name], Field(max_length=16)] = Field(default_factory=list)
    atlas: Annotated[list[Name], Field(max_length=16)] = Field(default_factory=list)
    spans: Annotated[list[FindingSpan], Field(max_length=64)] = Field(default_factory=list)
    target: Annotated[str, StringConstraints(max_length=64)] = ""
    """The flat key of the text the finding is in, e.g. ``garrison.content.text``."""
    explanation: dict[str, Any] = Field(default_factory=dict)

    @field_validator("explanation")
    @classmethod
    def _bounded_explanation(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            encoded = orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise ValueError(f"must be JSON-serializable ({exc})") from None
        if len(encoded) > MAX_EXPLANATION_BYTES:
            raise ValueError(f"is {len(encoded)} bytes; at most {MAX_EXPLANATION_BYTES} allowed")
        return value

    @classmethod
    def from_finding(cls, finding: Finding, *, target: str = "") -> EventFinding:
        return cls(
            detector_id=finding.detector_id,
            detector_version=finding.detector_version,
            category=str(finding.category),
            score=min(1.0, max(0.0, float(finding.score))),
            severity=finding.severity,
            message=finding.message[:MAX_TEXT_CHARS],
            owasp=list(finding.owasp),
            atlas=list(finding.atlas),
            spans=[FindingSpan(start=s.start, end=s.end, view=s.view) for s in finding.spans][:64],
            target=target,
            explanation=dict(finding.explanation),
        )

    def key(self) -> tuple[Any, ...]:
        """What makes two findings the same finding (a client and the server may both report it)."""
        return (
            self.detector_id,
            self.detector_version,
            self.category,
            self.target,
            tuple((s.start, s.end, s.view) for s in self.spans),
        )


def _f(key: str, **kwargs: Any) -> Any:
    return Field(alias=key, **kwargs)


class SecurityEvent(BaseModel):
    """One event. Python code uses the field names; every serialized form uses the dotted keys."""

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", frozen=True, str_strip_whitespace=False
    )

    # identity, time, tenancy, links
    event_id: EventId = _f("garrison.event.id", default_factory=new_event_id)
    timestamp: AwareDatetime = _f("timestamp", default_factory=utcnow)
    event_type: EventType = _f("garrison.event.type")
    category: EventCategory | None = _f("garrison.category", default=None)
    severity: Severity = _f("garrison.severity", default=Severity.INFO)
    verdict: Verdict | None = _f("garrison.verdict", default=None)
    description: ShortText | None = _f("garrison.description", default=None)
    org: OrgKey = _f("garrison.org", default=DEFAULT_ORG)
    asset_id: Ident | None = _f("garrison.asset.id", default=None)
    correlation_id: Ident | None = _f("garrison.correlation.id", default=None)
    service_name: Name | None = _f("service.name", default=None)

    # who, where
    user_id: Ident | None = _f("user.id", default=None)
    session_id: Ident | None = _f("session.id", default=None)
    conversation_id: Ident | None = _f("gen_ai.conversation.id", default=None)
    client_address: Name | None = _f("client.address", default=None)
    server_address: Name | None = _f("server.address", default=None)
    server_port: Annotated[int, Field(ge=0, le=65535)] | None = _f("server.port", default=None)

    # the model call
    provider: Name | None = _f("gen_ai.provider.name", default=None)
    operation: Name | None = _f("gen_ai.operation.name", default=None)
    request_model: Name | None = _f("gen_ai.request.model", default=None)
    response_model: Name | None = _f("gen_ai.response.model", default=None)
    response_id: Ident | None = _f("gen_ai.response.id", default=None)
    finish_reasons: Annotated[list[Name], Field(max_length=MAX_LIST_ITEMS)] | None = _f(
        "gen_ai.response.finish_reasons", default=None
    )
    input_tokens: Count | None = _f("gen_ai.usage.input_tokens", default=None)
    output_tokens: Count | None = _f("gen_ai.usage.output_tokens", default=None)
    cost: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=10)] | None = _f(
        "garrison.usage.cost", default=None
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = _f(
        "garrison.usage.currency", default=None
    )
    error_type: Name | None = _f("error.type", default=None)

    # agents and tools
    agent_name: Name | None = _f("gen_ai.agent.name", default=None)
    agent_id: Ident | None = _f("gen_ai.agent.id", default=None)
    tool_name: Name | None = _f("gen_ai.tool.name", default=None)
    tool_call_id: Ident | None = _f("gen_ai.tool.call.id", default=None)
    tool_arguments: Content | None = _f("garrison.tool.arguments", default=None)
    tool_arguments_digest: Digest | None = _f("garrison.tool.arguments.digest", default=None)
    tool_status: ToolStatus | None = _f("garrison.tool.status", default=None)

    # retrieval
    data_source_id: Ident | None = _f("gen_ai.data_source.id", default=None)

    # guardrails and output filters
    guardrail_name: Name | None = _f("garrison.guardrail.name", default=None)
    guardrail_layer: Name | None = _f("garrison.guardrail.layer", default=None)
    guardrail_action: GuardrailAction | None = _f("garrison.guardrail.action", default=None)
    guardrail_reason: ShortText | None = _f("garrison.guardrail.reason", default=None)

    # auth failures and rate limits
    auth_method: Name | None = _f("garrison.auth.method", default=None)
    rate_limit_name: Name | None = _f("garrison.rate_limit.name", default=None)

    # content: raw text only when the deployment opts in; otherwise digest + redacted preview
    content: Content | None = _f("garrison.content.text", default=None)
    content_digest: Digest | None = _f("garrison.content.digest", default=None)
    content_preview: ShortText | None = _f("garrison.content.preview", default=None)
    content_length: Count | None = _f("garrison.content.length", default=None)
    documents: Annotated[list[Content], Field(max_length=MAX_DOCUMENTS)] | None = _f(
        "garrison.content.documents", default=None
    )
    document_digests: Annotated[list[Digest], Field(max_length=MAX_DOCUMENTS)] | None = _f(
        "garrison.content.documents.digests", default=None
    )
    document_previews: Annotated[list[ShortText], Field(max_length=MAX_DOCUMENTS)] | None = _f(
        "garrison.content.documents.previews", default=None
    )

    findings: Annotated[list[EventFinding], Field(max_length=MAX_FINDINGS)] = _f(
        "garrison.findings", default_factory=list
    )

    attributes: dict[str, Any] = Field(default_factory=dict)
    """Any other flat attribute (``gen_ai.request.temperature``, ``http.route``...), kept as is."""

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _bounded_content(self) -> Self:
        total = sum(
            len(text)
            for text in (self.content or "", self.tool_arguments or "", *(self.documents or ()))
        )
        if total > MAX_EVENT_CONTENT_CHARS:
            raise ValueError(
                f"the event carries {total} characters of content; at most "
                f"{MAX_EVENT_CONTENT_CHARS} in all (split the documents over several events)"
            )
        return self

    @field_validator("attributes")
    @classmethod
    def _flat_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = attributes_problem(value)
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return value

    # --- the flat form ---------------------------------------------------------------------

    def to_flat(self, *, mode: Literal["json", "python"] = "json") -> dict[str, Any]:
        """The event as flat dotted keys; unset fields are left out.

        Summary keys (``garrison.finding.*``, ``garrison.owasp.ids``, ``garrison.atlas.ids``) are
        derived from the findings so a Sigma rule can match on them without walking a list.
        """
        fields = self.model_dump(mode=mode, by_alias=True, exclude_none=True)
        extra = fields.pop("attributes", {})
        if not self.findings:
            fields.pop("garrison.findings", None)
        flat: dict[str, Any] = {**extra, **fields}
        if self.findings:
            flat["garrison.finding.count"] = len(self.findings)
            flat["garrison.finding.categories"] = _unique(f.category for f in self.findings)
            flat["garrison.finding.detectors"] = _unique(f.detector_id for f in self.findings)
            flat["garrison.finding.max_score"] = max(f.score for f in self.findings)
            owasp = _unique(i for f in self.findings for i in f.owasp)
            atlas = _unique(i for f in self.findings for i in f.atlas)
            if owasp:
                flat["garrison.owasp.ids"] = owasp
            if atlas:
                flat["garrison.atlas.ids"] = atlas
        return flat

    @classmethod
    def from_flat(cls, data: Mapping[str, Any]) -> Self:
        """Validate a flat mapping; raises ``EventValidationError`` naming each bad key."""
        if not isinstance(data, Mapping):
            raise EventValidationError([FieldError("", "an event must be a JSON object")])
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        errors: list[FieldError] = []
        for key, value in data.items():
            if not isinstance(key, str):
                errors.append(FieldError(str(key), "attribute keys must be strings"))
            elif key in _ALIASES:
                known[key] = value
            elif key in DERIVED_KEYS:
                continue
            elif key.startswith("garrison."):
                errors.append(FieldError(key, f"unknown Garrison attribute{_suggest(key)}"))
            else:
                extra[key] = value
        problem = attributes_problem(extra)
        if problem is not None:
            errors.append(FieldError(*problem))
        if errors:
            raise EventValidationError(errors)
        try:
            return cls.model_validate({**known, "attributes": extra})
        except ValidationError as exc:
            raise EventValidationError(_field_errors(exc)) from None

    def with_updates(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied; internal code only (values are trusted, not checked)."""
        return self.model_copy(update=changes)


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


_ALIASES: dict[str, str] = {
    str(info.alias): name for name, info in SecurityEvent.model_fields.items() if info.alias
}
KNOWN_KEYS: frozenset[str] = frozenset(_ALIASES)
DERIVED_KEYS: frozenset[str] = frozenset(
    {
        "garrison.finding.count",
        "garrison.finding.categories",
        "garrison.finding.detectors",
        "garrison.finding.max_score",
        "garrison.owasp.ids",
        "garrison.atlas.ids",
    }
)


def _suggest(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, [k for k in KNOWN_KEYS if k.startswith("garrison.")], 1)
    return f"; did you mean {close[0]!r}?" if close else ""


def attributes_problem(value: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first bad key of ``value`` and why, or None when all extra attributes are valid.

    Attributes are flat like OTel's: a scalar or a list of scalars per key. Nested objects are
    refused rather than flattened, because silently renaming keys would break the rules written
    against them.
    """
    if len(value) > MAX_ATTRIBUTES:
        return "", f"{len(value)} extra attributes; at most {MAX_ATTRIBUTES} allowed"
    for key, item in value.items():
        if not key or len(key) > MAX_ATTRIBUTE_KEY_CHARS or not _plain_key(key):
            return key[:MAX_ATTRIBUTE_KEY_CHARS], (
                f"attribute keys must be 1-{MAX_ATTRIBUTE_KEY_CHARS} letters, digits and ._- "
                "characters"
            )
        items = item if isinstance(item, list) else [item]
        if isinstance(item, list) and len(item) > MAX_LIST_ITEMS:
            return key, f"has {len(item)} items; at most {MAX_LIST_ITEMS} allowed"
        for one in items:
            reason = _value_problem(one)
            if reason is not None:
                return key, reason
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, dict | list):
        return "is nested; attribute values are scalars or lists of scalars"
    if not isinstance(value, str | bool | int | float):
        return "must be a string, number, boolean or a list of them"
    if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
        return f"is {len(value)} characters; at most {MAX_ATTRIBUTE_VALUE_CHARS} allowed"
    if isinstance(value, str) and "\x00" in value:
        return "contains a NUL character"
    return None


_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _plain_key(key: str) -> bool:
    return all(c in _KEY_CHARS for c in key)


# --- validation errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    """The flat key (``gen_ai.usage.input_tokens``), or ``""`` for the event as a whole."""
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class EventValidationError(ValueError):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field or 'event'}: {e.reason}" for e in self.errors))


def _field_errors(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] == "attributes":
            loc = loc[1:2] or [""]
            field = loc[0]
        else:
            field = "".join(
                p if i == 0 else (f"[{p}]" if p.isdigit() else f".{p}") for i, p in enumerate(loc)
            )
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "timezone_aware":
            reason = "timestamp has no timezone; send UTC, e.g. 2026-01-31T12:00:00Z"
        elif error["type"] == "string_pattern_mismatch":
            pattern = str((error.get("ctx") or {}).get("pattern", ""))
            reason = (
                "contains control characters"
                if pattern == _NO_CONTROL
                else f"has characters that are not allowed here (expected {pattern})"
            )
        out.append(FieldError(field, reason))
    return out
