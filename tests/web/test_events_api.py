"""``POST /api/v1/events`` and reading events back, against the real app.

Bad items are refused with the key and the reason while the good ones of the same body are kept;
bodies over the limit get 413 while still streaming; nothing accepted is ever lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from garrison.core.settings import Settings
from garrison.monitoring.events import MAX_CONTENT_CHARS
from garrison.monitoring.store import count_events
from garrison.store import Store, open_store
from garrison.web.server import run_in_thread
from tests.monitoring.conftest import make_app, sample_events
from tests.web.auth import admin_headers

EVENT = {
    "garrison.event.type": "llm.request",
    "timestamp": "2026-11-20T09:15:02Z",
    "user.id": "u-1",
    "session.id": "s-1",
    "garrison.content.text": "Write to bob@example.org please",
}


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


def _count(store: Store) -> int:
    with store.session() as session:
        return count_events(session)


def test_a_batch_with_bad_items_keeps_the_good_ones(store: Store) -> None:
    batch: list[Any] = [
        EVENT,
        {**EVENT, "timestamp": "2026-11-20T09:15:02"},
        {**EVENT, "garrison.event.type": "llm.telepathy"},
        {**EVENT, "gen_ai.usage.input_tokens": "lots", "user.id": "u-2"},
        "not an object",
        {**EVENT, "user.id": "u-3"},
    ]
    with TestClient(make_app(store), headers=admin_headers(store)) as client:
        answer = client.post("/api/v1/events", json=batch)
    assert answer.status_code == 422
    report = answer.json()
    assert (report["accepted"], report["rejected"]) == (2, 4)
    assert "the other 2 were kept" in report["error"]
    items = report["items"]
    assert [i["status"] for i in items] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert items[1]["errors"] == [
        {
            "field": "timestamp",
            "reason": "timestamp has no timezone; send UTC, e.g. 2026-01-31T12:00:00Z",
        }
    ]
    assert items[2]["errors"][0]["field"] == "garrison.event.type"
    assert items[3]["errors"][0]["field"] == "gen_ai.usage.input_tokens"
    assert "JSON object" in items[4]["errors"][0]["reason"]
    assert _count(store) == 2


def test_one_event_is_accepted_and_can_be_read_back(client: TestClient) -> None:
    answer = client.post("/api/v1/events", json=EVENT)
    assert answer.status_code == 202
    event_id = answer.json()["items"][0]["event_id"]
    again = client.post("/api/v1/events", json=EVENT)
    assert again.json()["duplicates"] == 1  # same submission, same derived ID: not stored twice
    one = client.get(f"/api/v1/events/{event_id}").json()
    assert one["source"] == "http"
    assert one["event"]["garrison.content.preview"] == "Write to [EMAIL] please"
    assert "garrison.content.text" not in one["event"]
    listed = client.get("/api/v1/events", params={"user": "u-1", "category": "pii_detected"})
    assert listed.json()["count"] == 1
    assert client.get("/api/v1/events/nope").status_code == 404


def test_json_lines_report_the_line_of_each_bad_item(client: TestClient) -> None:
    body = b"\n".join(
        [orjson.dumps(sample_events()[0]), b"", b"{not json", b'{"garrison.event.type": "usage"}']
    )
    answer = client.post(
        "/api/v1/events", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert answer.status_code == 422
    items = answer.json()["items"]
    assert [(i["line"], i["status"]) for i in items] == [
        (1, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
    ]
    assert items[1]["errors"][0]["reason"].startswith("not valid JSON")
    jsonl = client.post(
        "/api/v1/events", content=body, headers={"content-type": "application/jsonl"}
    )
    # The event with a timestamp is recognised; the one without gets the time of receipt, so
    # it cannot be told apart from a new one.
    assert (jsonl.json()["duplicates"], jsonl.json()["accepted"]) == (1, 1)


def test_the_whole_sample_stream_is_accepted(client: TestClient) -> None:
    answer = client.post("/api/v1/events", json=sample_events())
    assert answer.status_code == 202, answer.text
    categories = {
        e["event"].get("garrison.category")
        for e in client.get("/api/v1/events", params={"limit": 100}).json()["events"]
    }
    assert {
        "guardrail_block",
        "output_filter_block",
        "tool_abuse_attempt",
        "auth_failure",
        "rate_limit_hit",
        "anomalous_pattern",
        "pii_detected",
    } <= categories


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"garrison.event.type": ', "not valid JSON"),
        (b'"just a string"', "JSON object"),
        (b'{"garrison.event.type": "usage", "user.id": "\xff\xfe"}', "UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "not valid JSON"),
    ],
)
def test_unreadable_bodies_are_refused_with_the_reason(
    client: TestClient, sqlite_store: Store, body: bytes, reason: str
) -> None:
    answer = client.post(
        "/api/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert reason in answer.json()["error"]
    assert _count(sqlite_store) == 0


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"garrison.content.text": "x" * (MAX_CONTENT_CHARS + 1)},
            "garrison.content.text",
            "at most",
        ),
        ({"user.id": "u" * 300}, "user.id", "at most 256"),
        ({"http.route": {"a": {"b": {"c": 1}}}}, "http.route", "nested"),
        ({"http.tags": [[1, [2, [3]]]]}, "http.tags", "nested"),
        ({"garrison.severity": "apocalyptic"}, "garrison.severity", "Input should be"),
        ({"garrison.asset": "a-1"}, "garrison.asset", "did you mean 'garrison.asset.id'"),
        ({"session.id": "s\u0000"}, "session.id", "control characters"),
        ({"x.big": "y" * 10_000}, "x.big", "at most 8192"),
        (
            {"garrison.findings": [{"detector_id": "d", "category": "c", "score": 7}]},
            "garrison.findings[0].score",
            "less than or equal to 1",
        ),
    ],
)
def test_hostile_fields_are_refused_with_field_and_reason(
    client: TestClient, sqlite_store: Store, change: dict[str, Any], field: str, reason: str
) -> None:
    answer = client.post(
        "/api/v1/events", json=[EVENT, {**EVENT, **change, "user.id": change.get("user.id", "u-9")}]
    )
    assert answer.status_code == 422
    bad = answer.json()["items"][1]
    assert bad["status"] == "rejected"
    assert any(e["field"] == field and reason in e["reason"] for e in bad["errors"]), bad
    assert _count(sqlite_store) == 1  # the good one is kept


def test_other_content_types_get_415(client: TestClient) -> None:
    answer = client.post("/api/v1/events", content=b"a=b", headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    assert "application/x-ndjson" in answer.json()["hint"]


def test_a_declared_50_mb_body_gets_413_before_it_is_read(client: TestClient) -> None:
    size = 50 * 1024 * 1024
    answer = client.post(
        "/api/v1/events",
        content=b"[" + b" " * (size - 2) + b"]",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert str(Settings().ingest_max_body_bytes) in answer.json()["error"]


def test_a_streamed_50_mb_body_is_cut_off_at_the_limit(sqlite_store: Store) -> None:
    """Driven at the ASGI level, because test clients buffer the body before the app sees it."""
    app = make_app(sqlite_store)
    chunk = b" " * (64 * 1024)
    total = 50 * 16  # 50 MB in 64 KiB chunks, without a Content-Length
    received = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        more = received < total
        return {"type": "http.request", "body": b"[" if received == 1 else chunk, "more_body": more}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/events",
        "raw_path": b"/api/v1/events",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            *((k.lower().encode(), v.encode()) for k, v in admin_headers(sqlite_store).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    # Reading stopped just past the 5 MB limit, not at the end of the 50 MB.
    assert received * len(chunk) <= Settings().ingest_max_body_bytes + 2 * len(chunk)
    assert _count(sqlite_store) == 0


def test_the_body_limit_follows_the_settings(sqlite_store: Store) -> None:
    app: FastAPI = make_app(sqlite_store)
    app.state.settings = type("S", (), {"ingest_max_body_bytes": 100})()
    with TestClient(app, headers=admin_headers(sqlite_store)) as client:
        assert client.post("/api/v1/events", json=[EVENT]).status_code == 413
        assert (
            client.post("/api/v1/events", json={"garrison.event.type": "usage"}).status_code == 202
        )


def test_events_over_real_http_on_loopback(sqlite_store: Store) -> None:
    with (
        run_in_thread(make_app(sqlite_store)) as url,
        httpx.Client(base_url=url, headers=admin_headers(sqlite_store)) as http,
    ):
        lines = b"".join(orjson.dumps(e) + b"\n" for e in sample_events())
        answer = http.post(
            "/api/v1/events", content=lines, headers={"content-type": "application/x-ndjson"}
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["accepted"] == len(sample_events())
        too_big = http.post(
            "/api/v1/events",
            content=b"[" + b" " * (6 * 1024 * 1024) + b"]",
            headers={"content-type": "application/json"},
        )
        assert too_big.status_code == 413
        listed = http.get("/api/v1/events", params={"type": "tool.call"}).json()
        assert listed["events"][0]["event"]["garrison.category"] == "tool_abuse_attempt"
        assert "garrison.tool.arguments" not in listed["events"][0]["event"]
        assert len(listed["events"][0]["event"]["garrison.tool.arguments.digest"]) == 64
    assert _count(sqlite_store) == len(sample_events())
