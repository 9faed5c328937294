from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect

from garrison import __version__
from garrison.core.settings import load_settings
from garrison.store import Store, create_store_engine
from garrison.store.schema import current_revision, head_revision
from garrison.web import create_app
from garrison.web.server import run_in_thread


def test_the_app_upgrades_an_empty_database_and_closes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'garrison.db'}"
    app = create_app(load_settings(database_url=url))

    with run_in_thread(app) as base:
        health = httpx.get(f"{base}/healthz").json()
        assert app.state.store is not None

    assert health["schema"] == head_revision()
    assert app.state.store is None  # the store the app opened was disposed at shutdown
    engine = create_store_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        assert "organizations" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_store_passed_in_stays_open_after_shutdown(web_app: FastAPI, web_store: Store) -> None:
    with run_in_thread(web_app):
        pass

    assert web_app.state.store is web_store
    with web_store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_openapi_document_is_typed_and_lists_the_catalog(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()

    assert document["info"] == {
        "title": "Garrison",
        "version": __version__,
        "description": document["info"]["description"],
    }
    paths = document["paths"]
    for path in (
        "/healthz",
        "/api/v1/catalog/frameworks",
        "/api/v1/catalog/frameworks/{key}",
        "/api/v1/catalog/frameworks/{key}/items",
        "/api/v1/catalog/items/{item_id}",
        "/api/v1/catalog/search",
    ):
        assert path in paths, path
    for page in ("/", "/catalog", "/catalog/{key}", "/static/vendor/plotly.min.js"):
        assert page not in paths, page
    schemas = document["components"]["schemas"]
    for name in ("ItemDetail", "FrameworkSummary", "SearchResults", "AtlasTechnique", "SaifRisk"):
        assert name in schemas, name
    assert "tactics" in schemas["AtlasTechnique"]["properties"]
    limit = next(
        p for p in paths["/api/v1/catalog/search"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)


def test_no_docs_ui_that_needs_a_cdn(http: httpx.Client) -> None:
    assert http.get("/docs").status_code == 404
    assert http.get("/redoc").status_code == 404


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/catalog/items/LLM11", "application/json"),
        ("/api/v1/no-such-endpoint", "application/json"),
        ("/v1/no-such-otlp-signal", "application/json"),
        ("/catalog/item/LLM11", "text/html"),
        ("/no-such-page", "text/html"),
    ],
)
def test_errors_are_json_for_programs_and_pages_for_people(
    http: httpx.Client, path: str, kind: str
) -> None:
    response = http.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith(kind)
