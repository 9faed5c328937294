"""``/api/v1/assets`` through the real app, on both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from garrison.core.settings import load_settings
from garrison.inventory.demo import load_demo_assets
from garrison.store import Store
from garrison.web import create_app
from tests.web.auth import admin_headers


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(load_settings(database_url=store.url), store=store)
    with TestClient(app, headers=admin_headers(store)) as test_client:
        yield test_client


@pytest.fixture
def demo(store: Store, client: TestClient) -> TestClient:
    load_demo_assets(store)
    return client


def names(body: dict[str, Any]) -> set[str]:
    return {item["name"] for item in body["items"]}


def test_list_with_filters(demo: TestClient) -> None:
    body = demo.get("/api/v1/assets", params={"org": "northwind"}).json()
    assert body["count"] == len(body["items"]) == 22
    public = demo.get("/api/v1/assets", params=[("exposure", "public")]).json()
    assert names(public) == {"Marketing copy assistant (pilot)", "Northwind Assist"}
    typed = demo.get("/api/v1/assets", params=[("type", "ai_agent"), ("type", "mcp_server")]).json()
    assert names(typed) == {
        "Wealth research agent",
        "Advisor triage agent",
        "SEC filings MCP server",
    }
    assert names(demo.get("/api/v1/assets", params={"q": "FRAUD", "limit": 1}).json()) == {
        "Card fraud scorer v7"
    }
    assert demo.get("/api/v1/assets", params={"type": "teapot"}).status_code == 422


def test_get_one_with_history_and_a_404(demo: TestClient) -> None:
    listed = demo.get("/api/v1/assets", params={"q": "Northwind Assist"}).json()["items"]
    asset_id = listed[0]["id"]
    body = demo.get(f"/api/v1/assets/{asset_id}").json()
    assert body["asset"]["name"] == "Northwind Assist"
    assert body["history"][0]["action"] == "created"
    assert body["evidence"][0]["source"] == "declared"
    missing = demo.get("/api/v1/assets/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no asset 'nope'"


def test_create_is_an_upsert_and_patch_edits(client: TestClient) -> None:
    asset = {"name": "Claims bot", "asset_type": "llm_application", "org": "acme"}
    created = client.post("/api/v1/assets", json=asset)
    assert created.status_code == 201
    asset_id = created.json()["asset"]["id"]
    again = client.post("/api/v1/assets", json={**asset, "owner_team": "Claims"})
    assert again.status_code == 200
    assert again.json()["action"] == "updated"
    assert again.json()["asset"]["id"] == asset_id

    patched = client.patch(
        f"/api/v1/assets/{asset_id}",
        json={"changes": {"exposure": "public", "data_classification": None}, "actor": "carol"},
    )
    assert patched.status_code == 200
    assert patched.json()["asset"]["exposure"] == "public"
    bad = client.patch(
        f"/api/v1/assets/{asset_id}", json={"changes": {"exposure": "moon"}, "actor": "carol"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("exposure:")


def test_create_refuses_a_raw_key(client: TestClient) -> None:
    response = client.post(
        "/api/v1/assets",
        json={
            "name": "k",
            "asset_type": "api_key",
            "api_key": {"location": "code", "reference": "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123"},
        },
    )
    assert response.status_code == 422
    assert "not a reference" in response.text
    assert "AbCdEfGhIjKlMnOpQrStUvWxYz0123" not in client.get("/api/v1/assets").text


def test_import_validates_each_row(client: TestClient) -> None:
    response = client.post(
        "/api/v1/assets/import",
        json={
            "org": "acme",
            "assets": [
                {"name": "a", "asset_type": "tool"},
                {"name": "b", "asset_type": "teapot"},
                {"name": "c", "asset_type": "tool", "depends_on": ["a"]},
            ],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["created"]) == (2, 2)
    assert body["rejected"][0]["item"] == 2
    assert body["rejected"][0]["error"].startswith("asset_type:")


def test_graph_json_and_dot(demo: TestClient) -> None:
    view = demo.get("/api/v1/assets/graph", params={"org": "northwind"}).json()
    assert len(view["cycles"]) == 1
    assert view["missing"][0]["reference"] == "OpenAI gpt-4o-mini (direct API)"
    centred = demo.get(
        "/api/v1/assets/graph", params={"asset": "Northwind Assist", "direction": "upstream"}
    ).json()
    assert centred["root"] and len(centred["nodes"]) == 7
    dot = demo.get("/api/v1/assets/graph.dot", params={"org": "northwind"})
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    assert dot.text.startswith('digraph "garrison assets"')


def test_gaps(demo: TestClient) -> None:
    report = demo.get("/api/v1/assets/gaps", params={"as_of": "2026-11-22"}).json()
    assert report["as_of"] == "2026-11-22"
    assert report["by_kind"]["eu_high_risk_unassessed"]
    assert {r["id"] for r in report["rules"]} >= {"GAP-NO-OWNER", "GAP-STALE-REVIEW"}


def test_the_openapi_document_types_the_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert "/api/v1/assets/{asset_id}" in paths
    schemas = spec["components"]["schemas"]
    assert "AssetDetail" in schemas and "GapReport" in schemas and "GraphView" in schemas
