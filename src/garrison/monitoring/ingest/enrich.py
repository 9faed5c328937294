"""Pure steps between a validated event and a stored one: scan, apply the content policy, classify.

Nothing here does I/O; ``prepare_event`` is a function of the event, the policy and the scanner,
so the same interaction gives the same stored event whichever door it came in by.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from garrison.monitoring.content import ContentPolicy, Scanner, clean_text
from garrison.monitoring.detectors.base import Category, Direction, ScanContext, Severity, Verdict
from garrison.monitoring.events import (
    EventCategory,
    EventFinding,
    EventType,
    GuardrailAction,
    SecurityEvent,
    ToolStatus,
    max_severity,
    max_verdict,
)

log = logging.getLogger(__name__)

ContextFactory = Callable[[SecurityEvent, Direction], ScanContext]


def default_context(event: SecurityEvent, direction: Direction) -> ScanContext:
    """What the server knows about an event's app; registered prompts come with the inventory."""
    return ScanContext(direction=direction, asset_id=event.asset_id)


_DIRECTION = {
    EventType.LLM_RESPONSE: Direction.OUTPUT,
    EventType.OUTPUT_FILTER_ACTION: Direction.OUTPUT,
    EventType.RETRIEVAL: Direction.RETRIEVED,
    EventType.TOOL_CALL: Direction.RETRIEVED,
}


def direction_for(event_type: EventType) -> Direction:
    """Where an event's main text sits: a tool's result is retrieved text, like a RAG document."""
    return _DIRECTION.get(event_type, Direction.INPUT)


@dataclass
class _Scanned:
    findings: list[EventFinding] = field(default_factory=list)
    verdict: Verdict | None = None
    redacted: str = ""
    failed: bool = False


def _scan(
    scanner: Scanner, text: str, context: ScanContext, target: str, out: list[EventFinding]
) -> _Scanned:
    try:
        outcome = scanner(text, context)
        found = [EventFinding.from_finding(f, target=target) for f in outcome.findings]
        result = _Scanned(found, Verdict(outcome.verdict), outcome.redacted)
    except Exception:
        # A detector bug must not lose the event: keep it unscanned, with an empty preview.
        log.exception("scanning %s failed; the event is stored without findings", target)
        result = _Scanned(failed=True)
    out.extend(result.findings)
    return result


def merge_findings(*groups: Iterable[EventFinding]) -> list[EventFinding]:
    """Findings in order, each once: a client and the server often report the same one."""
    seen: dict[tuple[object, ...], EventFinding] = {}
    for group in groups:
        for finding in group:
            seen.setdefault(finding.key(), finding)
    return list(seen.values())


def prepare_event(
    event: SecurityEvent,
    policy: ContentPolicy,
    scanner: Scanner,
    context_for: ContextFactory = default_context,
) -> SecurityEvent:
    """Scan the event's texts, replace them per ``policy``, attach findings and classify."""
    changes: dict[str, object] = {}
    found: list[EventFinding] = []
    verdicts: list[Verdict] = [] if event.verdict is None else [event.verdict]

    if event.content is not None:
        text = clean_text(event.content)
        direction = direction_for(event.event_type)
        scanned = _scan(
            scanner, text, context_for(event, direction), "garrison.content.text", found
        )
        if scanned.verdict is not None:
            verdicts.append(scanned.verdict)
        changes["content_digest"] = policy.digest(text)
        changes["content_preview"] = policy.preview(scanned.redacted)
        changes["content_length"] = len(text)
        changes["content"] = text if policy.store_content else None

    if event.documents is not None:
        digests: list[str] = []
        previews: list[str] = []
        kept: list[str] = []
        context = context_for(event, Direction.RETRIEVED)
        for i, document in enumerate(event.documents):
            text = clean_text(document)
            target = f"garrison.content.documents[{i}]"
            scanned = _scan(scanner, text, context, target, found)
            if scanned.verdict is not None:
                verdicts.append(scanned.verdict)
            digests.append(policy.digest(text))
            previews.append(policy.preview(scanned.redacted))
            kept.append(text)
        changes["document_digests"] = digests
        changes["document_previews"] = previews
        changes["documents"] = kept if policy.store_content else None

    if event.tool_arguments is not None:
        text = clean_text(event.tool_arguments)
        # Arguments are written by the model: secrets or exfiltration there are output findings.
        context = context_for(event, Direction.OUTPUT)
        scanned = _scan(scanner, text, context, "garrison.tool.arguments", found)
        if scanned.verdict is not None:
            verdicts.append(scanned.verdict)
        changes["tool_arguments_digest"] = policy.digest(text)
        changes["tool_arguments"] = text if policy.store_content else None

    findings = merge_findings(event.findings, found)
    changes["findings"] = findings
    if verdicts:
        changes["verdict"] = max_verdict(*verdicts)
    prepared = event.with_updates(**changes)
    category = event.category or derive_category(prepared)
    return prepared.with_updates(category=category, severity=derive_severity(prepared, category))


_TRAFFIC_CATEGORY: tuple[tuple[EventType, Callable[[SecurityEvent], bool], EventCategory], ...] = (
    (
        EventType.GUARDRAIL_EVALUATION,
        lambda e: e.guardrail_action is GuardrailAction.BLOCK,
        EventCategory.GUARDRAIL_BLOCK,
    ),
    (
        EventType.OUTPUT_FILTER_ACTION,
        lambda e: e.guardrail_action in (GuardrailAction.BLOCK, GuardrailAction.REDACT),
        EventCategory.OUTPUT_FILTER_BLOCK,
    ),
    (EventType.RATE_LIMIT_HIT, lambda e: True, EventCategory.RATE_LIMIT_HIT),
    (EventType.AUTH_FAILURE, lambda e: True, EventCategory.AUTH_FAILURE),
    (
        EventType.TOOL_CALL,
        lambda e: e.tool_status is ToolStatus.DENIED,
        EventCategory.TOOL_ABUSE_ATTEMPT,
    ),
)

_FINDING_CATEGORY = {
    Category.SYSTEM_PROMPT_LEAK.value: EventCategory.SYSTEM_PROMPT_LEAKAGE,
    Category.PII.value: EventCategory.PII_DETECTED,
    # The nine categories have no "secret": a leaked credential is sensitive-data exposure,
    # the family pii_detected stands for.
    Category.SECRET.value: EventCategory.PII_DETECTED,
}
_CATEGORY_PRIORITY = (EventCategory.SYSTEM_PROMPT_LEAKAGE, EventCategory.PII_DETECTED)


def derive_category(event: SecurityEvent) -> EventCategory | None:
    """The security category an event falls in, when its sender did not say.

    What the traffic itself says comes first (a guardrail blocked, a rate limit hit), then the
    findings: a leak of the system prompt outranks PII, which outranks any other finding.
    ``unusual_token_usage`` needs a baseline, so the rules engine, not ingest, assigns it.
    """
    for kind, applies, category in _TRAFFIC_CATEGORY:
        if event.event_type is kind and applies(event):
            return category
    if not event.findings:
        return None
    mapped = {_FINDING_CATEGORY.get(f.category) for f in event.findings}
    for category in _CATEGORY_PRIORITY:
        if category in mapped:
            return category
    return EventCategory.ANOMALOUS_PATTERN


_CATEGORY_SEVERITY = {
    EventCategory.GUARDRAIL_BLOCK: Severity.MEDIUM,
    EventCategory.OUTPUT_FILTER_BLOCK: Severity.HIGH,
    EventCategory.RATE_LIMIT_HIT: Severity.LOW,
    EventCategory.ANOMALOUS_PATTERN: Severity.MEDIUM,
    EventCategory.SYSTEM_PROMPT_LEAKAGE: Severity.CRITICAL,
    EventCategory.PII_DETECTED: Severity.MEDIUM,
    EventCategory.TOOL_ABUSE_ATTEMPT: Severity.HIGH,
    EventCategory.AUTH_FAILURE: Severity.LOW,
    EventCategory.UNUSUAL_TOKEN_USAGE: Severity.MEDIUM,
}


def derive_severity(event: SecurityEvent, category: EventCategory | None) -> Severity:
    """The highest of what the sender said, what the category implies and what was found."""
    levels = [event.severity, *(f.severity for f in event.findings)]
    if category is not None:
        levels.append(_CATEGORY_SEVERITY[category])
    return max_severity(*levels)
