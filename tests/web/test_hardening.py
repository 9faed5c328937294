"""Limits and headers of the running server, over real HTTP on loopback.

Hostile bodies (oversized, chunked without end, invalid UTF-8, nested too deep, numbers too big)
must be refused with a status and a message that names the problem, and must cost the server no
more than the configured limit.
"""

from __future__ import annotations

import asyncio
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from garrison.core.settings import Settings, load_settings
from garrison.identity import Scope
from garrison.monitoring.store import count_events
from garrison.store import Store
from garrison.web import create_app
from garrison.web.hardening import HardeningMiddleware
from garrison.web.server import run_in_thread
from garrison.web.templating import templates
from tests.web.auth import bearer, issue_token
from tests.web.conftest import ClientFactory

EVENT = {"garrison.event.type": "usage", "user.id": "u1"}


@pytest.fixture
def ingest_http(client_for: ClientFactory) -> httpx.Client:
    return client_for(Scope.INGEST)


@contextmanager
def serving(store: Store, **settings: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """A server over ``store`` with ``settings``, and admin credentials for it."""
    app = create_app(load_settings(database_url=store.url, **settings), store=store)
    headers = bearer(issue_token(store, (Scope.ADMIN, Scope.INGEST)))
    with run_in_thread(app) as url:
        yield url, headers


# --- security headers ---------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(http: httpx.Client) -> None:
    for path in ("/healthz", "/catalog", "/api/v1/events", "/no-such-page"):
        answer = http.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in answer.headers["permissions-policy"]
        # Plain HTTP on loopback: HSTS would be ignored and, behind a mistaken proxy, harmful.
        assert "strict-transport-security" not in answer.headers


def test_hsts_is_sent_when_behind_tls(web_store: Store) -> None:
    with serving(web_store, behind_tls=True) as (url, headers):
        answer = httpx.get(f"{url}/healthz", headers=headers)
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_templates_escape_hostile_text() -> None:
    env = templates.env
    assert env.autoescape is not False
    page = env.from_string("<p>{{ text }}</p>").render(text='<script>alert("x")</script>')
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_error_page_escapes_the_address(http: httpx.Client) -> None:
    answer = http.get("/catalog/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert answer.status_code == 404
    assert "<script>alert(1)</script>" not in answer.text


# --- body size -----------------------------------------------------------------------------


def test_a_declared_50_mb_body_is_refused_before_it_is_read(http: httpx.Client) -> None:
    url = urlsplit(str(http.base_url))
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 52428800\r\n\r\n"
        )
        status, body = _read_answer(sock)
    assert status == 413
    problem = orjson.loads(body)
    assert "5242880 bytes" in problem["error"]
    assert "GARRISON_INGEST_MAX_BODY_BYTES" in problem["hint"]


def test_a_chunked_body_is_cut_off_at_the_limit(web_store: Store) -> None:
    limit = 64 * 1024
    with serving(web_store, ingest_max_body_bytes=limit) as (base, headers):
        url = urlsplit(base)
        sent = 0
        with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as sock:
            sock.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: {headers['Authorization']}\r\n".encode()
                + b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
            while sent < 50 * 1024 * 1024:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 0x4000
            status, body = _read_answer(sock)
        assert status == 413, body
        # The server answered long before 50 MB arrived: it never held the whole body.
        assert sent < 8 * 1024 * 1024
        with web_store.session() as session:
            assert count_events(session) == 0


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(head.split(b" ", 2)[1]), body


def test_other_routes_have_their_own_smaller_limit(http: httpx.Client) -> None:
    answer = http.post(
        "/api/v1/assets",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert "GARRISON_REQUEST_MAX_BODY_BYTES" in answer.json()["hint"]


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"garrison.event.type": "usage", "user.id": "\xff\xfe"}', "utf-8"),
        (b"[" * 5000 + b"]" * 5000, "depth limit"),
        (b'{"garrison.event.type": "usage", "n": 1' + b"0" * 400 + b"}", "infinity"),
        (b'{"garrison.event.type": "usage", "n": NaN}', "json"),
    ],
    ids=["invalid-utf8", "deeply-nested", "huge-number", "nan"],
)
def test_malformed_bodies_are_refused_with_the_reason(
    ingest_http: httpx.Client, body: bytes, named: str
) -> None:
    answer = ingest_http.post(
        "/api/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code in (400, 422), answer.text
    assert named in answer.json()["error"].lower()


def test_a_huge_number_inside_a_batch_loses_nothing_else(ingest_http: httpx.Client) -> None:
    lines = orjson.dumps(EVENT) + b"\n" + b'{"garrison.event.type": "usage", "n": 1' + b"9" * 400
    answer = ingest_http.post(
        "/api/v1/events",
        content=lines + b"}\n",
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 422
    assert answer.json()["accepted"] == 1


# --- rate limits ---------------------------------------------------------------------------


def test_ingest_is_rate_limited_per_token_counting_events(web_store: Store) -> None:
    with serving(web_store, ingest_rate_limit=1, ingest_rate_burst=20) as (url, headers):
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            batch = [{**EVENT, "user.id": f"u{i}"} for i in range(20)]
            assert client.post("/api/v1/events", json=batch).status_code == 202
            refused = client.post("/api/v1/events", json=[{**EVENT, "user.id": "late"}] * 5)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert "rate limit" in refused.json()["error"]
            otlp = client.post("/v1/logs", json={"resourceLogs": []})
            assert otlp.status_code == 429
            assert otlp.json()["code"] == 8
            assert int(otlp.headers["retry-after"]) >= 1
        other = bearer(issue_token(web_store, (Scope.ADMIN, Scope.INGEST)))
        with httpx.Client(base_url=url, headers=other, timeout=30) as client:
            # Another token has its own bucket.
            assert client.post("/api/v1/events", json=EVENT).status_code == 202
    with web_store.session() as session:
        assert count_events(session) == 21


# --- timeouts ------------------------------------------------------------------------------


async def _slow(request: Request) -> JSONResponse:
    await asyncio.sleep(float(request.query_params.get("s", "0")))
    return JSONResponse({"ok": True})


def test_a_slow_handler_is_answered_503(tmp_path: Any) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", request_timeout_seconds=0.3)
    app = HardeningMiddleware(Starlette(routes=[Route("/slow", _slow)]), settings=settings)
    with run_in_thread(app) as url:
        assert httpx.get(f"{url}/slow", params={"s": "0"}).status_code == 200
        answer = httpx.get(f"{url}/slow", params={"s": "5"}, timeout=10)
    assert answer.status_code == 503
    assert "GARRISON_REQUEST_TIMEOUT_SECONDS" in answer.json()["hint"]
    assert answer.headers["x-frame-options"] == "DENY"
