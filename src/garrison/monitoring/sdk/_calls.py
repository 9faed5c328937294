"""What the OpenAI and Anthropic wrappers share: check, call, check, record.

A wrapped call is recorded as the same ``llm.request`` / ``llm.response`` / ``usage`` events the
OTLP receiver derives from a GenAI span (both go through ``ModelCall``), plus a guardrail or
output-filter event when the Guard blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from garrison.core.timeutil import utcnow
from garrison.monitoring.detectors.base import Direction
from garrison.monitoring.events import EventType, GuardrailAction, SecurityEvent, new_event_id
from garrison.monitoring.ingest.calls import ModelCall, call_events
from garrison.monitoring.sdk.guard import CallContext, Guard, GuardBlocked, GuardVerdict

OnBlock = Literal["raise", "refuse"]
REFUSAL = "This request was blocked by the application's security policy."
T = TypeVar("T")


@dataclass(frozen=True)
class CallInfo:
    provider: str
    operation: str
    request_model: str | None
    input_text: str | None
    server_address: str | None
    server_port: int | None


@dataclass(frozen=True)
class ResultInfo:
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()
    output_text: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


def server_of(client: Any) -> tuple[str | None, int | None]:
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None)
    port = getattr(url, "port", None)
    return (
        host if isinstance(host, str) and host else None,
        port if isinstance(port, int) else None,
    )


def _events(
    guard: Guard,
    ctx: CallContext,
    info: CallInfo,
    *,
    started: datetime,
    result: ResultInfo,
    error_type: str | None = None,
    verdicts: tuple[GuardVerdict | None, GuardVerdict | None],
) -> list[SecurityEvent]:
    base = guard.base_fields(ctx)
    call = ModelCall(
        started=started,
        ended=utcnow(),
        provider=info.provider,
        operation=info.operation,
        request_model=info.request_model,
        response_model=result.response_model,
        response_id=result.response_id,
        finish_reasons=result.finish_reasons,
        input_text=info.input_text,
        output_text=result.output_text,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        error_type=error_type,
        user_id=ctx.user_id,
        session_id=ctx.session_id,
        conversation_id=ctx.conversation_id,
        service_name=guard.app,
        asset_id=guard.asset_id,
        org=base["org"],
        correlation_id=base["correlation_id"],
        server_address=info.server_address,
        server_port=info.server_port,
    )
    events: list[SecurityEvent] = []
    for flat, verdict in zip(call_events(call), (*verdicts, None), strict=False):
        event = SecurityEvent.from_flat({**flat, "garrison.event.id": new_event_id()})
        if verdict is not None:
            event = event.with_updates(findings=list(verdict.findings), verdict=verdict.verdict)
        events.append(event)
    return events


def _guardrail_event(
    guard: Guard, ctx: CallContext, kind: EventType, verdict: GuardVerdict, correlation: str
) -> SecurityEvent:
    return SecurityEvent(
        event_type=kind,
        guardrail_name="garrison",
        guardrail_layer="input" if kind is EventType.GUARDRAIL_EVALUATION else "output",
        guardrail_action=GuardrailAction.BLOCK,
        guardrail_reason=verdict.reason,
        verdict=verdict.verdict,
        findings=list(verdict.findings),
        **{**guard.base_fields(ctx), "correlation_id": correlation},
    )


StreamWrapper = Callable[[T, Callable[[ResultInfo], object]], T]
"""Wraps a provider's stream so that ``done(result)`` is called once it has been consumed."""


def monitored_call(
    guard: Guard,
    info: CallInfo,
    call: Callable[[], T],
    read: Callable[[T], ResultInfo],
    *,
    on_block: OnBlock,
    refuse: Callable[[str], T] | None,
    user_id: str | None = None,
    wrap_stream: StreamWrapper[T] | None = None,
) -> T:
    """Run ``call`` between an input and an output check, recording it as events.

    With ``wrap_stream`` the answer is a stream: it is handed to the application as it arrives,
    and checked and recorded when the application has read it to the end. Its text has already
    been shown by then, so a block there is recorded, not enforced.
    """
    ctx = guard.current(user_id=user_id)
    ctx = replace(ctx, correlation_id=ctx.correlation_id or new_event_id())
    correlation = str(ctx.correlation_id)
    started = utcnow()
    checked_in = (
        None if info.input_text is None else guard.evaluate(info.input_text, Direction.INPUT)
    )
    if checked_in is not None and checked_in.blocked:
        request = _events(
            guard, ctx, info, started=started, result=ResultInfo(), verdicts=(checked_in, None)
        )[0]
        blocked = _guardrail_event(
            guard, ctx, EventType.GUARDRAIL_EVALUATION, checked_in, correlation
        )
        guard.emit([request, blocked])
        if on_block == "refuse" and refuse is not None:
            return refuse(REFUSAL)
        raise GuardBlocked(checked_in, "input")
    try:
        response = call()
    except Exception as exc:
        guard.emit(
            _events(
                guard,
                ctx,
                info,
                started=started,
                result=ResultInfo(),
                error_type=type(exc).__name__,
                verdicts=(checked_in, None),
            )
        )
        raise

    def record(result: ResultInfo) -> GuardVerdict | None:
        checked_out = (
            None
            if result.output_text is None
            else guard.evaluate(result.output_text, Direction.OUTPUT)
        )
        events = _events(
            guard, ctx, info, started=started, result=result, verdicts=(checked_in, checked_out)
        )
        if checked_out is not None and checked_out.blocked:
            events.append(
                _guardrail_event(
                    guard, ctx, EventType.OUTPUT_FILTER_ACTION, checked_out, correlation
                )
            )
        guard.emit(events)
        return checked_out

    if wrap_stream is not None:
        return wrap_stream(response, record)
    checked_out = record(read(response))
    if checked_out is not None and checked_out.blocked:
        if on_block == "refuse" and refuse is not None:
            return refuse(REFUSAL)
        raise GuardBlocked(checked_out, "output")
    return response


class StreamState:
    """What is gathered from a stream's chunks, for the events recorded at its end."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: list[str] = []
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def result(self) -> ResultInfo:
        text = "".join(self.texts)
        return ResultInfo(
            response_model=self.response_model,
            response_id=self.response_id,
            finish_reasons=tuple(self.finish_reasons),
            output_text=text or None,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )


class MonitoredStream:
    """Passes a provider's stream through unchanged, noting what it carries.

    ``done`` runs once: when the stream is exhausted, closed, or left (``with`` block), whichever
    comes first. Everything else (``response``, ``close``...) is the wrapped stream's own.
    """

    def __init__(
        self,
        stream: Any,
        collect: Callable[[Any, StreamState], None],
        done: Callable[[ResultInfo], object],
    ) -> None:
        self._stream = stream
        self._collect = collect
        self._done = done
        self._state = StreamState()
        self._finished = False

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._done(self._state.result())

    def __iter__(self) -> Iterator[Any]:
        try:
            for chunk in self._stream:
                self._collect(chunk, self._state)
                yield chunk
        finally:
            self._finish()

    def __enter__(self) -> MonitoredStream:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if callable(close):
                close()
        finally:
            self._finish()

    def close(self) -> None:
        self.__exit__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def stream_wrapper(collect: Callable[[Any, StreamState], None]) -> StreamWrapper[Any]:
    def wrap(stream: Any, done: Callable[[ResultInfo], object]) -> Any:
        return MonitoredStream(stream, collect, done)

    return wrap
