"""Running the app with uvicorn: ``serve`` for ``garrison serve``, ``run_in_thread`` for tests.

``run_in_thread`` starts a real server on a loopback port, so tests (and the browser tests) talk
to Garrison over real HTTP exactly as a user's browser does.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from garrison.core.settings import Settings
from garrison.web.app import create_app

STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 10.0


MAX_INCOMPLETE_EVENT_BYTES = 64 * 1024
"""Largest request line plus headers h11 buffers: a client trickling endless headers is cut off."""


def connection_limits(settings: Settings) -> dict[str, int]:
    """uvicorn's connection-level limits (body limits and handler timeouts are in hardening)."""
    return {
        "timeout_keep_alive": settings.server_timeout_keep_alive,
        "limit_concurrency": settings.server_limit_concurrency,
        "h11_max_incomplete_event_size": MAX_INCOMPLETE_EVENT_BYTES,
    }


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging set-up, plus a handler for Garrison's own loggers that writes the time,
    level and logger of each record. Without it they reached stderr through Python's last-resort
    handler as bare messages, which no operator (and no load test) could filter by level."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["garrison"] = {"format": LOG_FORMAT}
    config["handlers"]["garrison"] = {
        "class": "logging.StreamHandler",
        "formatter": "garrison",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["garrison"] = {
        "handlers": ["garrison"],
        "level": settings.log_level,
        "propagate": False,
    }
    return config


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the API and dashboard until interrupted."""
    uvicorn.run(
        create_app(settings),
        host=host if host is not None else settings.host,
        port=port if port is not None else settings.port,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings),
        # No Server header: it only tells an attacker which version to look up.
        server_header=False,
        **connection_limits(settings),  # type: ignore[arg-type]
    )


def _bind(host: str, port: int) -> socket.socket:
    # Binding here, not in uvicorn, tells us the port before the server starts (port 0 = any free).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


class _StartupWatch:
    """Passes everything to ``app`` and keeps the reason a failed startup gives uvicorn, so the
    test that started the server sees why (uvicorn itself only logs it and exits)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.failure: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watching_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                self.failure = _exception_line(str(message.get("message", "")))
            await send(message)

        await self.app(scope, receive, watching_send)


def _exception_line(traceback_text: str) -> str:
    """``Type: message`` (and its hint) from the end of a formatted traceback."""
    lines = traceback_text.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line and not line[0].isspace()]
    if not starts:
        return "unknown error"
    return "; ".join(line.strip() for line in lines[starts[-1] :])


def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    # uvicorn leaves with SystemExit when startup fails; in a thread that is just the end.
    with contextlib.suppress(SystemExit):
        server.run(sockets=[sock])


def _wait_until_serving(
    server: uvicorn.Server,
    thread: threading.Thread,
    watch: _StartupWatch,
    address: tuple[str, int],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(
                f"the Garrison server stopped during startup: {watch.failure or 'see the log'}"
            )
        if server.started:
            with socket.create_connection(address, timeout=1.0):
                return
        time.sleep(0.02)
    raise TimeoutError(f"the Garrison server did not start within {timeout:.0f}s")


@contextmanager
def run_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    startup_timeout: float = STARTUP_TIMEOUT_S,
) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields the base URL, e.g. ``http://127.0.0.1:41234``.

    The app's lifespan runs as it does under ``garrison serve``. Leaving the block stops the server.
    """
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    watch = _StartupWatch(app)
    config = uvicorn.Config(
        watch,
        log_level=log_level,
        lifespan="on",
        server_header=False,
        h11_max_incomplete_event_size=MAX_INCOMPLETE_EVENT_BYTES,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_run, args=(server, sock), name="garrison-web", daemon=True)
    thread.start()
    try:
        _wait_until_serving(server, thread, watch, (bound_host, bound_port), startup_timeout)
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_S)
        sock.close()
        if thread.is_alive():  # pragma: no cover - only a wedged request handler gets here
            raise RuntimeError(f"the Garrison server did not stop within {SHUTDOWN_TIMEOUT_S:.0f}s")
