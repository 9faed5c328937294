"""GCP discovery against a real HTTP server on loopback serving Vertex AI's REST shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from garrison.inventory import AssetFilter, apply_discovery, search
from garrison.inventory.discovery import gcp as gcp_source
from garrison.inventory.discovery.cloud import FakeVertexServer
from garrison.inventory.discovery.gcp import VertexDiscovery
from garrison.inventory.models import AssetType, Exposure
from garrison.store import Store
from tests.cli.conftest import Invoke, garrison  # noqa: F401  (the in-process CLI fixture)
from tests.inventory.discovery.cloud_support import by_name, edges, sample

DATA = sample("gcp.json")
PROJECT = DATA["project"]
DENIED = "europe-west4"


def routes_with_denied_location() -> dict[str, Any]:
    routes = copy.deepcopy(DATA["routes"])
    forbidden = {
        "status": 403,
        "body": {
            "error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}
        },
    }
    for collection in ("models", "endpoints"):
        routes[f"/v1/projects/{PROJECT}/locations/{DENIED}/{collection}"] = forbidden
    return routes


def discover(routes: dict[str, Any], locations: list[str]) -> tuple[Any, FakeVertexServer]:
    with FakeVertexServer(routes) as server:
        result = VertexDiscovery(
            PROJECT, locations, api_root=server.url, token=lambda: "t0k", backoff=0
        ).run()
    return result, server


def test_models_and_endpoints_paged() -> None:
    result, server = discover(DATA["routes"], ["us-central1"])
    assert result.complete and result.errors == []
    assert any("pageToken=MODELS-PAGE-2" in path for path in server.requests)
    assert set(server.auth_headers) == {"Bearer t0k"}
    found = by_name(result)
    assert found["claims-classifier"].spec.asset_type is AssetType.FINE_TUNED_MODEL
    llama = found["llama-3-1-8b-support"]
    assert llama.spec.model_name == "publishers/meta/models/llama3-1"
    public, psc = found["claims-public"], found["support-llm-psc"]
    assert public.spec.exposure is Exposure.PUBLIC
    assert "request-response-logging:off" in public.spec.tags
    assert psc.spec.exposure is Exposure.VPC and "private-service-connect" in psc.spec.tags
    assert psc.spec.api_endpoint.startswith("https://us-central1-aiplatform.googleapis.com/v1/")
    assert {
        ("claims-public", "claims-classifier", "uses_model"),
        ("support-llm-psc", "llama-3-1-8b-support", "uses_model"),
    } <= edges(result)


def test_denied_location_reported_other_registered(store: Store) -> None:
    result, _ = discover(routes_with_denied_location(), ["us-central1", DENIED])
    assert not result.complete
    assert {(e.operation, e.code, e.denied, e.target) for e in result.errors} == {
        (
            "aiplatform:models.list",
            "PERMISSION_DENIED",
            True,
            f"projects/{PROJECT}/locations/{DENIED}",
        ),
        (
            "aiplatform:endpoints.list",
            "PERMISSION_DENIED",
            True,
            f"projects/{PROJECT}/locations/{DENIED}",
        ),
    }
    assert len(result.assets) == 4
    with store.session() as session:
        run = apply_discovery(session, result)
        assert not run.complete and len(run.errors) == 2
        assert len(search(session, AssetFilter(providers=("gcp",)))) == 4


def test_throttling_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcp_source.time, "sleep", lambda _s: None)
    routes = {
        "/v1/projects/p/locations/l/models": {
            "status": 429,
            "body": {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}},
        },
        "/v1/projects/p/locations/l/endpoints": {"status": 200, "body": {}},
    }
    with FakeVertexServer(routes) as server:
        result = VertexDiscovery(
            "p", ["l"], api_root=server.url, token=lambda: "t", max_attempts=3
        ).run()
    assert server.requests.count("/v1/projects/p/locations/l/models") == 3
    [failure] = result.errors
    assert failure.code == "RESOURCE_EXHAUSTED" and "gave up after 3 attempt(s)" in failure.message


def test_second_run_changes_nothing_and_missing_model_goes_stale(store: Store) -> None:
    with store.session() as session:
        apply_discovery(session, discover(DATA["routes"], ["us-central1"])[0])
        again = apply_discovery(session, discover(DATA["routes"], ["us-central1"])[0])
    assert again.counts["created"] == 0 and again.counts["updated"] == 0
    routes = copy.deepcopy(DATA["routes"])
    page_two = next(k for k in routes if "MODELS-PAGE-2" in k)
    routes[page_two]["body"]["models"] = []
    routes["/v1/projects/acme-ml/locations/us-central1/endpoints"]["body"]["endpoints"].pop()
    with store.session() as session:
        apply_discovery(session, discover(routes, ["us-central1"])[0])
        stale = sorted(a.name for a in search(session, AssetFilter(stale=True)))
    assert stale == ["llama-3-1-8b-support", "support-llm-psc"]


def test_cli(
    garrison: Invoke,  # noqa: F811
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    with FakeVertexServer(routes_with_denied_location()) as server:
        real = VertexDiscovery.__init__

        def with_fake(self: VertexDiscovery, project: str, locations: Any, **kw: Any) -> None:
            kw.update(api_root=server.url, token=lambda: "t")
            real(self, project, locations, **kw)

        monkeypatch.setattr(VertexDiscovery, "__init__", with_fake)
        out = garrison(
            "discover", "gcp", "--project", PROJECT, "-l", "us-central1", "-l", DENIED, "--json"
        )
    assert out.code == 1
    summary: Any = out.json()
    assert not summary["complete"] and len(summary["errors"]) == 2
    assert summary["counts"]["created"] == 4
