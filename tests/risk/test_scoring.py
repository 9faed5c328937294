"""The pure core: no database."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest

from garrison.controls import ControlLibrary
from garrison.inventory.models import (
    AssetType,
    DataClassification,
    Environment,
    Exposure,
    RegulatoryScope,
    ToolPermission,
)
from garrison.risk import (
    ControlInput,
    ProviderOutput,
    RiskAdjustment,
    RiskConfig,
    controls_for,
    explain,
)
from garrison.risk.config import Dimension
from garrison.risk.scoring import (
    noisy_or,
    rounded_shares,
    score_capability_risk,
    score_data_sensitivity,
    score_deployment_exposure,
    score_model_provenance,
    score_regulatory_impact,
    score_supply_chain,
)
from tests.risk.conftest import NOW, make_asset, with_states

TODAY = NOW.date()


# --- each dimension -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classification", "expected"),
    [("public", 10), ("internal", 30), ("confidential", 60), ("restricted", 85), ("regulated", 95)],
)
def test_data_sensitivity(config: RiskConfig, classification: str, expected: float) -> None:
    assert (
        score_data_sensitivity(make_asset(data_classification=classification), config)[2]
        == expected
    )


def test_unclassified_data_is_not_silently_internal(config: RiskConfig) -> None:
    value, _, score = score_data_sensitivity(make_asset(), config)
    assert value == "unclassified"
    assert score == config.dimensions.data_sensitivity.unclassified == 60


def test_every_classification_has_a_score(config: RiskConfig) -> None:
    for member in DataClassification:
        score_data_sensitivity(make_asset(data_classification=member), config)


def test_exposure_by_environment_matrix(config: RiskConfig) -> None:
    def score(exposure: str, environment: str) -> float:
        return score_deployment_exposure(
            make_asset(exposure=exposure, environment=environment), config
        )[2]

    assert score("public", "production") == 90
    assert score("public", "development") == 36
    assert score("internal", "research") == 6
    assert score("unknown", "unknown") == 60
    for exposure in Exposure:
        for environment in Environment:
            assert 0 <= score(exposure, environment) <= 100


def test_public_exposure_ranks_above_vpc_and_internal(config: RiskConfig) -> None:
    for environment in Environment:
        scores = [
            score_deployment_exposure(make_asset(exposure=e, environment=environment), config)[2]
            for e in ("internal", "vpc", "public")
        ]
        assert scores == sorted(scores)


def test_provenance_provider_groups_and_self_hosting(config: RiskConfig) -> None:
    reviewed = TODAY - timedelta(days=10)

    def score(**kw: object) -> float:
        return score_model_provenance(
            make_asset(last_security_review=reviewed, **kw), config, TODAY
        )[2]

    assert score(model_provider="openai") == 20
    assert score(model_provider="OpenAI ") == 20  # the inventory lowercases; still matched
    assert score(model_provider="aws_bedrock") == 15
    assert score(model_provider="acme-ml") == 50
    # Self-hosted open weights from a major provider are the organization's own posture.
    assert score(model_provider="google", is_self_hosted=True) == 60


def test_provenance_review_age_boundaries(config: RiskConfig) -> None:
    def score(review: date | None) -> float:
        asset = make_asset(model_provider="openai", last_security_review=review)
        return score_model_provenance(asset, config, TODAY)[2]

    assert score(None) == 40
    assert score(TODAY - timedelta(days=90)) == 20  # 90 days is not yet stale
    assert score(TODAY - timedelta(days=91)) == 30
    assert score(TODAY) == 20


def test_provenance_review_after_as_of_is_fresh_not_negative(config: RiskConfig) -> None:
    asset = make_asset(model_provider="openai", last_security_review=TODAY)
    value, _, score = score_model_provenance(asset, config, TODAY - timedelta(days=3))
    assert score == 20
    assert "review_age_days=0" in value


def test_regulatory_impact(config: RiskConfig) -> None:
    def score(*scopes: str) -> float:
        return score_regulatory_impact(make_asset(regulatory_scope=list(scopes)), config)[2]

    assert score() == 10
    assert score("ccpa") == 50
    assert score("gdpr") == 60
    assert score("hipaa") == 90
    assert score("gdpr", "ccpa") == 65  # the highest, plus 5 per further scope
    assert score("hipaa", "sox", "pci_dss", "gdpr", "ccpa", "eu_ai_act_high_risk") == 100
    for scope in RegulatoryScope:
        assert 0 <= score(scope) <= 100


def test_capability_by_type_tools_and_approval(config: RiskConfig) -> None:
    def score(asset_type: str, tools: Sequence[Mapping[str, object]] = ()) -> float:
        return score_capability_risk(make_asset(asset_type=asset_type, tools=list(tools)), config)[
            2
        ]

    assert score("evaluation_dataset") == 15
    assert score("llm_application") == 65
    unattended: list[Mapping[str, object]] = [
        {"name": "shell", "permissions": ["execute_code", "read"]}
    ]
    approved: list[Mapping[str, object]] = [
        {"name": "shell", "permissions": ["execute_code"], "requires_approval": True}
    ]
    assert score("llm_application", unattended) == 80
    assert score("llm_application", approved) == 72.5
    # A permission reachable without approval through any tool counts in full.
    assert score("llm_application", unattended + approved) == 80
    assert score("ai_agent", [{"name": "pay", "permissions": list(ToolPermission)}]) == 100
    for asset_type in AssetType:
        assert 0 <= score(asset_type) <= 100


def test_supply_chain(config: RiskConfig) -> None:
    def score(**kw: object) -> float:
        return score_supply_chain(make_asset(**kw), config)[2]

    assert score() == 50
    assert score(sbom_available=True, license_type="apache-2.0") == 20
    assert score(license_type="Unknown") == 50
    assert score(source_url="https://huggingface.co/org/model") == 60
    assert score(source_url="https://cdn-lfs.huggingface.co/x") == 60
    # A host name, not a substring: the seed's check matched this one.
    assert score(source_url="https://evil.example/huggingface.co/model") == 50
    assert score(source_url="https://nothuggingface.co/model") == 50


# --- levels, inherent, residual -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, "low"),
        (24.99, "low"),
        (25, "medium"),
        (49.99, "medium"),
        (50, "high"),
        (75, "critical"),
        (100, "critical"),
    ],
)
def test_level_boundaries(config: RiskConfig, score: float, level: str) -> None:
    assert config.level_for(score).name == level


def test_inherent_is_the_weighted_sum_and_shares_sum_to_100(config: RiskConfig) -> None:
    result = explain(
        make_asset(data_classification="regulated"), [], config, as_of=TODAY, asset_id="a"
    )
    by_hand = sum(f.score * f.weight for f in result.factors)
    assert result.inherent == round(by_hand, 2)
    assert math.fsum(f.share for f in result.factors) == pytest.approx(100.0, abs=1e-9)
    assert sum(rounded_shares([f.share for f in result.factors])) == pytest.approx(100.0, abs=1e-9)
    assert result.residual == result.inherent  # no controls
    assert result.effectiveness == 0


def test_rounded_shares_always_print_as_100() -> None:
    rng = random.Random(7)
    for _ in range(500):
        raw = [rng.random() for _ in range(6)]
        shares = [100 * r / sum(raw) for r in raw]
        rounded = rounded_shares(shares)
        assert round(sum(rounded), 6) == 100
        assert all(abs(a - b) < 0.01 + 1e-9 for a, b in zip(rounded, shares, strict=True))


def test_only_operational_controls_reduce_risk(
    config: RiskConfig, agent_controls: list[ControlInput]
) -> None:
    asset = make_asset(asset_type="ai_agent")
    for state in ("planned", "implemented", "failed"):
        controls = with_states(agent_controls, {c.id: state for c in agent_controls})
        result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
        assert result.residual == result.inherent
        assert not any(c.counts for c in result.controls)
        assert len(result.controls) == len(controls) and not result.missing


def test_overlapping_controls_do_not_add_linearly(
    config: RiskConfig, agent_controls: list[ControlInput]
) -> None:
    monitoring = [c for c in agent_controls if c.category == "monitoring"]
    assert len(monitoring) > 5
    controls = with_states(agent_controls, {c.id: "operational" for c in monitoring})
    result = explain(make_asset(asset_type="ai_agent"), controls, config, as_of=TODAY, asset_id="a")
    (category,) = result.categories
    assert category.combined == pytest.approx(noisy_or(c.weight for c in monitoring))
    assert category.combined < 1 < sum(c.weight for c in monitoring)
    assert category.effect == pytest.approx(
        config.control_effectiveness.categories[category.category].max * category.combined
    )


def test_cap_no_asset_is_ever_risk_free(
    config: RiskConfig, agent_controls: list[ControlInput]
) -> None:
    asset = make_asset(asset_type="ai_agent", data_classification="regulated", exposure="public")
    controls = with_states(agent_controls, {c.id: "operational" for c in agent_controls})
    result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
    cap = config.control_effectiveness.cap
    assert any(f.capped for f in result.factors)
    assert all(f.effectiveness <= cap for f in result.factors)
    assert result.residual >= round(result.inherent * (1 - cap), 2) > 0
    assert result.recommendations == ()  # nothing left to deploy


def test_residual_never_exceeds_inherent(config: RiskConfig, library: ControlLibrary) -> None:
    rng = random.Random(2026)
    states = ["operational", "implemented", "planned", "failed", None]
    for _ in range(200):
        asset = make_asset(
            asset_type=rng.choice(list(AssetType)),
            data_classification=rng.choice([*DataClassification, None]),
            exposure=rng.choice(list(Exposure)),
            environment=rng.choice(list(Environment)),
            regulatory_scope=rng.sample(list(RegulatoryScope), rng.randint(0, 3)),
            sbom_available=rng.random() < 0.5,
        )
        controls = [
            c.model_copy(update={"state": rng.choice(states)})
            for c in controls_for(asset, library, {})
        ]
        result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
        assert 0 <= result.residual <= result.inherent <= 100
        assert 0 <= result.effectiveness <= config.control_effectiveness.cap + 1e-12
        assert math.fsum(f.share for f in result.factors) == pytest.approx(100.0, abs=1e-9)
        assert result.level == config.level_for(result.residual).name
        residual = math.fsum(f.residual for f in result.factors)
        assert result.residual == round(residual, 2)


def test_level_is_taken_from_the_residual_shown(config: RiskConfig) -> None:
    # The seed took the level from the unrounded residual and printed the rounded one, so 74.55
    # printed as 75 (with precision 0) but was called high. Here the printed number decides.
    coarse = config.model_copy(update={"precision": 0})
    asset = make_asset(
        data_classification="confidential",
        exposure="public",
        environment="production",
        model_provider="openai",
        last_security_review=TODAY,
        regulatory_scope=["hipaa"],
    )
    nudges = ProviderOutput(
        provider="test",
        adjustments=(
            RiskAdjustment(dimension=Dimension.DATA_SENSITIVITY, points=20, explanation="x"),
            RiskAdjustment(dimension=Dimension.CAPABILITY_RISK, points=20, explanation="x"),
            RiskAdjustment(dimension=Dimension.DEPLOYMENT_EXPOSURE, points=10, explanation="x"),
            RiskAdjustment(dimension=Dimension.REGULATORY_IMPACT, points=2, explanation="x"),
        ),
    )
    result = explain(asset, [], coarse, as_of=TODAY, asset_id="a", providers=[nudges])
    unrounded = math.fsum(f.residual for f in result.factors)
    assert unrounded == pytest.approx(74.55)
    assert config.level_for(unrounded).name == "high"
    assert result.residual == 75
    assert result.level == "critical"


def test_recommendations_name_missing_applicable_library_controls(
    config: RiskConfig, library: ControlLibrary
) -> None:
    asset = make_asset(asset_type="training_dataset", data_classification="regulated")
    controls = controls_for(asset, library, {})
    first = controls[0].id
    controls = with_states(controls, {first: "operational"})
    result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
    assert result.recommendations
    applicable = {c.id for c in library.applicable("training_dataset")}
    reductions = [r.expected_reduction for r in result.recommendations]
    assert reductions == sorted(reductions, reverse=True)
    for rec in result.recommendations:
        assert rec.control_id in library and rec.control_id in applicable
        assert rec.control_id != first
        assert rec.state == "missing"
        assert rec.expected_residual == pytest.approx(
            result.residual - rec.expected_reduction, abs=0.006
        )
        assert set(rec.dimensions) == set(
            config.control_effectiveness.categories[rec.category].dimensions
        )
    # The top recommendation really does reduce the residual by what it says.
    top = result.recommendations[0]
    again = explain(
        asset,
        with_states(controls, {top.control_id: "operational"}),
        config,
        as_of=TODAY,
        asset_id="a",
    )
    assert again.residual == round(top.expected_residual, 2)


def test_recommendation_reductions_match_a_full_rescore(
    config: RiskConfig, agent_controls: list[ControlInput]
) -> None:
    asset = make_asset(asset_type="ai_agent", data_classification="confidential", exposure="public")
    controls = with_states(agent_controls, {c.id: "operational" for c in agent_controls[::4]})
    result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
    unrounded = math.fsum(f.residual for f in result.factors)
    for rec in result.recommendations:
        again = explain(
            asset,
            with_states(controls, {rec.control_id: "operational"}),
            config,
            as_of=TODAY,
            asset_id="a",
        )
        assert math.fsum(f.residual for f in again.factors) == pytest.approx(
            unrounded - rec.expected_reduction, abs=1e-9
        )


def test_states_of_controls_that_do_not_apply_are_ignored(library: ControlLibrary) -> None:
    asset = make_asset(asset_type="api_key")
    applicable = {c.id for c in library.applicable("api_key")}
    foreign = next(c for c in library if c.id not in applicable)
    from garrison.controls.state import Attestation, ControlState

    states = {
        foreign.id: Attestation(
            asset_id="asset-1",
            control_id=foreign.id,
            state=ControlState.OPERATIONAL,
            actor="a",
            evidence=(),
            note="",
            attested_at=NOW,
            recorded_at=NOW,
        )
    }
    assert foreign.id not in {c.id for c in controls_for(asset, library, states)}


def test_explanation_factor_table_reproduces_the_score_by_hand(
    config: RiskConfig, agent_controls: list[ControlInput]
) -> None:
    asset = make_asset(
        asset_type="ai_agent",
        data_classification="restricted",
        exposure="vpc",
        environment="production",
    )
    controls = with_states(agent_controls, {c.id: "operational" for c in agent_controls[::3]})
    result = explain(asset, controls, config, as_of=TODAY, asset_id="a")
    cap = result.cap
    for factor in result.factors:
        acting = [e.effect for e in result.categories if factor.dimension in e.dimensions]
        assert factor.effectiveness == pytest.approx(min(cap, noisy_or(acting)))
        assert factor.residual == pytest.approx(
            factor.score * factor.weight * (1 - factor.effectiveness)
        )
    assert result.residual == round(sum(f.residual for f in result.factors), 2)
    assert {f.dimension for f in result.factors} == set(Dimension)
