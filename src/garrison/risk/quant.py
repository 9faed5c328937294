"""A FAIR-style quantitative view: how much an asset's risk may cost per year.

Loss events per simulated year are Poisson(λ); each event draws its own lognormal loss and a
year's loss is the sum over its events (Netflix riskquant's approach). pyfair instead multiplies
the yearly frequency by a single loss draw, which makes every event in a year cost the same and
inflates the tail. Preventive controls lower the frequency; detective and corrective ones lower
the magnitude (they shorten and contain an event). A seeded ``numpy.random.Generator`` makes every
run reproducible; money leaves this module as ``Decimal``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from garrison.controls.models import ControlType
from garrison.inventory.models import AssetSpec
from garrison.risk.config import LossRange, RiskConfig
from garrison.risk.models import ControlInput, RiskExplanation
from garrison.risk.scoring import category_effects, dimension_effectiveness

Z90 = 1.6448536269514722
"""The standard normal quantile at 95 %: a 90 % interval spans ±Z90 standard deviations."""
CENT = Decimal("0.01")
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class LognormalLoss:
    mu: float
    sigma: float

    @classmethod
    def from_interval(cls, low: float, high: float) -> LognormalLoss:
        """The lognormal whose 5th and 95th percentiles are ``low`` and ``high``."""
        return cls(
            mu=(math.log(low) + math.log(high)) / 2,
            sigma=(math.log(high) - math.log(low)) / (2 * Z90),
        )

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)


def simulate_annual_losses(
    frequency: float,
    loss: LognormalLoss,
    *,
    years: int,
    seed: int,
    magnitude_factor: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Simulated yearly losses and event counts: per year, Poisson(frequency) events, each with
    its own lognormal loss (scaled by ``magnitude_factor``), summed."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(frequency, size=years).astype(np.int64)
    per_event = rng.lognormal(loss.mu, loss.sigma, size=int(counts.sum())) * magnitude_factor
    year_of_event = np.repeat(np.arange(years), counts)
    annual = np.bincount(year_of_event, weights=per_event, minlength=years).astype(np.float64)
    return annual, counts


def money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_EVEN)


class ExceedancePoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    loss: Decimal
    probability: float
    """Probability that a year's loss is at least ``loss``."""


class QuantResult(BaseModel):
    """The quantitative view of one asset; money as Decimal (a string in JSON)."""

    model_config = ConfigDict(frozen=True)

    asset_id: str
    asset_name: str
    currency: str
    simulations: int
    seed: int
    inherent_frequency: float
    frequency: float
    """Events per year after preventive controls."""
    preventive_reduction: float
    magnitude_reduction: float
    loss_low: Decimal
    loss_high: Decimal
    expected_loss_per_event: Decimal
    annualized_loss_expectancy: Decimal
    percentiles: dict[int, Decimal]
    probability_of_any_loss: float
    exceedance: tuple[ExceedancePoint, ...]


def exceedance_curve(annual: NDArray[np.float64], points: int) -> tuple[ExceedancePoint, ...]:
    """Loss-exceedance points on a log scale between the smallest and largest positive year."""
    positive = annual[annual > 0]
    if positive.size == 0:
        return (ExceedancePoint(loss=money(0), probability=0.0),)
    thresholds = np.geomspace(float(positive.min()), float(positive.max()), num=points)
    ordered = np.sort(annual)
    # searchsorted counts the years below each threshold; the rest meet or exceed it.
    below = np.searchsorted(ordered, thresholds, side="left")
    return tuple(
        ExceedancePoint(loss=money(t), probability=float(1 - b / annual.size))
        for t, b in zip(thresholds, below, strict=True)
    )


def _effectiveness_of(
    controls: Sequence[ControlInput],
    types: set[ControlType],
    config: RiskConfig,
    weights: dict[str, float],
) -> float:
    chosen = [c for c in controls if c.type in types]
    per_dimension = dimension_effectiveness(
        category_effects(chosen, config), config.control_effectiveness.cap
    )
    # Weighted by each dimension's part of the inherent risk, so the reduction matches the score's.
    return math.fsum(weights[d.value] * per_dimension[d][0] for d in per_dimension)


def quantify(
    asset: AssetSpec,
    explanation: RiskExplanation,
    controls: Sequence[ControlInput],
    config: RiskConfig,
    *,
    simulations: int | None = None,
    seed: int | None = None,
    frequency: float | None = None,
    loss: LossRange | None = None,
) -> QuantResult:
    """The annualized loss of ``asset``, from its assessment and its controls."""
    settings = config.quantification
    years = simulations or settings.simulations
    chosen_seed = settings.seed if seed is None else seed
    if loss is None:
        loss = (
            settings.unclassified_loss
            if asset.data_classification is None
            else settings.loss_per_event[asset.data_classification]
        )
    inherent_frequency = (
        frequency
        if frequency is not None
        else settings.max_events_per_year * explanation.inherent / 100.0
    )
    total = math.fsum(f.weighted for f in explanation.factors)
    weights = {
        f.dimension.value: (f.weighted / total if total else 0.0) for f in explanation.factors
    }
    preventive = _effectiveness_of(controls, {ControlType.PREVENTIVE}, config, weights)
    containing = _effectiveness_of(
        controls, {ControlType.DETECTIVE, ControlType.CORRECTIVE}, config, weights
    )
    distribution = LognormalLoss.from_interval(loss.low, loss.high)
    residual_frequency = inherent_frequency * (1 - preventive)
    annual, _ = simulate_annual_losses(
        residual_frequency,
        distribution,
        years=years,
        seed=chosen_seed,
        magnitude_factor=1 - containing,
    )
    return QuantResult(
        asset_id=explanation.asset_id,
        asset_name=explanation.asset_name,
        currency=settings.currency,
        simulations=years,
        seed=chosen_seed,
        inherent_frequency=inherent_frequency,
        frequency=residual_frequency,
        preventive_reduction=preventive,
        magnitude_reduction=containing,
        loss_low=money(loss.low),
        loss_high=money(loss.high),
        expected_loss_per_event=money(distribution.mean * (1 - containing)),
        annualized_loss_expectancy=money(float(annual.mean())),
        percentiles={p: money(float(np.percentile(annual, p))) for p in PERCENTILES},
        probability_of_any_loss=float((annual > 0).mean()),
        exceedance=exceedance_curve(annual, settings.exceedance_points),
    )
