"""The same model call, sent through each door, is stored as the same events.

SDK (the OpenAI wrapper around a real ``openai.OpenAI`` client), HTTP (``POST /api/v1/events``),
OTLP (``POST /v1/traces`` in both GenAI dialects) and files (``garrison monitor ingest``) all land
in one database; per door, the stored flat events must be equal except for IDs and timestamps.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import openai
import orjson
import pytest
from fastapi.testclient import TestClient

from garrison.identity import Scope
from garrison.monitoring.content import Scanner
from garrison.monitoring.events import IngestSource
from garrison.monitoring.sdk import Guard, StoreSink
from garrison.monitoring.sdk.openai import monitor
from garrison.monitoring.store import EventFilter, list_events
from garrison.store import Store
from tests.monitoring.conftest import make_app
from tests.monitoring.support import POLICY, scan
from tests.web.auth import bearer, issue_token

PROMPT = "Hi, please send the invoice to alice@example.com today."
ANSWER = "Done: the invoice goes to alice@example.com within the hour."
VOLATILE = {"garrison.event.id", "timestamp", "garrison.correlation.id"}


def _stored(store: Store, correlation: str) -> tuple[dict[str, dict[str, Any]], set[IngestSource]]:
    with store.session() as session:
        found = list_events(session, EventFilter(correlation_id=correlation), oldest_first=True)
    by_type = {
        s.event.event_type.value: {k: v for k, v in s.event.to_flat().items() if k not in VOLATILE}
        for s in found
    }
    assert len(by_type) == len(found), "one event per type for one call"
    return by_type, {s.source for s in found}


def _with_correlation(events: list[dict[str, Any]], correlation: str) -> list[dict[str, Any]]:
    return [
        {
            **{k: v for k, v in e.items() if k != "garrison.event.id"},
            "garrison.correlation.id": correlation,
        }
        for e in events
    ]


def _sdk(store: Store, scanner: Scanner | None) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = orjson.loads(request.content)
        assert body["messages"][-1]["content"] == PROMPT
        return httpx2.Response(
            200,
            json={
                "id": "chatcmpl-9f2c1",
                "object": "chat.completion",
                "created": 1763630103,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": ANSWER},
                    }
                ],
                "usage": {"prompt_tokens": 21, "completion_tokens": 14, "total_tokens": 35},
            },
        )

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.openai.com/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    guard = Guard(
        app="support-bot",
        asset_id="asset-support-bot",
        sink=StoreSink(store, policy=POLICY, scanner=scanner),
        scanner=scanner,
    )
    monitor(client, guard)
    with guard.bind(user_id="u-1042", session_id="s-77", correlation_id="c-sdk"):
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You are the billing assistant."},
                {"role": "user", "content": PROMPT},
            ],
        )
    assert reply.choices[0].message.content == ANSWER


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def otlp_span(
    attributes: dict[str, Any],
    *,
    events: list[dict[str, Any]] | None = None,
    span_id: str = "eee19b7ec3c1b174",
) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        _attr("service.name", "support-bot"),
                        _attr("garrison.asset.id", "asset-support-bot"),
                    ]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "opentelemetry.instrumentation.openai"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": span_id,
                                "name": "chat gpt-4o-mini",
                                "kind": 3,
                                "startTimeUnixNano": "1763630102100000000",
                                "endTimeUnixNano": "1763630103400000000",
                                "attributes": [_attr(k, v) for k, v in attributes.items()],
                                "events": events or [],
                                "status": {},
                            }
                        ],
                    }
                ],
            }
        ]
    }


IDENTITY = {
    "user.id": "u-1042",
    "session.id": "s-77",
    "server.address": "api.openai.com",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-9f2c1",
    "gen_ai.response.finish_reasons": ["stop"],
}


def new_dialect(correlation: str) -> dict[str, Any]:
    return otlp_span(
        {
            **IDENTITY,
            "garrison.correlation.id": correlation,
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 21,
            "gen_ai.usage.output_tokens": 14,
            "gen_ai.input.messages": orjson.dumps(
                [
                    {
                        "role": "system",
                        "parts": [{"type": "text", "content": "You are the billing assistant."}],
                    },
                    {"role": "user", "parts": [{"type": "text", "content": PROMPT}]},
                ]
            ).decode(),
            "gen_ai.output.messages": orjson.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": ANSWER}],
                        "finish_reason": "stop",
                    }
                ]
            ).decode(),
        }
    )


def old_dialect(correlation: str) -> dict[str, Any]:
    return otlp_span(
        {
            **IDENTITY,
            "garrison.correlation.id": correlation,
            "gen_ai.system": "openai",
            "gen_ai.usage.prompt_tokens": 21,
            "gen_ai.usage.completion_tokens": 14,
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "You are the billing assistant.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": PROMPT,
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": ANSWER,
        },
        span_id="0000000000000002",
    )


def old_dialect_events(correlation: str) -> dict[str, Any]:
    """The oldest form: prompt and completion as span events, not attributes."""
    attrs = {
        **IDENTITY,
        "garrison.correlation.id": correlation,
        "gen_ai.system": "openai",
        "gen_ai.usage.prompt_tokens": 21,
        "gen_ai.usage.completion_tokens": 14,
    }
    return otlp_span(
        attrs,
        events=[
            {
                "timeUnixNano": "1763630102100000000",
                "name": "gen_ai.content.prompt",
                "attributes": [_attr("gen_ai.prompt", PROMPT)],
            },
            {
                "timeUnixNano": "1763630103400000000",
                "name": "gen_ai.content.completion",
                "attributes": [_attr("gen_ai.completion", ANSWER)],
            },
        ],
        span_id="0000000000000003",
    )


@pytest.mark.parametrize("detectors", ["test", "real"])
def test_every_door_stores_the_same_events(
    store: Store,
    interaction: list[dict[str, Any]],
    tmp_path: Path,
    garrison: Any,
    monkeypatch: pytest.MonkeyPatch,
    detectors: str,
) -> None:
    """With the deterministic test scanner, and with the real detector pipeline."""
    scanner: Scanner | None = scan if detectors == "test" else None
    app = make_app(store, scanner)
    # An application's credential: ingest only, as `garrison token create --scope ingest` gives.
    ingest = bearer(issue_token(store, (Scope.INGEST,), name="support-bot"))
    with TestClient(app, headers=ingest) as client:
        sent = client.post("/api/v1/events", json=_with_correlation(interaction, "c-http"))
        assert sent.status_code == 202, sent.text
        for correlation, build in (
            ("c-otlp-new", new_dialect),
            ("c-otlp-old", old_dialect),
            ("c-otlp-events", old_dialect_events),
        ):
            answer = client.post("/v1/traces", json=build(correlation))
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"partialSuccess": {}}

    _sdk(store, scanner)

    lines = b"".join(orjson.dumps(e) + b"\n" for e in _with_correlation(interaction, "c-file"))
    path = tmp_path / "events.jsonl"
    path.write_bytes(lines)
    monkeypatch.setenv("GARRISON_DATABASE_URL", store.url)
    monkeypatch.setenv("GARRISON_CONTENT_HMAC_KEY", POLICY.hmac_key.decode())
    if scanner is not None:
        monkeypatch.setattr("garrison.cli.monitor.scanner_for", lambda _content_dir: scan)
    result = garrison("monitor", "ingest", str(path))
    assert result.code == 0, result.err

    reference, sources = _stored(store, "c-http")
    assert sources == {IngestSource.HTTP}
    assert set(reference) == {"llm.request", "llm.response", "usage"}
    for correlation, source in (
        ("c-sdk", IngestSource.SDK),
        ("c-otlp-new", IngestSource.OTLP),
        ("c-otlp-old", IngestSource.OTLP),
        ("c-otlp-events", IngestSource.OTLP),
        ("c-file", IngestSource.FILE),
    ):
        stored, sources = _stored(store, correlation)
        assert sources == {source}
        assert stored == reference, correlation

    request = reference["llm.request"]
    assert "garrison.content.text" not in request  # not opted in: no raw prompt stored
    assert request["garrison.content.digest"] == POLICY.digest(PROMPT)
    assert "pii" in request["garrison.finding.categories"]
    assert request["garrison.category"] == "pii_detected"
    assert request["service.name"] == "support-bot"
    if detectors == "test":
        mask = "[EMAIL]"
        assert request["garrison.verdict"] == "flag"
        assert request["garrison.owasp.ids"] == ["LLM02:2025"]
    else:
        mask = "[REDACTED:pii:email]"
    assert request["garrison.content.preview"] == PROMPT.replace("alice@example.com", mask)
    assert reference["usage"]["gen_ai.usage.input_tokens"] == 21
    assert "alice@example.com" not in orjson.dumps(reference).decode()
