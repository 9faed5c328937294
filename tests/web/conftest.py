"""Web fixtures: the app on a fresh SQLite store, served by a real uvicorn on a loopback port,
and a headless Chromium (Debian's, not a Playwright download) to drive it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from garrison.core.settings import load_settings
from garrison.store import Store, open_store
from garrison.web import create_app
from garrison.web.server import run_in_thread


@pytest.fixture
def web_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def web_app(web_store: Store) -> FastAPI:
    return create_app(load_settings(database_url=web_store.url), store=web_store)


@pytest.fixture
def base_url(web_app: FastAPI) -> Iterator[str]:
    with run_in_thread(web_app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        yield client


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: install it with "
            "`apt-get install chromium` (scripts/ensure-system-packages does this)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))

    def refuse(route: Route) -> None:
        problems.append(f"outside request: {route.request.url}")
        route.abort()

    # Every byte must come from Garrison itself: nothing on a CDN, nothing on the internet.
    tab.route(lambda url: not url.startswith(base_url), refuse)
    try:
        yield tab, problems
    finally:
        context.close()
