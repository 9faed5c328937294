from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from garrison.core.settings import load_settings
from garrison.inventory import AssetSpec, AssetType, register
from garrison.store import Store
from garrison.web import create_app
from tests.web.auth import admin_headers


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(load_settings(database_url=store.url), store=store)
    with TestClient(app, headers=admin_headers(store)) as test_client:
        yield test_client


@pytest.fixture
def agent_id(store: Store) -> str:
    with store.session() as session:
        outcome = register(
            session,
            AssetSpec(name="research-agent", asset_type=AssetType.AI_AGENT, owner_team="research"),
            source="declared",
        )
    return outcome.asset_id


def test_list_and_get_controls(client: TestClient) -> None:
    listed = client.get("/api/v1/controls", params={"type": "preventive", "maps_to": "ASI07"})
    assert listed.status_code == 200
    ids = {c["id"] for c in listed.json()}
    assert "CTRL-INTER-AGENT-AUTH" in ids
    assert all(c["type"] == "preventive" for c in listed.json())

    one = client.get("/api/v1/controls/CTRL-RATE-LIMIT")
    assert one.status_code == 200
    body: dict[str, Any] = one.json()
    assert {"id": "AML.M0004", "name": "Restrict Number of AI Model Queries"} in body["mappings"][
        "atlas_mitigations"
    ]
    assert body["source"].endswith("consumption.yaml:" + body["source"].rsplit(":", 1)[1])
    missing = client.get("/api/v1/controls/CTRL-NOPE")
    assert missing.status_code == 404
    assert "CTRL-NOPE" in missing.json()["error"]
    assert client.get("/api/v1/controls", params={"maps_to": "LLM99"}).status_code == 404


def test_attest_states_history_and_coverage(client: TestClient, agent_id: str) -> None:
    url = f"/api/v1/controls/assets/{agent_id}/states"
    created = client.post(
        url,
        json={
            "control_id": "CTRL-AGENT-TOOL-ALLOWLIST",
            "state": "operational",
            "actor": "alice",
            "evidence": ["https://git.example.com/agents/research/config.yaml"],
            "note": "runtime refuses unlisted tools",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["asset_id"] == agent_id
    assert (
        client.post(
            url,
            json={
                "control_id": "CTRL-DET-UNAUTHORIZED-TOOL-CALL",
                "state": "operational",
                "actor": "bob",
            },
        ).status_code
        == 201
    )

    refused = client.post(
        url, json={"control_id": "CTRL-MODEL-ARTIFACT-SCAN", "state": "operational", "actor": "a"}
    )
    assert refused.status_code == 400
    assert "does not apply" in refused.json()["error"]
    bad = client.post(url, json={"control_id": "CTRL-RATE-LIMIT", "state": "done", "actor": "a"})
    assert bad.status_code == 422
    extra = client.post(
        url, json={"control_id": "CTRL-RATE-LIMIT", "state": "planned", "actor": "a", "who": 1}
    )
    assert extra.status_code == 422

    states = client.get(url).json()
    assert states["asset_type"] == "ai_agent"
    assert {s["control_id"] for s in states["states"]} == {
        "CTRL-AGENT-TOOL-ALLOWLIST",
        "CTRL-DET-UNAUTHORIZED-TOOL-CALL",
    }
    assert "CTRL-HUMAN-APPROVAL" in states["not_attested"]
    history = client.get(f"{url}/CTRL-AGENT-TOOL-ALLOWLIST/history").json()
    # The attestation names the authenticated caller; the body's "actor" is ignored.
    assert [h["actor"] for h in history] == ["token:test-admin"]

    coverage = client.get(
        "/api/v1/controls/coverage", params={"team": "research", "framework": "OWASP-AGENTIC"}
    )
    assert coverage.status_code == 200
    matrix: dict[str, Any] = coverage.json()
    assert [i["label"] for i in matrix["items"]] == [f"ASI{n:02}" for n in range(1, 11)]
    cells = matrix["assets"][0]["cells"]
    assert cells["ASI02"]["status"] == "both"
    assert cells["ASI07"]["status"] == "gap"
    assert matrix["has_gaps"] is True
    assert client.get("/api/v1/controls/coverage", params={"framework": "ATLAS"}).status_code == 400


def test_attest_on_an_asset_the_inventory_does_not_hold(client: TestClient) -> None:
    url = "/api/v1/controls/assets/ext-42/states"
    body = {"control_id": "CTRL-RATE-LIMIT", "state": "implemented", "actor": "ci"}
    assert client.post(url, json=body).status_code == 404
    assert client.post(url, json={**body, "asset_type": "api_endpoint"}).status_code == 201
    assert client.get(url).json()["asset_type"] == "api_endpoint"
    rows = client.get("/api/v1/controls/coverage").json()["assets"]
    assert "ext-42" in {r["asset_id"] for r in rows}
