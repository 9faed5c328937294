"""Which assets coverage and attestation talk about: the inventory's, through its public functions.

Attestations may also exist for assets the inventory does not (yet) hold, for instance ones
attested from a CI pipeline before discovery ran; those are included with the asset type that
was attested with them, so that no attested asset silently disappears from a coverage report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from garrison.catalog import FrameworkKey
from garrison.controls.coverage import AssetScope, CoverageMatrix, coverage_matrix, select_assets
from garrison.controls.library import OWASP_FRAMEWORKS, ControlLibrary
from garrison.controls.state import attested_assets, state_map, states_for_assets
from garrison.core.errors import NotFoundError
from garrison.inventory import AIAsset, AssetFilter, resolve_asset, search


@dataclass(frozen=True)
class Estate:
    assets: list[AssetScope]
    untyped: list[str]
    """Attested asset IDs with no known type (not in the inventory, attested without one):
    coverage cannot place them, and says so."""


def scope_of(asset: AIAsset) -> AssetScope:
    return AssetScope(
        asset_id=asset.id,
        asset_type=asset.asset_type.value,
        owner_team=asset.owner_team or None,
        name=asset.name,
    )


def estate(session: Session, *, org: str | None = None) -> Estate:
    """The inventory's assets (of ``org``, or all) plus attested assets it does not hold."""
    found = [scope_of(a) for a in search(session, AssetFilter(org=org))]
    known = {a.asset_id for a in found}
    untyped: list[str] = []
    for asset_id, asset_type in attested_assets(session).items():
        if asset_id in known:
            continue
        if asset_type is None:
            untyped.append(asset_id)
        elif org is None:
            found.append(AssetScope(asset_id=asset_id, asset_type=asset_type))
    return Estate(found, untyped)


def lookup_asset(session: Session, ref: str) -> AssetScope:
    """The asset ``ref`` names (ID, ID prefix, source ID or exact name, as the inventory
    resolves it), or an attested asset of that exact ID with a known type."""
    try:
        return scope_of(resolve_asset(session, ref))
    except NotFoundError:
        asset_type = attested_assets(session).get(ref.strip())
        if asset_type is None:
            raise
        return AssetScope(asset_id=ref.strip(), asset_type=asset_type)


def estate_coverage(
    session: Session,
    library: ControlLibrary,
    frameworks: Iterable[FrameworkKey | str] = OWASP_FRAMEWORKS,
    *,
    asset: str | None = None,
    team: str | None = None,
    org: str | None = None,
) -> tuple[CoverageMatrix, Estate]:
    """The coverage matrix of the estate, one owner team, or one asset, from the inventory and
    the stored control states."""
    known = estate(session, org=org)
    if asset is not None:
        chosen = [lookup_asset(session, asset)]
    else:
        chosen = select_assets(known.assets, team=team)
    states = states_for_assets(session, [a.asset_id for a in chosen])
    return coverage_matrix(library, chosen, state_map(states), frameworks), known
