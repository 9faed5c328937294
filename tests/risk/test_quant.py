"""The Monte Carlo: compound Poisson (a loss per event), not frequency x one draw."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from garrison.controls import ControlLibrary
from garrison.risk import RiskConfig, controls_for, explain, quantify
from garrison.risk.config import LossRange
from garrison.risk.quant import LognormalLoss, simulate_annual_losses
from tests.risk.conftest import NOW, make_asset, with_states

LOSS = LognormalLoss.from_interval(10_000, 1_000_000)


def test_lognormal_matches_its_90_percent_interval() -> None:
    draws = np.random.default_rng(1).lognormal(LOSS.mu, LOSS.sigma, 400_000)
    assert np.percentile(draws, 5) == pytest.approx(10_000, rel=0.02)
    assert np.percentile(draws, 95) == pytest.approx(1_000_000, rel=0.02)
    assert draws.mean() == pytest.approx(LOSS.mean, rel=0.02)


@pytest.mark.parametrize("frequency", [0.3, 2.0, 6.0])
def test_mean_annual_loss_is_frequency_times_mean_loss(frequency: float) -> None:
    annual, counts = simulate_annual_losses(frequency, LOSS, years=200_000, seed=42)
    assert counts.mean() == pytest.approx(frequency, rel=0.02)
    assert annual.mean() == pytest.approx(frequency * LOSS.mean, rel=0.03)


def test_each_event_draws_its_own_loss() -> None:
    years, seed, frequency = 2_000, 9, 3.0
    annual, counts = simulate_annual_losses(frequency, LOSS, years=years, seed=seed)
    # Replay the generator: a year's loss is the sum of that year's own draws.
    rng = np.random.default_rng(seed)
    replay_counts = rng.poisson(frequency, size=years)
    draws = rng.lognormal(LOSS.mu, LOSS.sigma, size=int(replay_counts.sum()))
    assert (counts == replay_counts).all()
    start = 0
    for year in range(years):
        n = int(counts[year])
        assert annual[year] == pytest.approx(math.fsum(draws[start : start + n]), rel=1e-12)
        start += n
    busy = next(y for y in range(years) if counts[y] >= 2)
    offset = int(counts[:busy].sum())
    first, second = draws[offset], draws[offset + 1]
    assert first != second  # not one draw multiplied by the count


def test_variance_is_compound_poisson_not_frequency_times_one_draw() -> None:
    frequency = 2.0
    small = LognormalLoss.from_interval(1_000, 20_000)
    annual, _ = simulate_annual_losses(frequency, small, years=400_000, seed=3)
    second_moment = math.exp(2 * small.mu + 2 * small.sigma**2)
    compound = frequency * second_moment  # Var(sum of N iid losses), N ~ Poisson
    # pyfair's N x X: Var = E[N^2] E[X^2] - (E[N] E[X])^2
    one_draw = (frequency + frequency**2) * second_moment - (frequency * small.mean) ** 2
    assert annual.var() == pytest.approx(compound, rel=0.05)
    assert abs(annual.var() - one_draw) > 0.3 * compound


def test_probability_of_a_loss_free_year() -> None:
    annual, _ = simulate_annual_losses(0.5, LOSS, years=100_000, seed=5)
    assert (annual == 0).mean() == pytest.approx(math.exp(-0.5), abs=0.01)


def test_quantify_is_seeded_decimal_and_controls_reduce_it(
    config: RiskConfig, library: ControlLibrary
) -> None:
    asset = make_asset(
        asset_type="llm_application", data_classification="confidential", exposure="public"
    )
    controls = controls_for(asset, library, {})
    bare = explain(asset, controls, config, as_of=NOW.date(), asset_id="a")
    first = quantify(asset, bare, controls, config, simulations=20_000)
    again = quantify(asset, bare, controls, config, simulations=20_000)
    assert first == again
    assert isinstance(first.annualized_loss_expectancy, Decimal)
    assert first.annualized_loss_expectancy == first.annualized_loss_expectancy.quantize(
        Decimal("0.01")
    )
    assert first.inherent_frequency == pytest.approx(
        config.quantification.max_events_per_year * bare.inherent / 100
    )
    ale = float(first.annualized_loss_expectancy)
    loss = LognormalLoss.from_interval(20_000, 1_000_000)
    assert ale == pytest.approx(first.frequency * loss.mean, rel=0.1)
    ps = [first.percentiles[p] for p in (50, 90, 95, 99)]
    assert ps == sorted(ps)
    probabilities = [p.probability for p in first.exceedance]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(first.exceedance) == config.quantification.exceedance_points

    guarded = with_states(controls, {c.id: "operational" for c in controls})
    result = explain(asset, guarded, config, as_of=NOW.date(), asset_id="a")
    protected = quantify(asset, result, guarded, config, simulations=20_000)
    assert protected.frequency < first.frequency
    assert protected.magnitude_reduction > 0
    assert protected.annualized_loss_expectancy < first.annualized_loss_expectancy


def test_quantify_overrides(config: RiskConfig) -> None:
    asset = make_asset(data_classification="public")
    result = explain(asset, [], config, as_of=NOW.date(), asset_id="a")
    out = quantify(
        asset,
        result,
        [],
        config,
        simulations=50_000,
        seed=11,
        frequency=1.0,
        loss=LossRange(low=1_000, high=10_000),
    )
    expected = LognormalLoss.from_interval(1_000, 10_000).mean
    assert float(out.annualized_loss_expectancy) == pytest.approx(expected, rel=0.05)
    assert out.seed == 11 and out.simulations == 50_000
