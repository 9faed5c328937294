"""Web fixtures: the app on a fresh SQLite store, served by a real uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

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
