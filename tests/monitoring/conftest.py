"""Fixtures for monitoring tests: the sample interaction and an app wired to the test scanner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from garrison.core.settings import load_settings
from garrison.monitoring.content import Scanner
from garrison.monitoring.ingest.pipeline import IngestPipeline
from garrison.store import Store
from garrison.web import create_app
from garrison.web.api.events import ingest_pipeline
from tests.cli.conftest import garrison  # noqa: F401 - the in-process CLI, for file ingest
from tests.monitoring.support import POLICY, scan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events" / "support-bot.jsonl"


def sample_events() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in EXAMPLES.read_bytes().splitlines() if line.strip()]


def make_app(store: Store, scanner: Scanner | None = scan) -> FastAPI:
    """The real app on ``store``, with the test content policy and ``scanner`` (None: the real
    detector pipeline)."""
    app = create_app(load_settings(database_url=store.url), store=store)
    app.dependency_overrides[ingest_pipeline] = lambda: IngestPipeline(
        store, policy=POLICY, scanner=scanner
    )
    return app


@pytest.fixture
def interaction() -> list[dict[str, Any]]:
    """The model call of the sample stream: its request, response and usage events."""
    return sample_events()[:3]
