"""Monitor an OpenAI client with one line: ``client = monitor(OpenAI(), guard)``.

Wraps ``client.chat.completions.create`` and ``client.responses.create``: the prompt is checked
before the call (a block raises ``GuardBlocked``, or returns a refusal with ``on_block="refuse"``),
the answer after it, and the call is recorded as ``llm.request`` / ``llm.response`` / ``usage``
events. The ``openai`` package is only needed by the client being wrapped, not to import this.

Streamed chat completions (``stream=True``) reach the application chunk by chunk as usual; their
text is checked and recorded once the stream has been read (a block there is recorded, since the
text was already shown). Streamed ``responses.create`` calls are checked on input only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from garrison.monitoring.ingest.calls import INPUT_ROLES, message_text
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

PROVIDER = "openai"
ClientT = TypeVar("ClientT")
USER_ROLES: frozenset[str | None] = frozenset({"user"})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _user(kwargs: Mapping[str, Any]) -> str | None:
    for key in ("safety_identifier", "user"):
        value = kwargs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _chat_result(response: Any) -> ResultInfo:
    choices = getattr(response, "choices", None) or []
    texts = [
        c.message.content
        for c in choices
        if getattr(getattr(c, "message", None), "content", None) is not None
    ]
    usage = getattr(response, "usage", None)
    return ResultInfo(
        response_model=getattr(response, "model", None),
        response_id=getattr(response, "id", None),
        finish_reasons=tuple(
            str(c.finish_reason) for c in choices if getattr(c, "finish_reason", None)
        ),
        output_text="\n\n".join(texts) if texts else None,
        input_tokens=_int(getattr(usage, "prompt_tokens", None)),
        output_tokens=_int(getattr(usage, "completion_tokens", None)),
    )


def _responses_result(response: Any) -> ResultInfo:
    usage = getattr(response, "usage", None)
    text = getattr(response, "output_text", None)
    status = getattr(response, "status", None)
    return ResultInfo(
        response_model=getattr(response, "model", None),
        response_id=getattr(response, "id", None),
        finish_reasons=(str(status),) if status else (),
        output_text=text if isinstance(text, str) and text else None,
        input_tokens=_int(getattr(usage, "input_tokens", None)),
        output_tokens=_int(getattr(usage, "output_tokens", None)),
    )


def _collect_chat_chunk(chunk: Any, state: StreamState) -> None:
    state.response_id = state.response_id or getattr(chunk, "id", None)
    state.response_model = state.response_model or getattr(chunk, "model", None)
    for choice in getattr(chunk, "choices", None) or []:
        content = getattr(getattr(choice, "delta", None), "content", None)
        if isinstance(content, str):
            state.texts.append(content)
        if getattr(choice, "finish_reason", None):
            state.finish_reasons.append(str(choice.finish_reason))
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        state.input_tokens = _int(getattr(usage, "prompt_tokens", None))
        state.output_tokens = _int(getattr(usage, "completion_tokens", None))


def _chat_refusal(model: str | None) -> Any:
    def refuse(text: str) -> Any:
        from openai.types.chat import ChatCompletion

        return ChatCompletion.model_validate(
            {
                "id": f"garrison-refusal-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model or "unknown",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "content_filter",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
            }
        )

    return refuse


def monitor(client: ClientT, guard: Guard, *, on_block: OnBlock = "raise") -> ClientT:
    """Wrap ``client`` (an ``openai.OpenAI``) in place and return it."""
    host, port = server_of(client)
    chat = getattr(getattr(client, "chat", None), "completions", None)
    if chat is not None and not getattr(chat.create, "__garrison__", False):
        original_chat = chat.create

        def chat_create(*args: Any, **kwargs: Any) -> Any:
            model = kwargs.get("model")
            info = CallInfo(
                PROVIDER,
                "chat",
                model,
                message_text(kwargs.get("messages"), USER_ROLES),
                host,
                port,
            )
            if kwargs.get("stream"):
                return monitored_call(
                    guard,
                    info,
                    lambda: original_chat(*args, **kwargs),
                    lambda _: ResultInfo(),
                    on_block=on_block,
                    refuse=None,
                    user_id=_user(kwargs),
                    wrap_stream=stream_wrapper(_collect_chat_chunk),
                )
            return monitored_call(
                guard,
                info,
                lambda: original_chat(*args, **kwargs),
                _chat_result,
                on_block=on_block,
                refuse=_chat_refusal(model),
                user_id=_user(kwargs),
            )

        chat_create.__garrison__ = True  # type: ignore[attr-defined]
        chat.create = chat_create
    responses = getattr(client, "responses", None)
    if responses is not None and not getattr(responses.create, "__garrison__", False):
        original_responses = responses.create

        def responses_create(*args: Any, **kwargs: Any) -> Any:
            info = CallInfo(
                PROVIDER,
                "chat",
                kwargs.get("model"),
                message_text(kwargs.get("input"), INPUT_ROLES),
                host,
                port,
            )
            read = (lambda _: ResultInfo()) if kwargs.get("stream") else _responses_result
            return monitored_call(
                guard,
                info,
                lambda: original_responses(*args, **kwargs),
                read,
                on_block=on_block,
                refuse=None,
                user_id=_user(kwargs),
            )

        responses_create.__garrison__ = True  # type: ignore[attr-defined]
        responses.create = responses_create
    return client
