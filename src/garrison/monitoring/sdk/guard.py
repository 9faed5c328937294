"""``Guard``: what an application calls before and after a model call.

``check_input`` / ``check_output`` / ``check_retrieved`` scan text with the detectors, knowing the
app's system prompt and canary tokens, and answer allow / flag / block with the findings and the
redacted text. Each check is also recorded as an event in the Guard's sink, so the SOC sees what
the application saw.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from garrison.monitoring.content import Scanner, default_scanner
from garrison.monitoring.detectors.base import Direction, ScanContext, Verdict
from garrison.monitoring.events import (
    DEFAULT_ORG,
    EventFinding,
    EventType,
    GuardrailAction,
    SecurityEvent,
    max_verdict,
    new_event_id,
)
from garrison.monitoring.ingest.enrich import merge_findings
from garrison.monitoring.sdk.sinks import EventSink, MemorySink

GUARD_NAME = "garrison"


class GuardBlocked(Exception):
    """The Guard blocked a model call (its input) or its answer (its output)."""

    def __init__(self, verdict: GuardVerdict, stage: str) -> None:
        self.verdict = verdict
        self.stage = stage
        top = verdict.findings[0].message if verdict.findings else "policy"
        super().__init__(f"Garrison blocked the {stage}: {top}")


@dataclass(frozen=True)
class GuardVerdict:
    verdict: Verdict
    findings: tuple[EventFinding, ...]
    redacted: str
    """The checked text with secrets and PII masked (documents joined for ``check_retrieved``)."""
    event_id: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    @property
    def blocked(self) -> bool:
        return self.verdict is Verdict.BLOCK

    @property
    def reason(self) -> str | None:
        return self.findings[0].message if self.findings else None


@dataclass(frozen=True)
class CallContext:
    """Who a model call is for, set around application code with ``Guard.bind``."""

    user_id: str | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    correlation_id: str | None = None


_context: contextvars.ContextVar[CallContext] = contextvars.ContextVar(
    "garrison_call_context",
    default=CallContext(),  # noqa: B039 - immutable default
)


@dataclass
class Guard:
    app: str
    asset_id: str | None = None
    system_prompt: str | None = None
    canaries: Sequence[str] = ()
    allowed_domains: Sequence[str] = ()
    sink: EventSink = field(default_factory=MemorySink)
    scanner: Scanner | None = None
    org: str = DEFAULT_ORG

    def _scanner(self) -> Scanner:
        return self.scanner if self.scanner is not None else default_scanner()

    def scan_context(self, direction: Direction) -> ScanContext:
        return ScanContext(
            direction=direction,
            asset_id=self.asset_id,
            system_prompt=self.system_prompt,
            canaries=tuple(self.canaries),
            allowed_domains=tuple(self.allowed_domains),
        )

    @contextmanager
    def bind(self, **values: str | None) -> Iterator[CallContext]:
        """Attach ``user_id`` / ``session_id`` / ``conversation_id`` / ``correlation_id`` to every
        check and wrapped model call made inside the block (thread- and task-local)."""
        token = _context.set(replace(_context.get(), **values))
        try:
            yield _context.get()
        finally:
            _context.reset(token)

    def current(self, **overrides: str | None) -> CallContext:
        base = _context.get()
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    # --- checking ------------------------------------------------------------------------

    def evaluate(
        self, text: str, direction: Direction, target: str = "garrison.content.text"
    ) -> GuardVerdict:
        """Scan without recording anything (the wrappers record the call themselves)."""
        outcome = self._scanner()(text, self.scan_context(direction))
        findings = tuple(EventFinding.from_finding(f, target=target) for f in outcome.findings)
        return GuardVerdict(Verdict(outcome.verdict), findings, outcome.redacted)

    def base_fields(self, ctx: CallContext) -> dict[str, Any]:
        return {
            "org": self.org,
            "service_name": self.app,
            "asset_id": self.asset_id,
            "user_id": ctx.user_id,
            "session_id": ctx.session_id,
            "conversation_id": ctx.conversation_id,
            "correlation_id": ctx.correlation_id or new_event_id(),
        }

    def _record(
        self, kind: EventType, layer: str, verdict: GuardVerdict, ctx: CallContext, **fields: Any
    ) -> GuardVerdict:
        action = {
            Verdict.ALLOW: GuardrailAction.PASS,
            Verdict.FLAG: GuardrailAction.FLAG,
            Verdict.BLOCK: GuardrailAction.BLOCK,
        }[verdict.verdict]
        event = SecurityEvent(
            event_type=kind,
            guardrail_name=GUARD_NAME,
            guardrail_layer=layer,
            guardrail_action=action,
            guardrail_reason=verdict.reason,
            verdict=verdict.verdict,
            findings=list(verdict.findings),
            **self.base_fields(ctx),
            **fields,
        )
        self.sink.emit([event])
        return replace(verdict, event_id=event.event_id)

    def check_input(
        self, text: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> GuardVerdict:
        """Check a user's prompt before it reaches the model."""
        ctx = self.current(user_id=user_id, session_id=session_id)
        verdict = self.evaluate(text, Direction.INPUT)
        return self._record(EventType.GUARDRAIL_EVALUATION, "input", verdict, ctx, content=text)

    def check_output(
        self, text: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> GuardVerdict:
        """Check a model's answer before it reaches the user."""
        ctx = self.current(user_id=user_id, session_id=session_id)
        verdict = self.evaluate(text, Direction.OUTPUT)
        return self._record(EventType.OUTPUT_FILTER_ACTION, "output", verdict, ctx, content=text)

    def check_retrieved(
        self, documents: Sequence[str], *, user_id: str | None = None, session_id: str | None = None
    ) -> GuardVerdict:
        """Check retrieved documents (RAG, tool results, web pages) for indirect injection."""
        ctx = self.current(user_id=user_id, session_id=session_id)
        verdicts = [
            self.evaluate(doc, Direction.RETRIEVED, f"garrison.content.documents[{i}]")
            for i, doc in enumerate(documents)
        ]
        combined = GuardVerdict(
            max_verdict(Verdict.ALLOW, *(v.verdict for v in verdicts)),
            tuple(merge_findings(*(v.findings for v in verdicts))),
            "\n\n".join(v.redacted for v in verdicts),
        )
        event = SecurityEvent(
            event_type=EventType.RETRIEVAL,
            verdict=combined.verdict,
            findings=list(combined.findings),
            documents=list(documents),
            **self.base_fields(ctx),
        )
        self.sink.emit([event])
        return replace(combined, event_id=event.event_id)

    def emit(self, events: Sequence[SecurityEvent]) -> None:
        self.sink.emit(events)

    def flush(self, timeout: float | None = None) -> bool:
        return self.sink.flush(timeout)

    def close(self) -> None:
        self.sink.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
