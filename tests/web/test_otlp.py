"""The OTLP/HTTP JSON receiver: GenAI spans, span events, log records and guardrail findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from garrison.monitoring.store import EventFilter, list_events
from garrison.store import Store, open_store
from garrison.web.server import run_in_thread
from tests.monitoring.conftest import make_app
from tests.monitoring.test_end_to_end import _attr, new_dialect, otlp_span
from tests.web.auth import admin_headers


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def client(sqlite_store: Store) -> Iterator[TestClient]:
    with TestClient(make_app(sqlite_store), headers=admin_headers(sqlite_store)) as test_client:
        yield test_client


def _events(store: Store, **filters: Any) -> list[dict[str, Any]]:
    with store.session() as session:
        return [
            s.event.to_flat()
            for s in list_events(session, EventFilter(**filters), oldest_first=True)
        ]


def guardrail_span() -> dict[str, Any]:
    finding = {
        "timeUnixNano": "1763630102200000000",
        "name": "gen_ai.guardrail.security.finding",
        "attributes": [
            _attr("gen_ai.security.risk.category", "LLM01:2025"),
            _attr("gen_ai.security.risk.severity", "high"),
            {"key": "gen_ai.security.risk.score", "value": {"doubleValue": 0.97}},
        ],
    }
    leak = {
        "timeUnixNano": "1763630102200000000",
        "name": "gen_ai.guardrail.security.finding",
        "attributes": [_attr("gen_ai.security.risk.category", "LLM07")],
    }
    return otlp_span(
        {
            "gen_ai.operation.name": "apply_guardrail",
            "gen_ai.guardrail.name": "Azure Content Safety",
            "gen_ai.security.decision.type": "deny",
            "gen_ai.security.decision.reason": "Blocked by policy",
            "gen_ai.security.target.type": "llm_input",
            "user.id": "u-5",
        },
        events=[finding, leak],
        span_id="00000000000000aa",
    )


def test_a_genai_span_becomes_request_response_and_usage(
    store: Store,
) -> None:
    with TestClient(make_app(store), headers=admin_headers(store)) as client:
        answer = client.post("/v1/traces", json=new_dialect("c-1"))
        assert answer.json() == {"partialSuccess": {}}
        again = client.post("/v1/traces", json=new_dialect("c-1"))
        assert again.status_code == 200
    stored = _events(store, correlation_id="c-1")
    assert [e["garrison.event.type"] for e in stored] == ["llm.request", "llm.response", "usage"]
    assert stored[0]["timestamp"] < stored[1]["timestamp"]


def test_guardrail_spans_and_security_findings(client: TestClient, sqlite_store: Store) -> None:
    assert client.post("/v1/traces", json=guardrail_span()).json() == {"partialSuccess": {}}
    (event,) = _events(sqlite_store, user_id="u-5")
    assert event["garrison.event.type"] == "guardrail.evaluation"
    assert event["garrison.guardrail.action"] == "block"
    assert event["garrison.guardrail.name"] == "Azure Content Safety"
    assert event["garrison.category"] == "guardrail_block"
    assert event["garrison.owasp.ids"] == ["LLM01:2025", "LLM07:2025"]
    assert event["garrison.finding.categories"] == ["prompt_injection", "system_prompt_leak"]
    assert event["garrison.findings"][0]["score"] == 0.97
    assert event["garrison.severity"] == "high"


def test_log_records_in_both_dialects_and_garrison_form(
    client: TestClient, sqlite_store: Store
) -> None:
    def record(name: str, attrs: list[dict[str, Any]], body: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "timeUnixNano": "1763630102100000000",
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "eventName": name,
            "attributes": attrs,
        }
        if body is not None:
            out["body"] = body
        return out

    payload = {
        "resourceLogs": [
            {
                "resource": {"attributes": [_attr("service.name", "support-bot")]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            record(
                                "gen_ai.user.message",
                                [_attr("gen_ai.system", "openai"), _attr("user.id", "u-7")],
                                {"kvlistValue": {"values": [_attr("content", "hello there")]}},
                            ),
                            record(
                                "gen_ai.choice",
                                [_attr("gen_ai.system", "openai"), _attr("user.id", "u-7")],
                                {
                                    "kvlistValue": {
                                        "values": [
                                            _attr("finish_reason", "stop"),
                                            {
                                                "key": "message",
                                                "value": {
                                                    "kvlistValue": {
                                                        "values": [
                                                            _attr(
                                                                "content", "hi, mail me at x@y.io"
                                                            )
                                                        ]
                                                    }
                                                },
                                            },
                                        ]
                                    }
                                },
                            ),
                            {
                                "timeUnixNano": "1763630109000000000",
                                "attributes": [
                                    _attr("garrison.event.type", "auth.failure"),
                                    _attr("user.id", "u-7"),
                                    _attr("error.type", "invalid_api_key"),
                                ],
                                "body": {"stringValue": "bad key"},
                            },
                            {
                                "timeUnixNano": "1763630109000000000",
                                "attributes": [
                                    _attr("garrison.event.type", "auth.failure"),
                                    _attr("garrison.severity", "doom"),
                                ],
                            },
                            {
                                "timeUnixNano": "1763630109000000000",
                                "body": {"stringValue": "GET /"},
                            },
                        ]
                    }
                ],
            }
        ]
    }
    answer = client.post("/v1/logs", json=payload)
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "1"
    assert "garrison.severity" in partial["errorMessage"]
    stored = _events(sqlite_store, user_id="u-7")
    assert [e["garrison.event.type"] for e in stored] == [
        "llm.request",
        "llm.response",
        "auth.failure",
    ]
    assert stored[1]["garrison.category"] == "pii_detected"
    assert stored[1]["gen_ai.response.finish_reasons"] == ["stop"]
    assert stored[2]["garrison.description"] == "bad key"
    assert stored[2]["service.name"] == "support-bot"


def test_protobuf_is_refused_with_415_saying_json_only(client: TestClient) -> None:
    answer = client.post(
        "/v1/traces", content=b"\x0a\x00", headers={"content-type": "application/x-protobuf"}
    )
    assert answer.status_code == 415
    assert "JSON only" in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{nope", "not valid JSON"), (b'{"resourceSpans": 3}', "resourceSpans")],
)
def test_malformed_payloads_get_400(client: TestClient, body: bytes, message: str) -> None:
    answer = client.post("/v1/traces", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert answer.json()["code"] == 3


def test_spans_without_time_and_deep_values_are_counted_as_rejected(client: TestClient) -> None:
    deep: dict[str, Any] = {"stringValue": "x"}
    for _ in range(20):
        deep = {"arrayValue": {"values": [deep]}}
    payload = new_dialect("c-2")
    spans = payload["resourceSpans"][0]["scopeSpans"][0]["spans"]
    no_time = {**spans[0], "spanId": "0000000000000009"}
    del no_time["startTimeUnixNano"], no_time["endTimeUnixNano"]
    nested = {**spans[0], "spanId": "0000000000000008"}
    nested["attributes"] = [*nested["attributes"], {"key": "gen_ai.request.deep", "value": deep}]
    spans.extend([no_time, nested])
    answer = client.post("/v1/traces", json=payload)
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "startTimeUnixNano" in partial["errorMessage"]
    assert "nested deeper" in partial["errorMessage"]


def test_otlp_over_real_http(sqlite_store: Store) -> None:
    with (
        run_in_thread(make_app(sqlite_store)) as url,
        httpx.Client(base_url=url, headers=admin_headers(sqlite_store)) as http,
    ):
        answer = http.post("/v1/traces", json=guardrail_span())
        assert answer.status_code == 200
        assert answer.json() == {"partialSuccess": {}}
    assert len(_events(sqlite_store, user_id="u-5")) == 1
