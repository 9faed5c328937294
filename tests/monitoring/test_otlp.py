"""OTLP JSON to Garrison events, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.monitoring.ingest.otlp import (
    OtlpError,
    any_value,
    logs_to_submissions,
    traces_to_submissions,
)
from tests.monitoring.test_end_to_end import (
    ANSWER,
    PROMPT,
    _attr,
    new_dialect,
    old_dialect,
    old_dialect_events,
    otlp_span,
)


def _data(conversion: Any) -> list[dict[str, Any]]:
    return [s.data for s in conversion.submissions]


def test_any_value_decodes_every_kind() -> None:
    assert any_value({"stringValue": "a"}) == "a"
    assert any_value({"intValue": "9007199254740993"}) == 9007199254740993
    assert any_value({"intValue": 3}) == 3
    assert any_value({"doubleValue": 0.5}) == 0.5
    assert any_value({"boolValue": True}) is True
    assert any_value({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "b"}]}}) == [
        1,
        "b",
    ]
    assert any_value({"kvlistValue": {"values": [_attr("k", "v")]}}) == {"k": "v"}
    assert any_value({"bytesValue": "AQI="}) == "0102"
    assert any_value({"intValue": "12abc"}) is None
    deep: dict[str, Any] = {"stringValue": "x"}
    for _ in range(10):
        deep = {"arrayValue": {"values": [deep]}}
    with pytest.raises(OtlpError, match="nested deeper"):
        any_value(deep)


@pytest.mark.parametrize("build", [new_dialect, old_dialect, old_dialect_events])
def test_both_dialects_give_the_same_events(build: Any) -> None:
    events = _data(traces_to_submissions(build("c-1")))
    reference = _data(traces_to_submissions(new_dialect("c-1")))

    def strip(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if k != "garrison.event.id"}

    assert [strip(e) for e in events] == [strip(e) for e in reference]
    request, response, usage = events
    assert request["garrison.content.text"] == PROMPT  # the system message is not user input
    assert response["garrison.content.text"] == ANSWER
    assert usage["gen_ai.usage.output_tokens"] == 14
    assert request["gen_ai.provider.name"] == "openai"


def test_ids_are_stable_for_a_resent_span_and_trace_id_correlates() -> None:
    payload = otlp_span({"gen_ai.system": "openai", "gen_ai.prompt": "hi"})
    first = _data(traces_to_submissions(payload))
    assert first == _data(traces_to_submissions(payload))
    assert first[0]["garrison.correlation.id"] == "5b8efff798038103d269b633813fc60c"


def test_content_attributes_never_pass_through_unprotected() -> None:
    payload = otlp_span(
        {
            "gen_ai.system": "openai",
            "gen_ai.request.temperature": "0.2",
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.messages_raw": "secret prompt",
            "gen_ai.system_instructions": "the system prompt",
            "http.url": "https://x/?token=abc",
        }
    )
    (request, _response) = _data(traces_to_submissions(payload))
    assert request["gen_ai.request.temperature"] == "0.2"
    assert request["gen_ai.request.max_tokens"] == 100
    assert "gen_ai.request.messages_raw" not in request
    assert "gen_ai.system_instructions" not in request
    assert "http.url" not in request


def test_tool_spans_become_tool_calls() -> None:
    payload = otlp_span(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "search_kb",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"q": "refunds"}',
            "gen_ai.tool.call.result": "Refunds take 5 days.",
        }
    )
    payload["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"] = {"code": 2}
    (tool,) = _data(traces_to_submissions(payload))
    assert tool["garrison.event.type"] == "tool.call"
    assert tool["gen_ai.tool.name"] == "search_kb"
    assert tool["garrison.tool.status"] == "error"
    assert tool["garrison.tool.arguments"] == '{"q": "refunds"}'
    assert tool["garrison.content.text"] == "Refunds take 5 days."


def test_spans_that_are_not_genai_are_ignored() -> None:
    payload = otlp_span({"http.request.method": "GET"})
    conversion = traces_to_submissions(payload)
    assert conversion.items == 1
    assert conversion.submissions == []


def test_payloads_that_are_not_otlp_are_refused() -> None:
    with pytest.raises(OtlpError):
        traces_to_submissions([1, 2])
    with pytest.raises(OtlpError):
        logs_to_submissions({"resourceLogs": "x"})
    assert logs_to_submissions({}).submissions == []


def test_inference_details_log_event_reads_like_a_span() -> None:
    record = {
        "timeUnixNano": "1763630102100000000",
        "eventName": "gen_ai.client.inference.operation.details",
        "attributes": [
            _attr("gen_ai.provider.name", "anthropic"),
            _attr("gen_ai.request.model", "claude"),
            _attr(
                "gen_ai.input.messages",
                '[{"role": "user", "parts": [{"type": "text", "content": "hey"}]}]',
            ),
            _attr(
                "gen_ai.output.messages",
                '[{"role": "assistant", "parts": [{"type": "text", "content": "yo"}]}]',
            ),
            _attr("gen_ai.usage.input_tokens", 3),
        ],
    }
    payload = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    events = _data(logs_to_submissions(payload))
    assert [e["garrison.event.type"] for e in events] == ["llm.request", "llm.response", "usage"]
    assert events[0]["garrison.content.text"] == "hey"
    assert events[1]["garrison.content.text"] == "yo"
