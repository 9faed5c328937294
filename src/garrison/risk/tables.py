"""The risk model flattened into plain lookup tables for the scoring core.

``RiskConfig`` is keyed by enums (so a missing value fails the load); the scoring core works on
JSON-ready values (an asset as stored, controls as plain tuples) and looks them up by plain
string. Hashing a ``StrEnum`` member costs a Python-level call, which a 10,000-asset run would
pay millions of times; the tables are built once per configuration instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from garrison.inventory.models import ToolPermission

if TYPE_CHECKING:
    from garrison.risk.config import RiskConfig


class CategoryTable(NamedTuple):
    maximum: float
    dimensions: tuple[str, ...]
    """The dimensions the category reduces, in the order the risk model lists them."""


class LevelTable(NamedTuple):
    name: str
    min: float
    max: float
    within_appetite: bool


@dataclass(frozen=True, slots=True)
class ScoringTables:
    """Every number of a ``RiskConfig`` the scoring core reads, by plain string key."""

    dimensions: tuple[str, ...]
    weights: tuple[float, ...]
    classification_scores: dict[str, float]
    unclassified: float
    exposure_scores: dict[str, dict[str, float]]
    self_hosted: float
    provider_group: dict[str, tuple[str, float]]
    """Provider name to (its group, the group's score)."""
    other_provider: float
    review_missing: float
    review_stale_after_days: int
    review_stale: float
    no_scope: float
    scope_scores: dict[str, float]
    additional_scope: float
    asset_type_scores: dict[str, float]
    permission_points: tuple[tuple[str, float], ...]
    """Every tool permission in its declared order, with its full points."""
    approval_factor: float
    supply_base: float
    sbom_available: float
    known_license: float
    unknown_licenses: frozenset[str]
    untrusted_hosts: tuple[str, ...]
    untrusted_points: float
    cap: float
    categories: dict[str, CategoryTable]
    max_points: float
    max_total: float
    recommendation_limit: int
    levels: tuple[LevelTable, ...]
    precision: int
    digest: str

    def level_for(self, score: float) -> LevelTable:
        # Same rule as ``RiskConfig.level_for``: levels tile [0, 100]; 100 itself is the top one.
        for level in self.levels:
            if level.min <= score < level.max:
                return level
        return self.levels[-1]


def build_tables(config: RiskConfig) -> ScoringTables:
    from garrison.risk.config import Dimension

    d = config.dimensions
    effectiveness = config.control_effectiveness
    return ScoringTables(
        dimensions=tuple(dimension.value for dimension in Dimension),
        weights=tuple(config.dimensions.weights().values()),
        classification_scores={k.value: v for k, v in d.data_sensitivity.scores.items()},
        unclassified=d.data_sensitivity.unclassified,
        exposure_scores={
            exposure.value: {environment.value: score for environment, score in row.items()}
            for exposure, row in d.deployment_exposure.scores.items()
        },
        self_hosted=d.model_provenance.self_hosted,
        provider_group={
            provider: (name, group.score)
            for name, group in d.model_provenance.provider_groups.items()
            for provider in group.providers
        },
        other_provider=d.model_provenance.other,
        review_missing=d.model_provenance.review.missing,
        review_stale_after_days=d.model_provenance.review.stale_after_days,
        review_stale=d.model_provenance.review.stale,
        no_scope=d.regulatory_impact.none,
        scope_scores={k.value: v for k, v in d.regulatory_impact.scores.items()},
        additional_scope=d.regulatory_impact.additional_scope,
        asset_type_scores={k.value: v for k, v in d.capability_risk.asset_types.items()},
        permission_points=tuple(
            (permission.value, d.capability_risk.permissions[permission])
            for permission in ToolPermission
        ),
        approval_factor=d.capability_risk.approval_factor,
        supply_base=d.supply_chain.base,
        sbom_available=d.supply_chain.sbom_available,
        known_license=d.supply_chain.known_license,
        unknown_licenses=frozenset(d.supply_chain.unknown_licenses),
        untrusted_hosts=d.supply_chain.untrusted_sources.hosts,
        untrusted_points=d.supply_chain.untrusted_sources.points,
        cap=effectiveness.cap,
        categories={
            category.value: CategoryTable(
                table.max, tuple(dimension.value for dimension in table.dimensions)
            )
            for category, table in effectiveness.categories.items()
        },
        max_points=config.providers.max_points,
        max_total=config.providers.max_total,
        recommendation_limit=config.recommendations.limit,
        levels=tuple(
            LevelTable(level.name, level.min, level.max, level.within_appetite)
            for level in config.levels
        ),
        precision=config.precision,
        digest=config.digest(),
    )
