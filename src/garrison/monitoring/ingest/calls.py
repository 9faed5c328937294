"""One model call, however it was observed, as the events Garrison stores for it.

The SDK wrappers see a call from inside the application; the OTLP receiver sees it as a span. Both
describe it as a ``ModelCall`` and turn it into events here, so the same call is stored as the
same ``llm.request``, ``llm.response`` and ``usage`` events whichever way it arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from garrison.monitoring.events import EventType


@dataclass(frozen=True)
class ModelCall:
    started: datetime
    ended: datetime
    provider: str | None = None
    operation: str | None = "chat"
    request_model: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()
    input_text: str | None = None
    output_text: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: Decimal | None = None
    currency: str | None = None
    error_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    agent_name: str | None = None
    service_name: str | None = None
    asset_id: str | None = None
    org: str | None = None
    correlation_id: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    request_attributes: Mapping[str, Any] = field(default_factory=dict)
    """Other flat attributes of the request (``gen_ai.request.temperature``, ...)."""


def _compact(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in items if v is not None and not (isinstance(v, list | tuple) and not v)}


def call_events(call: ModelCall) -> list[dict[str, Any]]:
    """The flat events for ``call``: a request, a response, and usage when tokens or cost are known.

    Timestamps and IDs are left to the caller's door (``timestamp`` is the call's start for the
    request and its end for the others); event IDs are not set here.
    """
    common = _compact(
        [
            ("service.name", call.service_name),
            ("garrison.asset.id", call.asset_id),
            ("garrison.org", call.org),
            ("garrison.correlation.id", call.correlation_id),
            ("user.id", call.user_id),
            ("session.id", call.session_id),
            ("gen_ai.conversation.id", call.conversation_id),
            ("gen_ai.agent.name", call.agent_name),
            ("gen_ai.provider.name", call.provider),
            ("gen_ai.operation.name", call.operation),
            ("gen_ai.request.model", call.request_model),
            ("server.address", call.server_address),
            ("server.port", call.server_port),
        ]
    )
    request = {
        **dict(call.request_attributes),
        **common,
        "garrison.event.type": EventType.LLM_REQUEST.value,
        "timestamp": call.started.isoformat(),
        **_compact([("garrison.content.text", call.input_text)]),
    }
    response = {
        **common,
        "garrison.event.type": EventType.LLM_RESPONSE.value,
        "timestamp": call.ended.isoformat(),
        **_compact(
            [
                ("gen_ai.response.model", call.response_model),
                ("gen_ai.response.id", call.response_id),
                ("gen_ai.response.finish_reasons", list(call.finish_reasons) or None),
                ("error.type", call.error_type),
                ("garrison.content.text", call.output_text),
            ]
        ),
    }
    events = [request, response]
    if call.input_tokens is not None or call.output_tokens is not None or call.cost is not None:
        events.append(
            {
                **common,
                "garrison.event.type": EventType.USAGE.value,
                "timestamp": call.ended.isoformat(),
                **_compact(
                    [
                        ("gen_ai.response.model", call.response_model),
                        ("gen_ai.usage.input_tokens", call.input_tokens),
                        ("gen_ai.usage.output_tokens", call.output_tokens),
                        ("garrison.usage.cost", None if call.cost is None else str(call.cost)),
                        ("garrison.usage.currency", call.currency),
                    ]
                ),
            }
        )
    return events


def message_text(messages: Any, roles: frozenset[str | None]) -> str | None:
    """The text of the messages whose role is in ``roles``, joined by blank lines.

    Reads both message shapes in use: the provider APIs' ``{"role", "content": str | [parts]}``
    (parts ``{"type": "text", "text": ...}``) and OTel GenAI's ``{"role", "parts": [{"type":
    "text", "content": ...}]}``. A bare string is a message of unknown role.
    """
    if isinstance(messages, str):
        return messages if None in roles else None
    if isinstance(messages, Mapping):
        messages = [messages]
    if not isinstance(messages, list):
        return None
    texts: list[str] = []
    for message in messages:
        if isinstance(message, str):
            if None in roles:
                texts.append(message)
            continue
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role not in roles:
            continue
        texts.extend(_parts_text(message.get("content")))
        texts.extend(_parts_text(message.get("parts")))
    joined = "\n\n".join(t for t in texts if t)
    return joined or None


def _parts_text(parts: Any) -> list[str]:
    if isinstance(parts, str):
        return [parts]
    if not isinstance(parts, list):
        return []
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mapping) and part.get("type") in (
            "text",
            "input_text",
            "output_text",
        ):
            text = part.get("text", part.get("content"))
            if isinstance(text, str):
                out.append(text)
    return out


INPUT_ROLES: frozenset[str | None] = frozenset({"user", None})
OUTPUT_ROLES: frozenset[str | None] = frozenset({"assistant", "model", None})
