from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from garrison.web.server import run_in_thread


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_in_thread_serves_until_the_block_ends(web_app: FastAPI) -> None:
    with run_in_thread(web_app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2.0)


def test_run_in_thread_on_a_chosen_port(web_app: FastAPI) -> None:
    port = free_port()

    with run_in_thread(web_app, port=port) as url:
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_run_in_thread_reports_a_server_that_cannot_start(tmp_path: Path) -> None:
    from garrison.core.settings import load_settings
    from garrison.web import create_app

    # The app opens its store at startup; a directory is not a database, so startup fails.
    app = create_app(load_settings(database_url=f"sqlite:///{tmp_path}"))

    with (
        pytest.raises(RuntimeError, match=r"stopped during startup: .*StoreError: cannot connect"),
        run_in_thread(app),
    ):
        pass


def test_serve_runs_the_app_on_the_configured_address(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "GARRISON_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "GARRISON_LOG_LEVEL": "warning",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "from garrison.core.settings import load_settings\n"
        "from garrison.web.server import serve\n"
        f"serve(load_settings(), port={port})\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)
    try:
        body = _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.terminate()
        process.wait(timeout=20)

    assert body["status"] == "ok"
    assert (tmp_path / "g.db").is_file()


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "garrison serve exited early"
        try:
            return dict(httpx.get(url, timeout=1.0).json())
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


LOGGING_PROBE = """
import logging.config
from garrison.core.settings import Settings
from garrison.web.server import log_config
logging.config.dictConfig(log_config(Settings(log_level="info")))
log = logging.getLogger("garrison.monitoring.ingest.enrich")
log.debug("not shown below the configured level")
log.info("scanner bound")
try:
    raise ValueError("scratch in use")
except ValueError:
    log.exception("scanning garrison.content.text failed")
"""


def test_garrison_log_records_carry_time_level_and_logger() -> None:
    # `garrison serve` applies this configuration; a child process keeps it out of the tests'.
    done = subprocess.run(
        [sys.executable, "-c", LOGGING_PROBE], capture_output=True, text=True, check=True
    )
    lines = done.stderr.splitlines()
    assert "not shown" not in done.stderr
    assert any(" INFO garrison.monitoring.ingest.enrich: scanner bound" in line for line in lines)
    failed = next(i for i, line in enumerate(lines) if "scanning garrison.content" in line)
    assert " ERROR garrison.monitoring.ingest.enrich: " in lines[failed]
    assert lines[failed][:4].isdigit()  # the time comes first
    assert lines[failed + 1].startswith("Traceback (most recent call last)")
    assert lines[-1] == "ValueError: scratch in use"
