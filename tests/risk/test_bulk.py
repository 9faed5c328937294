"""The bulk path (plain values, shared parts, JSON serialised once) against ``explain``."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from garrison.controls import ControlLibrary
from garrison.controls.state import attest
from garrison.inventory import (
    AIAsset,
    AssetSpec,
    AssetType,
    DataClassification,
    Environment,
    Exposure,
    RegulatoryScope,
    ToolPermission,
    asset_documents,
    register_many,
    search,
)
from garrison.risk import (
    AssessmentInputs,
    ProviderContext,
    RiskAdjustment,
    RiskConfig,
    RiskExplanation,
    assess_assets,
    controls_for,
    explain,
    recompute,
)
from garrison.risk.config import Dimension
from garrison.risk.engine import (
    _score_documents,
    assess_bulk,
    get_assessment,
    with_control_part,
)
from garrison.risk.models import CONTROL_ROW
from garrison.risk.providers import RiskFactorProvider, collect
from garrison.store import Store
from tests.risk.conftest import NOW, make_asset, with_states

STATES = ("operational", "implemented", "planned", "failed")
WITH_TOOLS = {"ai_agent", "llm_application", "mcp_server"}

tools = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["crm", "shell", "mail"]),
            "permissions": st.lists(st.sampled_from([p.value for p in ToolPermission]), max_size=3),
            "requires_approval": st.booleans(),
        }
    ),
    max_size=3,
)

ATTRIBUTES: dict[str, st.SearchStrategy[Any]] = {
    "asset_type": st.sampled_from([t.value for t in AssetType]),
    "data_classification": st.none() | st.sampled_from([c.value for c in DataClassification]),
    "exposure": st.sampled_from([e.value for e in Exposure]),
    "environment": st.sampled_from([e.value for e in Environment]),
    "regulatory_scope": st.lists(st.sampled_from([s.value for s in RegulatoryScope])),
    "model_provider": st.none() | st.sampled_from(["openai", "acme", "Anthropic ", "meta"]),
    "is_self_hosted": st.booleans(),
    "last_security_review": st.none()
    | st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 11, 19)),
    "sbom_available": st.booleans(),
    "license_type": st.none() | st.sampled_from(["apache-2.0", "unknown", "", "MIT"]),
    "source_url": st.none()
    | st.sampled_from(["https://huggingface.co/x", "evil.example/huggingface.co", "::"]),
    "tools": tools,
    "description": st.sampled_from(["", "a bot"]),
}
"""Every attribute the scorer reads, plus one it does not (``description``)."""
attributes = st.fixed_dictionaries(ATTRIBUTES)


def build(index: int, values: dict[str, Any]) -> AIAsset | None:
    values = dict(values)
    if values["asset_type"] not in WITH_TOOLS:
        values["tools"] = []
    try:
        return make_asset(id=f"asset-{index}", name=f"asset {index}", **values)
    except ValidationError:
        return None


def states_for(asset: AIAsset, library: ControlLibrary, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    chosen = {
        c.id: rng.choice(STATES)
        for c in library.applicable(asset.asset_type.value)
        if rng.random() < 0.6
    }
    chosen["CTRL-NOT-APPLICABLE"] = "operational"  # a stray state is ignored
    return chosen


def penalty(context: ProviderContext, asset: AIAsset) -> Iterable[RiskAdjustment]:
    if asset.data_classification is not None:
        yield RiskAdjustment(
            dimension=Dimension.DEPLOYMENT_EXPOSURE, points=30, explanation="open findings"
        )
    if asset.tools:
        yield RiskAdjustment(dimension=Dimension.CAPABILITY_RISK, points=-40, explanation="sandbox")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(
        st.tuples(attributes, attributes, st.sampled_from(sorted(ATTRIBUTES))),
        min_size=1,
        max_size=4,
    ),
    seeds=st.lists(st.integers(0, 3), min_size=8, max_size=8),
    with_provider=st.booleans(),
)
def test_bulk_scoring_equals_explain(
    config: RiskConfig,
    library: ControlLibrary,
    pairs: list[tuple[dict[str, Any], dict[str, Any], str]],
    seeds: list[int],
    with_provider: bool,
) -> None:
    # Each asset next to a copy differing in one attribute, and repeated: the bulk path shares
    # explanations between assets with equal scoring facts and control states, so an attribute
    # the scorer reads but the sharing key misses would give the copy the original's score.
    assets: list[AIAsset] = []
    for base, other, field in pairs:
        variant = {**base, field: other[field]}
        for values in (base, variant, base):
            built = build(len(assets), values)
            if built is not None:
                assets.append(built)
    states = {a.id: states_for(a, library, seeds[n % len(seeds)]) for n, a in enumerate(assets)}
    providers: list[tuple[str, RiskFactorProvider]] = (
        [("penalty", penalty)] if with_provider else []
    )
    digest = config.digest()
    scored = _score_documents(
        None,
        [a.model_dump(mode="json") for a in assets],
        assets,
        states=states,
        config=config,
        library=library,
        providers=providers,
        now=NOW,
        digest=digest,
        progress=None,
    )
    assert len(scored) == len(assets)
    context = ProviderContext(session=None, now=NOW)
    for asset, result in zip(assets, scored, strict=True):
        controls = with_states(controls_for(asset, library, {}), states[asset.id])
        outputs = collect(context, asset, providers)
        expected = explain(
            asset, controls, config, as_of=NOW.date(), asset_id=asset.id, providers=outputs
        )
        assert RiskExplanation.model_validate(result.explanation) == expected
        stored = orjson.loads(result.explanation_json)
        assert not {"categories", "controls", "missing"} & set(stored)  # derived on reading
        inputs = AssessmentInputs(
            asset=asset.model_dump(mode="json"),
            controls=tuple(controls),
            providers=outputs,
            as_of=NOW.date(),
            config_digest=digest,
        )
        assert AssessmentInputs.model_validate_json(result.inputs_json) == inputs
        completed = with_control_part(stored, inputs, config.tables())
        assert RiskExplanation.model_validate(completed) == expected
        stored_inputs = orjson.loads(result.inputs_json)
        assert stored_inputs["asset"] == asset.model_dump(mode="json")
        assert [dict(zip(CONTROL_ROW, row, strict=True)) for row in stored_inputs["controls"]] == [
            c.model_dump(mode="json") for c in controls
        ]


def spec(i: int) -> AssetSpec:
    values: dict[str, Any] = {
        "name": f"model {i}",
        "asset_type": ("ai_agent", "foundation_model", "vector_database")[i % 3],
        "data_classification": ("public", "regulated", None)[i % 3],
        "exposure": ("public", "internal")[i % 2],
        "environment": "production",
        "regulatory_scope": [["gdpr", "hipaa"], []][i % 2],
        "last_security_review": NOW.date() - timedelta(days=40 * i),
        "source_id": f"bulk:{i}",
    }
    if i % 3 == 0:
        values["tools"] = [{"name": "pay", "permissions": ["financial_transaction"]}]
    return AssetSpec.model_validate(values)


@pytest.fixture
def estate(store: Store, library: ControlLibrary) -> list[str]:
    with store.session() as session:
        register_many(session, [(spec(i), []) for i in range(9)], source="test")
        assets = search(session)
        for n, asset in enumerate(assets):
            for k, control in enumerate(library.applicable(asset.asset_type.value)[:6]):
                attest(
                    session,
                    asset.id,
                    control.id,
                    STATES[(n + k) % 4],
                    "alice",
                    evidence=["https://ci.example.com/runs/1"],
                    at=NOW - timedelta(days=1),
                    library=library,
                )
        return [a.id for a in assets]


def test_asset_documents_equal_the_assets_search_returns(store: Store, estate: list[str]) -> None:
    with store.session() as session:
        documents = asset_documents(session)
        assets = search(session)
        assert [d["id"] for d in documents] == [a.id for a in assets] == estate
        for document, asset in zip(documents, assets, strict=True):
            assert document == asset.model_dump(mode="json")
            assert AIAsset.model_validate(document) == asset
        assert asset_documents(session, org="nobody") == []


def test_bulk_run_stores_what_assess_assets_stores(
    store: Store, estate: list[str], config: RiskConfig, library: ControlLibrary
) -> None:
    with store.session() as session:
        summaries = assess_bulk(session, config=config, library=library, now=NOW)
        assessments = assess_assets(session, config=config, library=library, now=NOW)
    assert [s.asset_id for s in summaries] == [a.asset_id for a in assessments] == estate
    assert len({s.assessment_id for s in summaries} | {a.id for a in assessments}) == 18
    with store.session() as session:
        for summary, assessment in zip(summaries, assessments, strict=True):
            stored = get_assessment(session, summary.assessment_id)
            assert stored.asset_id == summary.asset_id
            assert stored.explanation == assessment.explanation
            assert stored.inputs == assessment.inputs
            assert stored.summary().model_copy(update={"assessment_id": 0}) == (
                summary.model_copy(update={"assessment_id": 0})
            )
            assert recompute(session, stored) == stored.explanation
            assert get_assessment(session, assessment.id).explanation == assessment.explanation


def test_an_empty_inventory_assesses_nothing(store: Store, config: RiskConfig) -> None:
    with store.session() as session:
        assert assess_bulk(session, config=config, now=NOW) == []
