"""Asset search filters, and the pure predicates behind the ones the database cannot index.

``AssetFilter`` holds the seed's filters (type, data classification, owner team, regulatory scope,
unreviewed only) and the inventory's own (organization, environment, provider, exposure, stale,
compliance status, free text, risk level). ``registry.search`` turns the indexed ones into SQL and
applies ``matches_text`` and the risk hook here in Python.

Risk levels come from the risk pillar, which is built later. Until then ``search`` accepts a hook
(``RiskHook``): a callable from an asset to its level (``"critical"``, ``"high"``, ``"medium"``,
``"low"`` or None), or a mapping from asset ID to level. ``AssetFilter.risk_levels`` without a hook
is an error rather than an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from garrison.core.errors import GarrisonError
from garrison.inventory.models import (
    AIAsset,
    AssetType,
    ComplianceStatus,
    DataClassification,
    Environment,
    Exposure,
    RegulatoryScope,
)

RiskHook = Callable[[AIAsset], str | None] | Mapping[str, str]
MAX_LIMIT = 10_000


class AssetFilter(BaseModel):
    """Every filter is optional; given filters must all match. Lists mean "any of"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org: str | None = None
    asset_types: tuple[AssetType, ...] = ()
    environments: tuple[Environment, ...] = ()
    providers: tuple[str, ...] = ()
    """Matches ``model_provider`` or ``cloud_provider`` (lower case)."""
    data_classifications: tuple[DataClassification, ...] = ()
    unclassified: bool = False
    """Only assets nobody has classified."""
    owner_team: str | None = None
    regulatory_scope: RegulatoryScope | None = None
    exposures: tuple[Exposure, ...] = ()
    stale: bool | None = None
    compliance_statuses: tuple[ComplianceStatus, ...] = ()
    unreviewed_only: bool = False
    """The seed's filter: compliance status ``unreviewed``."""
    text: Annotated[str, Field(max_length=200)] | None = None
    """Case-insensitive substring of name, description, model, provider, owner, tag, source ID."""
    risk_levels: tuple[str, ...] = ()
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] | None = None
    offset: Annotated[int, Field(ge=0)] = 0

    @field_validator("providers", "risk_levels")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in value if v.strip())


def matches_text(asset: AIAsset, text: str) -> bool:
    needle = text.strip().lower()
    if not needle:
        return True
    haystack = (
        asset.name,
        asset.description,
        asset.model_name or "",
        asset.model_provider or "",
        asset.owner_team,
        asset.source_id or "",
        *asset.tags,
    )
    return any(needle in value.lower() for value in haystack)


def risk_level(asset: AIAsset, hook: RiskHook) -> str | None:
    level = hook.get(asset.id) if isinstance(hook, Mapping) else hook(asset)
    return None if level is None else level.lower()


def require_hook(filters: AssetFilter, hook: RiskHook | None) -> None:
    if filters.risk_levels and hook is None:
        raise GarrisonError(
            "risk levels are not assessed yet, so assets cannot be filtered by them",
            hint="run a risk assessment first, or drop the risk-level filter",
        )
