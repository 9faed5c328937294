"""Limits and security headers for every request, as one pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) because it sits in front of the ingest path: it adds no
task, no extra copy of the body, and only touches the two messages it needs (the request body it
counts and the response start it adds headers to).

- **Body size**: a declared ``Content-Length`` over the limit is refused before anything is read;
  a chunked body is counted as it streams and refused the moment it passes the limit, so a 50 MB
  upload costs at most the limit in memory.
- **Time**: a handler still running after ``request_timeout_seconds`` is cancelled and answered
  503, so one slow query cannot hold a worker for ever.
- **Headers**: a Content Security Policy with no inline script, frame denial, no MIME sniffing,
  no referrer, and HSTS when Garrison is reached over TLS.
"""

from __future__ import annotations

import asyncio

import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from garrison.core.crypto import cipher_from_settings
from garrison.core.settings import Settings
from garrison.monitoring.store import use_content_encryption
from garrison.web.ratelimit import limiter_from_settings

INGEST_PATHS = frozenset({"/api/v1/events", "/v1/traces", "/v1/logs"})
"""Routes whose bodies are telemetry batches; they take ``ingest_max_body_bytes``."""

# plotly.js adds its stylesheet by creating an empty <style> element and filling it through the
# CSSOM. CSP checks the element's text, which is empty, so allowing exactly the hash of the empty
# string lets plotly work while any <style> with content (an injection) is still refused. Rules
# added through the CSSOM by our own script are not subject to style-src. The <style> elements
# plotly's bundled libraries would fill on load are pre-empted by the pages (web/assets.py).
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {EMPTY_STYLE_HASH}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class BodyTooLarge(Exception):
    """The request body passed its limit while streaming (raised from ``receive``)."""


def body_limit(settings: Settings, path: str) -> int:
    return (
        settings.ingest_max_body_bytes if path in INGEST_PATHS else settings.request_max_body_bytes
    )


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` the client declared, or ``None`` when absent or not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def security_headers(*, tls: bool) -> list[tuple[bytes, bytes]]:
    headers = list(SECURITY_HEADERS)
    if tls:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


def with_headers(
    existing: list[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``existing`` plus ``added``; a header a route set itself (a looser CSP for one page) wins."""
    present = {name.lower() for name, _ in existing}
    return existing + [(name, value) for name, value in added if name not in present]


def json_error(status: int, message: str, hint: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": message, "hint": hint})


class HardeningMiddleware:
    """Body limit, handler timeout and security headers around ``app``."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.timeout = settings.request_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.settings.behind_tls or scope.get("scheme") == "https"
        added = security_headers(tls=tls)
        limit = body_limit(self.settings, scope.get("path", ""))
        started = False

        async def send_hardened(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": with_headers(list(message["headers"]), added)}
            await send(message)

        async def answer(status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ]
            await send_hardened(
                {"type": "http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": body})

        def too_large_body() -> bytes:
            ingest = scope.get("path") in INGEST_PATHS
            setting = f"GARRISON_{'INGEST' if ingest else 'REQUEST'}_MAX_BODY_BYTES"
            return json_error(
                413,
                f"the request body is larger than the limit of {limit} bytes",
                f"send less per request (split batches), or raise {setting}",
            )[1]

        declared = declared_length(scope)
        if declared is not None and declared > limit:
            # No "Connection: close": a client still writing its body would get a reset instead
            # of this answer. The server discards the unread body by its declared length, and
            # its keep-alive timeout bounds how long a slow sender can hold the connection.
            await answer(413, too_large_body(), [])
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, counted_receive, send_hardened)
        except BodyTooLarge:
            if not started:
                await answer(413, too_large_body(), [])
        except TimeoutError:
            if started:
                raise
            body = json_error(
                503,
                f"the request took longer than {self.timeout:g} s and was stopped",
                "narrow the query (filters, a smaller limit) or retry later; operators can "
                "raise GARRISON_REQUEST_TIMEOUT_SECONDS",
            )[1]
            await answer(503, body, [(b"retry-after", b"5")])


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app`` in the limits and headers, and seal stored content with the settings' key.

    The cipher is registered for the database URL here, at build time, because prompt content
    may be written by the first request after startup.
    """
    use_content_encryption(settings.database_url, cipher_from_settings(settings))
    app.state.ingest_rate_limiter = limiter_from_settings(settings)
    app.add_middleware(HardeningMiddleware, settings=settings)
