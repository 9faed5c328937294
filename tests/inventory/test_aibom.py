"""The AI-BOM: CycloneDX 1.6 export validated, lossless round trip, third-party BOMs, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from garrison.inventory import AssetFilter, AssetSpec, apply_discovery, register, search
from garrison.inventory.aibom import AibomError, export_bom, import_bom, read_bom, validate_bom
from garrison.inventory.discovery.code import discover_code
from garrison.inventory.models import AssetType, DataClassification, Relation
from garrison.store import Store, open_store

REPO = Path(__file__).resolve().parents[2] / "examples" / "estate" / "repo"
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

THIRD_PARTY: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {"tools": {"components": [{"type": "application", "name": "other-aibom-tool"}]}},
    "components": [
        {
            "type": "library",
            "bom-ref": "pkg:pypi/transformers@4.44.0",
            "name": "transformers",
            "version": "4.44.0",
            "purl": "pkg:pypi/transformers@4.44.0",
        },
        {
            "type": "machine-learning-model",
            "bom-ref": "model-llama",
            "group": "meta-llama",
            "name": "Llama-3.1-8B-Instruct",
            "version": "0e9e39f249a16976918f6564b8830bc894c89659",
            "supplier": {"name": "Meta"},
            "purl": "pkg:huggingface/meta-llama/Llama-3.1-8B-Instruct@0e9e39f249a16976918f6564b8830bc894c89659",
            "hashes": [{"alg": "SHA-256", "content": DIGEST}],
            "licenses": [{"license": {"name": "llama3.1"}}],
            "modelCard": {
                "modelParameters": {
                    "task": "text-generation",
                    "datasets": [{"ref": "data-tickets"}],
                }
            },
        },
        {
            "type": "data",
            "bom-ref": "data-tickets",
            "name": "support-tickets-2024",
            "data": [
                {
                    "type": "dataset",
                    "name": "support-tickets-2024",
                    "classification": "confidential",
                }
            ],
        },
    ],
    "services": [
        {
            "bom-ref": "svc-openai",
            "provider": {"name": "OpenAI"},
            "name": "OpenAI chat completions",
            "endpoints": ["https://api.openai.com/v1/chat/completions"],
            "authenticated": True,
            "x-trust-boundary": True,
            "data": [{"flow": "bi-directional", "classification": "internal"}],
        }
    ],
    "dependencies": [
        {"ref": "svc-openai", "dependsOn": ["model-llama"]},
        {"ref": "model-llama", "dependsOn": ["pkg:pypi/transformers@4.44.0"]},
    ],
}


def _populate(store: Store) -> None:
    with store.session() as session:
        apply_discovery(session, discover_code([REPO]))
        register(
            session,
            AssetSpec(
                name="fraud-model-v3",
                asset_type=AssetType.FINE_TUNED_MODEL,
                model_provider="internal",
                model_name="fraud-model-v3",
                license_type="Apache-2.0",
                source_id=f"sha256:{DIGEST}@/srv/models/fraud-v3.safetensors",
                parameter_count="7B",
                data_classification=DataClassification.RESTRICTED,
                regulatory_scope=("gdpr",),
                depends_on=(
                    {"target": "transactions-2025", "relation": Relation.TRAINED_ON},
                    {"target": "not-registered-anywhere", "relation": Relation.DEPENDS_ON},
                ),
            ),
            source="manual",
        )
        register(
            session,
            AssetSpec(
                name="transactions-2025",
                asset_type=AssetType.TRAINING_DATASET,
                data_classification=DataClassification.REGULATED,
            ),
            source="manual",
        )
        register(
            session,
            AssetSpec(
                name="Bedrock Claude",
                asset_type=AssetType.API_ENDPOINT,
                model_provider="aws_bedrock",
                api_endpoint="https://bedrock-runtime.us-east-1.amazonaws.com",
                data_classification=DataClassification.CONFIDENTIAL,
                org="acme",
            ),
            source="manual",
        )


def _comparable(text: str) -> dict[str, Any]:
    document = json.loads(text)
    document.pop("serialNumber")
    document["metadata"].pop("timestamp")
    for item in [*document.get("components", []), *document.get("services", [])]:
        item["properties"] = [p for p in item["properties"] if p["name"] != "garrison:asset_id"]
    return document


def test_export_is_valid_cyclonedx_1_6(store: Store) -> None:
    _populate(store)
    with store.session() as session:
        text = export_bom(session)
    validate_bom(text, "1.6")
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    components = {c["name"]: c for c in document["components"]}
    fraud = components["fraud-model-v3"]
    assert fraud["type"] == "machine-learning-model"
    assert fraud["hashes"] == [{"alg": "SHA-256", "content": DIGEST}]
    assert fraud["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    dataset_ref = components["transactions-2025"]["bom-ref"]
    assert fraud["modelCard"]["modelParameters"]["datasets"] == [{"ref": dataset_ref}]
    assert components["transactions-2025"]["type"] == "data"
    assert components["transactions-2025"]["data"][0]["classification"] == "regulated"
    gpt = components["openai/gpt-4o-mini"]
    assert gpt["modelCard"]["considerations"]["useCases"] == ["used by northwind-rag"]
    assert components["OPENAI_API_KEY"]["type"] == "cryptographic-asset"
    services = {s["name"]: s for s in document["services"]}
    assert services["github"]["properties"]
    bedrock = services["Bedrock Claude"]
    assert bedrock["endpoints"] == ["https://bedrock-runtime.us-east-1.amazonaws.com"]
    assert bedrock["x-trust-boundary"] is True
    assert bedrock["data"] == [{"flow": "bi-directional", "classification": "confidential"}]
    rag = components["northwind-rag"]["bom-ref"]
    depends = next(d for d in document["dependencies"] if d["ref"] == rag)
    assert gpt["bom-ref"] in depends["dependsOn"]


def test_round_trip_loses_nothing(store: Store, tmp_path: Path) -> None:
    _populate(store)
    with store.session() as session:
        first = export_bom(session)
    (tmp_path / "bom.json").write_text(first)
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with empty.session() as session:
            summary = import_bom(session, tmp_path / "bom.json")
            assert summary.garrison and summary.skipped == {}
            assert {run.org for run in summary.runs} == {"default", "acme"}
        with empty.session() as session:
            second = export_bom(session)
            fraud = next(a for a in search(session, AssetFilter()) if a.name == "fraud-model-v3")
            assert fraud.parameter_count == 7_000_000_000
    finally:
        empty.dispose()
    assert _comparable(first) == _comparable(second)


def test_third_party_bom(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.cdx.json"
    path.write_text(json.dumps(THIRD_PARTY))
    with store.session() as session:
        summary = import_bom(session, path, org="acme")
        assert summary.imported == 3 and summary.skipped == {"library": 1}
    with store.session() as session:
        assets = {a.name: a for a in search(session, AssetFilter(org="acme"))}
        llama = assets["meta-llama/Llama-3.1-8B-Instruct"]
        assert llama.asset_type is AssetType.FOUNDATION_MODEL
        assert llama.model_provider == "meta"
        assert llama.license_type == "llama3.1"
        assert llama.source_id is not None and llama.source_id.startswith("pkg:huggingface/")
        assert f"sha256:{DIGEST}" in llama.tags
        tickets = assets["support-tickets-2024"]
        assert tickets.data_classification is DataClassification.CONFIDENTIAL
        service = assets["OpenAI chat completions"]
        assert service.api_endpoint == "https://api.openai.com/v1/chat/completions"
        assert service.data_classification is DataClassification.INTERNAL
        from garrison.inventory import get_asset_detail

        trained = get_asset_detail(session, llama.id).upstream
        assert [(d.target_id, d.relation) for d in trained] == [(tickets.id, Relation.TRAINED_ON)]
        served = get_asset_detail(session, service.id).upstream
        assert [(d.target_id, d.relation) for d in served] == [(llama.id, Relation.DEPENDS_ON)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}', "SPDX document"),
        ('{"SchemaVersion": 2, "Results": []}', "not a CycloneDX BOM"),
        ('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>', "XML"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1}', "CycloneDX 1.4"),
        ("not json at all", "not JSON"),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"name": "x"}]}',
            "$.components[0]",
        ),
    ],
)
def test_wrong_formats_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    with pytest.raises(AibomError) as caught:
        read_bom(path)
    assert message in caught.value.message
