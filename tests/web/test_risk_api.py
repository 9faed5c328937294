from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from garrison.controls.state import attest
from garrison.core.settings import load_settings
from garrison.core.timeutil import utcnow
from garrison.inventory import AssetSpec, register
from garrison.store import Store
from garrison.web import create_app
from tests.web.auth import admin_headers


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(load_settings(database_url=store.url), store=store)
    with TestClient(app, headers=admin_headers(store)) as test_client:
        yield test_client


@pytest.fixture
def estate(store: Store) -> dict[str, str]:
    with store.session() as session:
        bot = register(
            session,
            AssetSpec(
                name="support-bot",
                asset_type="ai_agent",
                owner_team="payments",
                data_classification="restricted",
                exposure="public",
                environment="production",
            ),
            source="declared",
        )
        data = register(
            session,
            AssetSpec(
                name="eval-set", asset_type="evaluation_dataset", data_classification="public"
            ),
            source="declared",
        )
        attest(
            session,
            bot.asset_id,
            "CTRL-OUTPUT-FILTER",
            "operational",
            "alice",
            evidence=["https://ci.example.com/runs/1"],
            at=utcnow() - timedelta(hours=1),
        )
    return {"bot": bot.asset_id, "data": data.asset_id}


def test_assess_show_top_history(client: TestClient, estate: dict[str, str]) -> None:
    created = client.post("/api/v1/risk/assess", json={"all": True})
    assert created.status_code == 201, created.text
    assert {r["asset_id"] for r in created.json()} == set(estate.values())
    one = client.post("/api/v1/risk/assess", json={"asset": "support-bot"})
    assert one.status_code == 201

    shown = client.get("/api/v1/risk/assets/support-bot")
    assert shown.status_code == 200
    body: dict[str, Any] = shown.json()
    e = body["explanation"]
    assert body["summary"]["residual"] == e["residual"]
    assert e["inherent"] == round(math.fsum(f["score"] * f["weight"] for f in e["factors"]), 2)
    assert math.fsum(f["share"] for f in e["factors"]) == pytest.approx(100)
    assert "CTRL-OUTPUT-FILTER" in {c["id"] for c in e["controls"] if c["counts"]}
    assert all(r["control_id"].startswith("CTRL-") for r in e["recommendations"])
    assert (
        client.get("/api/v1/risk/assets/support-bot", params={"explain": False}).json()[
            "explanation"
        ]
        is None
    )

    top = client.get("/api/v1/risk/top", params={"limit": 1}).json()
    assert [r["asset_name"] for r in top] == ["support-bot"]
    assert len(client.get("/api/v1/risk/assets/support-bot/history").json()) == 2


def test_errors(client: TestClient, estate: dict[str, str]) -> None:
    assert client.get("/api/v1/risk/assets/nope").status_code == 404
    not_yet = client.get("/api/v1/risk/assets/support-bot")
    assert not_yet.status_code == 400 and "has not been assessed" in not_yet.json()["error"]
    assert client.post("/api/v1/risk/assess", json={}).status_code == 400
    assert client.post("/api/v1/risk/assess", json={"all": True, "extra": 1}).status_code == 422


def test_accept_acceptances_gaps(client: TestClient, estate: dict[str, str]) -> None:
    client.post("/api/v1/risk/assess", json={"all": True})
    gaps = client.get("/api/v1/risk/gaps").json()
    assert [g["asset_id"] for g in gaps] == [estate["bot"]]
    assert gaps[0]["kind"] == "unaccepted"
    expires = (utcnow() + timedelta(days=10)).date().isoformat()
    accepted = client.post(
        "/api/v1/risk/assets/support-bot/acceptances",
        json={"reason": "compensating WAF", "approver": "ciso@example.com", "expires": expires},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["owner"] == "payments"
    assert client.get("/api/v1/risk/gaps").json() == []
    listed = client.get("/api/v1/risk/acceptances", params={"status": "active"}).json()
    assert [a["id"] for a in listed] == [accepted.json()["id"]]
    assert client.get("/api/v1/risk/acceptances", params={"status": "expired"}).json() == []
    refused = client.post(
        "/api/v1/risk/assets/eval-set/acceptances",
        json={"reason": "r", "approver": "ciso@example.com", "owner": "data", "expires": expires},
    )
    assert refused.status_code == 400 and "within appetite" in refused.json()["error"]


def test_quant(client: TestClient, estate: dict[str, str]) -> None:
    result = client.get(
        "/api/v1/risk/assets/support-bot/quant", params={"simulations": 2000, "seed": 4}
    )
    assert result.status_code == 200, result.text
    data = result.json()
    assert data["seed"] == 4 and data["currency"] == "USD"
    assert float(data["annualized_loss_expectancy"]) > 0
    assert set(data["percentiles"]) == {"50", "90", "95", "99"}
    probabilities = [p["probability"] for p in data["exceedance"]]
    assert probabilities == sorted(probabilities, reverse=True)
