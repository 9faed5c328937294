"""Azure discovery through the real SDK with its HTTP transport replaced by canned ARM pages."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from garrison.inventory import AssetFilter, apply_discovery, search
from garrison.inventory.discovery.azure import AzureDiscovery
from garrison.inventory.discovery.cloud import (
    FakeAzureCredential,
    MissingExtraError,
    make_azure_transport,
)
from garrison.inventory.models import AssetType, Exposure
from garrison.store import Store
from tests.cli.conftest import Invoke, garrison  # noqa: F401  (the in-process CLI fixture)
from tests.inventory.discovery.cloud_support import by_name, edges, sample

DATA = sample("azure.json")
SUB = DATA["subscriptions"][0]
SVC_DEPLOYMENTS = next(k for k in DATA["responses"] if k.endswith("acme-aiservices/deployments"))


def run(responses: dict[str, Any] | None = None) -> tuple[Any, Any]:
    transport = make_azure_transport(responses or DATA["responses"])
    discovery = AzureDiscovery([SUB], credential=FakeAzureCredential(), transport=transport)
    return discovery.run(), transport


def test_accounts_and_deployments_with_next_link() -> None:
    result, transport = run()
    assert result.complete and result.errors == []
    assert any("$skiptoken=PAGE2" in call for call in transport.calls)  # second page fetched
    assert not any("listkeys" in call.lower() for call in transport.calls)  # keys never fetched
    found = by_name(result)
    assert "acme-speech" not in found  # not an OpenAI / AIServices account
    prod = found["acme-openai-prod"]
    assert prod.spec.exposure is Exposure.PUBLIC
    assert "local-auth:enabled" in prod.spec.tags
    gpt = found["gpt-4o-prod"]
    assert (gpt.spec.model_name, gpt.spec.model_version) == ("gpt-4o", "2024-08-06")
    assert (
        gpt.spec.api_endpoint
        == "https://acme-openai-prod.openai.azure.com/openai/deployments/gpt-4o-prod"
    )
    assert {"deployment:gpt-4o-prod", "sku:GlobalStandard", "capacity:50"} <= set(gpt.spec.tags)
    assert found["embeddings"].spec.asset_type is AssetType.EMBEDDING_MODEL
    mini = found["claims-mini"]
    assert mini.spec.exposure is Exposure.VPC and "local-auth:disabled" in mini.spec.tags
    assert {
        ("gpt-4o-prod", "acme-openai-prod", "served_by"),
        ("gpt-4o-prod", "acme-openai-prod/Microsoft.DefaultV2", "guarded_by"),
        ("claims-mini", "acme-aiservices/claims-strict", "guarded_by"),
    } <= edges(result)
    assert all(a.evidence and a.spec.source_id for a in result.assets)


def test_forbidden_account_is_reported_and_others_kept(store: Store) -> None:
    with store.session() as session:
        apply_discovery(session, run()[0])
    responses = copy.deepcopy(DATA["responses"])
    responses[SVC_DEPLOYMENTS] = {
        "status": 403,
        "body": {"error": {"code": "AuthorizationFailed", "message": "no read on deployments"}},
    }
    # the account whose deployments are denied also lost one deployment: it must not go stale
    result, _ = run(responses)
    assert not result.complete
    [failure] = result.errors
    assert (failure.operation, failure.code, failure.denied) == (
        "deployments.list",
        "AuthorizationFailed",
        True,
    )
    assert failure.target.endswith("/accounts/acme-aiservices")
    assert "gpt-4o-prod" in by_name(result) and "claims-mini" not in by_name(result)
    with store.session() as session:
        run_record = apply_discovery(session, result)
        assert run_record.errors[0]["code"] == "AuthorizationFailed"
        assert search(session, AssetFilter(stale=True)) == []
        again = apply_discovery(session, run()[0])
    assert again.counts["created"] == 0 and again.counts["updated"] == 0


def test_complete_run_marks_a_removed_deployment_stale(store: Store) -> None:
    with store.session() as session:
        apply_discovery(session, run()[0])
    responses = copy.deepcopy(DATA["responses"])
    responses[SVC_DEPLOYMENTS] = {"status": 200, "body": {"value": []}}
    with store.session() as session:
        apply_discovery(session, run(responses)[0])
        stale = search(session, AssetFilter(stale=True))
    assert sorted(a.name for a in stale) == ["acme-aiservices/claims-strict", "claims-mini"]


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.mgmt.cognitiveservices", None)
    with pytest.raises(MissingExtraError, match=r"garrison\[azure\]"):
        AzureDiscovery([SUB], credential=FakeAzureCredential())


def test_cli(
    garrison: Invoke,  # noqa: F811
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    real = AzureDiscovery.__init__

    def with_fakes(self: AzureDiscovery, subscriptions: Any, **kw: Any) -> None:
        kw.update(
            credential=FakeAzureCredential(), transport=make_azure_transport(DATA["responses"])
        )
        real(self, subscriptions, **kw)

    monkeypatch.setattr(AzureDiscovery, "__init__", with_fakes)
    out = garrison("discover", "azure", "--subscription", SUB, "--json")
    assert out.code == 0, out.err
    summary: Any = out.json()
    assert summary["complete"] and summary["counts"]["created"] == summary["found"] == 7
