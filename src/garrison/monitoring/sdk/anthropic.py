"""Monitor an Anthropic client with one line: ``client = monitor(Anthropic(), guard)``.

Wraps ``client.messages.create`` like the OpenAI wrapper: check the prompt, call, check the
answer, record ``llm.request`` / ``llm.response`` / ``usage``. The ``system`` prompt is the
application's own and is not scanned as user input. Streamed calls (``stream=True``) reach the
application event by event as usual; their text is checked and recorded once the stream has been
read (a block there is recorded, since the text was already shown).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from garrison.monitoring.ingest.calls import message_text
from garrison.monitoring.sdk._calls import (
    CallInfo,
    OnBlock,
    ResultInfo,
    StreamState,
    monitored_call,
    server_of,
    stream_wrapper,
)
from garrison.monitoring.sdk.guard import Guard

PROVIDER = "anthropic"
ClientT = TypeVar("ClientT")
USER_ROLES: frozenset[str | None] = frozenset({"user"})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _user(kwargs: Mapping[str, Any]) -> str | None:
    metadata = kwargs.get("metadata")
    value = metadata.get("user_id") if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) and value else None


def _result(response: Any) -> ResultInfo:
    blocks = getattr(response, "content", None) or []
    texts = [
        b.text for b in blocks if getattr(b, "type", None) == "text" and isinstance(b.text, str)
    ]
    usage = getattr(response, "usage", None)
    stop = getattr(response, "stop_reason", None)
    return ResultInfo(
        response_model=getattr(response, "model", None),
        response_id=getattr(response, "id", None),
        finish_reasons=(str(stop),) if stop else (),
        output_text="\n\n".join(texts) if texts else None,
        input_tokens=_int(getattr(usage, "input_tokens", None)),
        output_tokens=_int(getattr(usage, "output_tokens", None)),
    )


def _collect_event(event: Any, state: StreamState) -> None:
    kind = getattr(event, "type", None)
    if kind == "message_start":
        message = getattr(event, "message", None)
        state.response_id = getattr(message, "id", None)
        state.response_model = getattr(message, "model", None)
        state.input_tokens = _int(getattr(getattr(message, "usage", None), "input_tokens", None))
    elif kind == "content_block_delta":
        text = getattr(getattr(event, "delta", None), "text", None)
        if isinstance(text, str):
            state.texts.append(text)
    elif kind == "message_delta":
        stop = getattr(getattr(event, "delta", None), "stop_reason", None)
        if stop:
            state.finish_reasons.append(str(stop))
        output = _int(getattr(getattr(event, "usage", None), "output_tokens", None))
        state.output_tokens = output if output is not None else state.output_tokens


def _refusal(model: str | None) -> Any:
    def refuse(text: str) -> Any:
        from anthropic.types import Message

        return Message.model_validate(
            {
                "id": f"msg_garrison_{uuid.uuid4().hex}",
                "type": "message",
                "role": "assistant",
                "model": model or "unknown",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "refusal",
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
        )

    return refuse


def monitor(client: ClientT, guard: Guard, *, on_block: OnBlock = "raise") -> ClientT:
    """Wrap ``client`` (an ``anthropic.Anthropic``) in place and return it."""
    host, port = server_of(client)
    messages = getattr(client, "messages", None)
    if messages is None or getattr(messages.create, "__garrison__", False):
        return client
    original = messages.create

    def create(*args: Any, **kwargs: Any) -> Any:
        model = kwargs.get("model")
        info = CallInfo(
            PROVIDER, "chat", model, message_text(kwargs.get("messages"), USER_ROLES), host, port
        )
        streaming = bool(kwargs.get("stream"))
        return monitored_call(
            guard,
            info,
            lambda: original(*args, **kwargs),
            (lambda _: ResultInfo()) if streaming else _result,
            on_block=on_block,
            refuse=None if streaming else _refusal(model),
            user_id=_user(kwargs),
            wrap_stream=stream_wrapper(_collect_event) if streaming else None,
        )

    create.__garrison__ = True  # type: ignore[attr-defined]
    messages.create = create
    return client
