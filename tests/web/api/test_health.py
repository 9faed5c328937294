from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from garrison import __version__
from garrison.core.settings import load_settings
from garrison.store import Store
from garrison.store.schema import head_revision
from garrison.web import create_app
from garrison.web.server import run_in_thread


def test_healthz_reports_version_backend_and_schema(http: httpx.Client, web_store: Store) -> None:
    response = http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "database": make_url(web_store.url).get_backend_name(),
        "schema": head_revision(),
        "error": None,
    }


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # A directory is not a database file: every query on this engine fails.
    broken = Store(create_engine(f"sqlite:///{tmp_path}"))
    app = create_app(
        load_settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"), store=broken
    )

    with run_in_thread(app) as url:
        response = httpx.get(f"{url}/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "sqlite"
    assert body["schema"] is None
    assert "unable to open database file" in body["error"]
