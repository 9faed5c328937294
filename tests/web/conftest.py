"""Web fixtures: the app on a fresh SQLite store, served by a real uvicorn on a loopback port,
and a headless Chromium (Debian's, not a Playwright download) to drive it.

Every route but ``/healthz`` and the sign-in page needs a credential: ``http`` carries an admin
API token, ``anonymous_http`` none, ``client_for`` makes a client for any scope and organization,
and ``page`` is a browser signed in as an admin of ``site_store`` (override it together with
``base_url`` to drive another server)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

from garrison.core.settings import load_settings
from garrison.identity import Scope
from garrison.store import Store, open_store
from garrison.web import create_app
from garrison.web.server import run_in_thread
from tests.web.auth import bearer, issue_token, signed_in_session


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
def site_store(web_store: Store) -> Store:
    """The store of the server at ``base_url``, where test credentials are made."""
    return web_store


@pytest.fixture
def admin_token(site_store: Store) -> str:
    return issue_token(site_store, (Scope.ADMIN, Scope.INGEST), name="test-admin")


@pytest.fixture
def http(base_url: str, admin_token: str) -> Iterator[httpx.Client]:
    """A client authenticated as an all-organizations admin that may also ingest (Bearer)."""
    with httpx.Client(base_url=base_url, timeout=30.0, headers=bearer(admin_token)) as client:
        yield client


@pytest.fixture
def anonymous_http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        yield client


ClientFactory = Callable[..., httpx.Client]


@pytest.fixture
def client_for(base_url: str, site_store: Store) -> Iterator[ClientFactory]:
    """``client_for(Scope.READ, org="acme")``: a client with a fresh token of those scopes."""
    opened: list[httpx.Client] = []

    def make(*scopes: Scope, org: str | None = None) -> httpx.Client:
        secret = issue_token(site_store, scopes, org=org)
        client = httpx.Client(base_url=base_url, timeout=30.0, headers=bearer(secret))
        opened.append(client)
        return client

    try:
        yield make
    finally:
        for client in opened:
            client.close()


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


SignIn = Callable[[BrowserContext], None]


@pytest.fixture
def sign_in(base_url: str, site_store: Store) -> SignIn:
    """Signs a browser context the test made itself in as an admin of ``base_url``."""

    def add_session(context: BrowserContext) -> None:
        session_id, _ = signed_in_session(site_store, Scope.ADMIN)
        context.add_cookies([{"name": "garrison_session", "value": session_id, "url": base_url}])

    return add_session


@pytest.fixture
def page(browser: Browser, base_url: str, site_store: Store) -> Iterator[tuple[Page, list[str]]]:
    """A tab signed in as an admin (a session made in the store; the sign-in form itself is
    driven in tests/web/test_auth.py)."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    session_id, _ = signed_in_session(site_store, Scope.ADMIN)
    context.add_cookies([{"name": "garrison_session", "value": session_id, "url": base_url}])
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
