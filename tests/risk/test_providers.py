"""The extension point for factors from other pillars."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from garrison.inventory.models import AIAsset
from garrison.risk import (
    ProviderContext,
    RiskAdjustment,
    RiskConfig,
    RiskProviderError,
    explain,
    risk_factor_providers,
)
from garrison.risk.config import Dimension
from garrison.risk.providers import collect
from tests.risk.conftest import NOW, make_asset


def open_red_team_findings(context: ProviderContext, asset: AIAsset) -> Iterator[RiskAdjustment]:
    """A stand-in for the red-team pillar: two open findings on agents."""
    if asset.asset_type == "ai_agent":
        yield RiskAdjustment(
            dimension=Dimension.CAPABILITY_RISK,
            points=8,
            explanation="2 open red-team findings (prompt injection)",
            refs=("RT-1", "RT-2"),
        )
        yield RiskAdjustment(
            dimension=Dimension.DEPLOYMENT_EXPOSURE,
            points=45,
            explanation="incident storm",
        )


@pytest.fixture
def registered() -> Iterator[str]:
    name = "test-red-team"
    risk_factor_providers.register(name, open_red_team_findings)
    try:
        yield name
    finally:
        risk_factor_providers._plugins.pop(name, None)


def test_registered_provider_raises_the_score_within_bounds(
    config: RiskConfig, registered: str
) -> None:
    asset = make_asset(asset_type="ai_agent", exposure="vpc", environment="production")
    outputs = collect(ProviderContext(session=None, now=NOW), asset)
    assert registered in [o.provider for o in outputs]
    plain = explain(asset, [], config, as_of=NOW.date(), asset_id="a")
    raised = explain(asset, [], config, as_of=NOW.date(), asset_id="a", providers=outputs)
    assert raised.inherent > plain.inherent
    assert registered in raised.providers
    factors = {f.dimension: f for f in raised.factors}
    capability = factors[Dimension.CAPABILITY_RISK]
    assert capability.score == min(100, capability.base_score + 8)
    exposure = factors[Dimension.DEPLOYMENT_EXPOSURE]
    (applied,) = exposure.adjustments
    assert applied.requested == 45
    assert applied.applied == config.providers.max_points  # clipped
    assert exposure.score == exposure.base_score + config.providers.max_points
    assert applied.explanation == "incident storm"


def test_total_per_dimension_is_bounded(config: RiskConfig) -> None:
    def many(context: ProviderContext, asset: AIAsset) -> list[RiskAdjustment]:
        return [
            RiskAdjustment(dimension=Dimension.SUPPLY_CHAIN, points=20, explanation=f"#{i}")
            for i in range(5)
        ]

    asset = make_asset()
    outputs = collect(ProviderContext(session=None, now=NOW), asset, [("many", many)])
    result = explain(asset, [], config, as_of=NOW.date(), asset_id="a", providers=outputs)
    factor = next(f for f in result.factors if f.dimension is Dimension.SUPPLY_CHAIN)
    assert sum(a.applied for a in factor.adjustments) == config.providers.max_total
    assert factor.score == factor.base_score + config.providers.max_total


def test_provider_can_lower_a_score_but_not_below_zero(config: RiskConfig) -> None:
    def calm(context: ProviderContext, asset: AIAsset) -> list[RiskAdjustment]:
        return [
            RiskAdjustment(
                dimension=Dimension.DATA_SENSITIVITY, points=-20, explanation="tokenised"
            )
        ]

    asset = make_asset(data_classification="public")
    outputs = collect(ProviderContext(session=None, now=NOW), asset, [("calm", calm)])
    result = explain(asset, [], config, as_of=NOW.date(), asset_id="a", providers=outputs)
    assert next(f for f in result.factors if f.dimension is Dimension.DATA_SENSITIVITY).score == 0


def test_failing_or_invalid_provider_is_named() -> None:
    def broken(context: ProviderContext, asset: AIAsset) -> list[RiskAdjustment]:
        raise RuntimeError("red-team store offline")

    def wrong(context: ProviderContext, asset: AIAsset) -> list[object]:
        return [{"dimension": "nope"}]

    context = ProviderContext(session=None, now=NOW)
    with pytest.raises(RiskProviderError, match="'broken' failed: red-team store offline"):
        collect(context, make_asset(), [("broken", broken)])
    with pytest.raises(RiskProviderError, match="'wrong'"):
        collect(context, make_asset(), [("wrong", wrong)])  # type: ignore[list-item]
