"""The risk model as validated data (``content/risk.yaml``).

Everything the seed hard-coded in its assessor (dimension weights, per-value scores, the level
thresholds, the control-effectiveness table) is content here, so an organization changes its risk
model by overriding one file. The seed's tables fell back to a silent default (``.get(x, 50)``)
for any value they did not list; here a missing or unknown value fails the load instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import orjson
from pydantic import Field, PrivateAttr, StringConstraints, field_validator, model_validator

from garrison.controls.models import ControlCategory
from garrison.core.content import ContentModel, content_file, load_content_file
from garrison.inventory.models import (
    AssetType,
    DataClassification,
    Environment,
    Exposure,
    RegulatoryScope,
    ToolPermission,
)
from garrison.risk.tables import ScoringTables, build_tables

RISK_FILE = "risk.yaml"
WEIGHT_TOLERANCE = 1e-9

Score = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
Points = Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
LevelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Money = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

E = TypeVar("E", bound=StrEnum)


class Dimension(StrEnum):
    DATA_SENSITIVITY = "data_sensitivity"
    DEPLOYMENT_EXPOSURE = "deployment_exposure"
    MODEL_PROVENANCE = "model_provenance"
    REGULATORY_IMPACT = "regulatory_impact"
    CAPABILITY_RISK = "capability_risk"
    SUPPLY_CHAIN = "supply_chain"


def require_all(value: Mapping[E, Any], enum: type[E], what: str) -> None:
    """Refuse a table that leaves an enum member without a value (the seed's silent default)."""
    missing = [member.value for member in enum if member not in value]
    if missing:
        raise ValueError(
            f"no value for {', '.join(missing)}; every {what} needs one "
            f"({', '.join(m.value for m in enum)})"
        )


class DataSensitivity(ContentModel):
    weight: Weight
    scores: dict[DataClassification, Score]
    unclassified: Score

    @field_validator("scores")
    @classmethod
    def _complete(cls, value: dict[DataClassification, float]) -> dict[DataClassification, float]:
        require_all(value, DataClassification, "data classification")
        return value


class DeploymentExposure(ContentModel):
    weight: Weight
    scores: dict[Exposure, dict[Environment, Score]]

    @field_validator("scores")
    @classmethod
    def _complete(
        cls, value: dict[Exposure, dict[Environment, float]]
    ) -> dict[Exposure, dict[Environment, float]]:
        require_all(value, Exposure, "exposure")
        for exposure, row in value.items():
            try:
                require_all(row, Environment, "environment")
            except ValueError as exc:
                raise ValueError(f"{exposure.value}: {exc}") from None
        return value


class ProviderGroup(ContentModel):
    providers: tuple[Annotated[str, StringConstraints(min_length=1, to_lower=True)], ...] = Field(
        min_length=1
    )
    score: Score


class ReviewAge(ContentModel):
    missing: Points
    stale_after_days: int = Field(gt=0, le=3650)
    stale: Points


class ModelProvenance(ContentModel):
    weight: Weight
    self_hosted: Score
    provider_groups: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], ProviderGroup
    ]
    other: Score
    review: ReviewAge

    @field_validator("provider_groups")
    @classmethod
    def _disjoint(cls, value: dict[str, ProviderGroup]) -> dict[str, ProviderGroup]:
        seen: dict[str, str] = {}
        for name, group in value.items():
            for provider in group.providers:
                if provider in seen:
                    raise ValueError(
                        f"provider {provider!r} is in both {seen[provider]!r} and {name!r}"
                    )
                seen[provider] = name
        return value


class RegulatoryImpact(ContentModel):
    weight: Weight
    none: Score
    scores: dict[RegulatoryScope, Score]
    additional_scope: Points = 0.0

    @field_validator("scores")
    @classmethod
    def _complete(cls, value: dict[RegulatoryScope, float]) -> dict[RegulatoryScope, float]:
        require_all(value, RegulatoryScope, "regulatory scope")
        return value


class CapabilityRisk(ContentModel):
    weight: Weight
    asset_types: dict[AssetType, Score]
    permissions: dict[ToolPermission, Points]
    approval_factor: Fraction

    @field_validator("asset_types")
    @classmethod
    def _types(cls, value: dict[AssetType, float]) -> dict[AssetType, float]:
        require_all(value, AssetType, "asset type")
        return value

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: dict[ToolPermission, float]) -> dict[ToolPermission, float]:
        require_all(value, ToolPermission, "tool permission")
        return value


class UntrustedSources(ContentModel):
    hosts: tuple[Annotated[str, StringConstraints(min_length=1, to_lower=True)], ...] = ()
    points: Points = 0.0


class SupplyChain(ContentModel):
    weight: Weight
    base: Score
    sbom_available: Points
    known_license: Points
    unknown_licenses: tuple[Annotated[str, StringConstraints(to_lower=True)], ...] = ()
    untrusted_sources: UntrustedSources = UntrustedSources()


class Dimensions(ContentModel):
    data_sensitivity: DataSensitivity
    deployment_exposure: DeploymentExposure
    model_provenance: ModelProvenance
    regulatory_impact: RegulatoryImpact
    capability_risk: CapabilityRisk
    supply_chain: SupplyChain

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Dimensions:
        weights = self.weights()
        total = sum(weights.values())
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            listed = " + ".join(f"{d.value} {w:g}" for d, w in weights.items())
            raise ValueError(f"dimension weights sum to {total!r}, not 1.0: {listed}")
        return self

    def weights(self) -> dict[Dimension, float]:
        return {d: getattr(self, d.value).weight for d in Dimension}


class Level(ContentModel):
    name: LevelName
    min: Score
    max: Score
    within_appetite: bool
    max_acceptance_days: int | None = Field(default=None, gt=0, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> Level:
        if self.min >= self.max:
            raise ValueError(f"level {self.name!r}: min {self.min:g} is not below max {self.max:g}")
        return self


def check_levels(levels: tuple[Level, ...]) -> None:
    """Levels must tile [0, 100]: no gap, no overlap, each name once."""
    names = [level.name for level in levels]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"level name(s) {', '.join(duplicated)} appear more than once")
    ordered = sorted(levels, key=lambda level: level.min)
    if ordered[0].min != 0:
        raise ValueError(f"gap: scores 0 to {ordered[0].min:g} have no level")
    if ordered[-1].max != 100:
        raise ValueError(f"gap: scores {ordered[-1].max:g} to 100 have no level")
    for low, high in pairwise(ordered):
        if high.min > low.max:
            raise ValueError(
                f"gap between {low.name!r} (ends at {low.max:g}) and {high.name!r} "
                f"(starts at {high.min:g})"
            )
        if high.min < low.max:
            raise ValueError(
                f"overlap between {low.name!r} (ends at {low.max:g}) and {high.name!r} "
                f"(starts at {high.min:g})"
            )


class CategoryEffect(ContentModel):
    max: Fraction
    dimensions: tuple[Dimension, ...] = Field(min_length=1)


class ControlEffectiveness(ContentModel):
    cap: float = Field(gt=0.0, lt=1.0, allow_inf_nan=False)
    """No combination of controls removes more than this share of a dimension's risk."""
    categories: dict[ControlCategory, CategoryEffect]

    @field_validator("categories")
    @classmethod
    def _complete(
        cls, value: dict[ControlCategory, CategoryEffect]
    ) -> dict[ControlCategory, CategoryEffect]:
        require_all(value, ControlCategory, "control category")
        return value


class ProviderBounds(ContentModel):
    max_points: float = Field(ge=0.0, le=100.0, allow_inf_nan=False)
    max_total: float = Field(ge=0.0, le=100.0, allow_inf_nan=False)


class RecommendationSettings(ContentModel):
    limit: int = Field(default=5, ge=1, le=100)


class LossRange(ContentModel):
    """A 90 % confidence interval of the loss of one event."""

    low: Money
    high: Money

    @model_validator(mode="after")
    def _ordered(self) -> LossRange:
        if self.low >= self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        return self


class Quantification(ContentModel):
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    simulations: int = Field(default=20000, ge=100, le=5_000_000)
    seed: int = Field(default=0, ge=0)
    max_events_per_year: float = Field(gt=0.0, le=10_000.0, allow_inf_nan=False)
    loss_per_event: dict[DataClassification, LossRange]
    unclassified_loss: LossRange
    exceedance_points: int = Field(default=12, ge=2, le=200)

    @field_validator("loss_per_event")
    @classmethod
    def _complete(
        cls, value: dict[DataClassification, LossRange]
    ) -> dict[DataClassification, LossRange]:
        require_all(value, DataClassification, "data classification")
        return value


class RiskConfig(ContentModel):
    version: Literal[1]
    dimensions: Dimensions
    levels: tuple[Level, ...] = Field(min_length=1)
    control_effectiveness: ControlEffectiveness
    providers: ProviderBounds
    recommendations: RecommendationSettings = RecommendationSettings()
    quantification: Quantification
    precision: int = Field(default=2, ge=0, le=6)
    """Decimal places of the scores of record; the level is taken from the rounded residual."""
    _digest: str | None = PrivateAttr(default=None)
    _tables: ScoringTables | None = PrivateAttr(default=None)

    @field_validator("levels")
    @classmethod
    def _tiled(cls, value: tuple[Level, ...]) -> tuple[Level, ...]:
        check_levels(value)
        return tuple(sorted(value, key=lambda level: level.min))

    def level_for(self, score: float) -> Level:
        for level in self.levels:
            if level.min <= score < level.max:
                return level
        return self.levels[-1]

    def level(self, name: str) -> Level:
        for level in self.levels:
            if level.name == name.strip().lower():
                return level
        known = ", ".join(level.name for level in self.levels)
        raise ValueError(f"unknown risk level {name!r} (known: {known})")

    def rank(self, name: str) -> int:
        return self.levels.index(self.level(name))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # A copy with changes is another model: it must not inherit the cached digest.
        copy = super().model_copy(update=update, deep=deep)
        copy._digest = None
        copy._tables = None
        return copy

    def digest(self) -> str:
        # Cached: the model is frozen, and every assessment of a bulk run records the digest.
        if self._digest is None:
            self._digest = config_digest(self.model_dump(mode="json"))
        return self._digest

    def tables(self) -> ScoringTables:
        """The model as plain lookup tables for the scoring core (built once; the model is
        frozen)."""
        if self._tables is None:
            self._tables = build_tables(self)
        return self._tables


def config_digest(body: Mapping[str, Any]) -> str:
    """A digest of the configuration's content, independent of key order and YAML layout."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load_risk_config(content_dir: Path | None = None, *, path: Path | None = None) -> RiskConfig:
    """The organization's ``risk.yaml`` if it has one, else the packaged default."""
    chosen = path if path is not None else content_file(RISK_FILE, content_dir)
    return load_content_file(RiskConfig, chosen)
