"""Coverage: which OWASP LLM and Agentic items an asset, a team or the estate leaves without an
operational preventive or detective control. Pure functions over the library and states.

A cell (asset x item) is

* ``both`` / ``covered-preventive`` / ``covered-detective``: which kinds of operational control
  cover the item on that asset;
* ``gap``: the library has preventive or detective controls for the item that apply to the
  asset's type, and none of them is operational there;
* ``not-applicable``: no preventive or detective control for the item applies to the asset's
  type (prompt injection is not a property of a training dataset).

Corrective controls never cover an item: they act after the harm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from garrison.catalog import FrameworkKey
from garrison.controls.library import OWASP_FRAMEWORKS, ControlLibrary
from garrison.controls.models import Control, ControlType
from garrison.controls.state import ControlState


class CellStatus(StrEnum):
    BOTH = "both"
    PREVENTIVE = "covered-preventive"
    DETECTIVE = "covered-detective"
    GAP = "gap"
    NOT_APPLICABLE = "not-applicable"

    @property
    def covered(self) -> bool:
        return self in (CellStatus.BOTH, CellStatus.PREVENTIVE, CellStatus.DETECTIVE)


@dataclass(frozen=True)
class AssetScope:
    """An asset as coverage needs it; the inventory's record reduced to three fields."""

    asset_id: str
    asset_type: str
    owner_team: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Cell:
    status: CellStatus
    preventive: tuple[str, ...] = ()
    """Operational preventive controls covering the item on the asset."""
    detective: tuple[str, ...] = ()
    """Operational detective controls covering the item on the asset."""
    missing_preventive: tuple[str, ...] = ()
    """Applicable preventive controls for the item that are not operational: the fix list."""
    missing_detective: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "preventive": list(self.preventive),
            "detective": list(self.detective),
            "missing_preventive": list(self.missing_preventive),
            "missing_detective": list(self.missing_detective),
        }


@dataclass(frozen=True)
class CoverageItem:
    """A column of the matrix: one OWASP item."""

    id: str
    label: str
    """Short column heading: LLM01 … LLM10, ASI01 … ASI10."""
    name: str
    framework: FrameworkKey


@dataclass(frozen=True)
class AssetCoverage:
    asset: AssetScope
    cells: Mapping[str, Cell]

    @property
    def gaps(self) -> list[str]:
        return [item for item, cell in self.cells.items() if cell.status is CellStatus.GAP]


@dataclass(frozen=True)
class ItemGaps:
    """Across the assets of the matrix, where one item stands."""

    item: CoverageItem
    gap: tuple[str, ...]
    """Assets with no operational preventive or detective control for the item."""
    preventive_only: tuple[str, ...]
    detective_only: tuple[str, ...]
    both: tuple[str, ...]
    not_applicable: tuple[str, ...]
    recommended: tuple[str, ...] = ()
    """Controls that would close the most gaps for this item, best first."""


@dataclass(frozen=True)
class CoverageMatrix:
    items: tuple[CoverageItem, ...]
    rows: tuple[AssetCoverage, ...]
    item_gaps: tuple[ItemGaps, ...] = field(default=())

    @property
    def has_gaps(self) -> bool:
        return any(summary.gap for summary in self.item_gaps)

    def gaps(self) -> dict[str, list[str]]:
        """Item ID to the assets with a gap for it, for items that have any."""
        return {s.item.id: list(s.gap) for s in self.item_gaps if s.gap}

    def to_dict(self) -> dict[str, Any]:
        return {
            "legend": {status.value: _LEGEND[status] for status in CellStatus},
            "items": [
                {"id": i.id, "label": i.label, "name": i.name, "framework": i.framework.value}
                for i in self.items
            ],
            "assets": [
                {
                    "asset_id": row.asset.asset_id,
                    "asset_type": row.asset.asset_type,
                    "owner_team": row.asset.owner_team,
                    "name": row.asset.name,
                    "cells": {item: cell.to_dict() for item, cell in row.cells.items()},
                    "gaps": row.gaps,
                }
                for row in self.rows
            ],
            "item_gaps": [
                {
                    "item": s.item.id,
                    "label": s.item.label,
                    "gap": list(s.gap),
                    "preventive_only": list(s.preventive_only),
                    "detective_only": list(s.detective_only),
                    "both": list(s.both),
                    "not_applicable": list(s.not_applicable),
                    "recommended": list(s.recommended),
                }
                for s in self.item_gaps
            ],
            "has_gaps": self.has_gaps,
            "gap_count": sum(len(s.gap) for s in self.item_gaps),
        }


_LEGEND = {
    CellStatus.BOTH: "operational preventive and detective controls",
    CellStatus.PREVENTIVE: "operational preventive control only",
    CellStatus.DETECTIVE: "operational detective control only",
    CellStatus.GAP: "no operational preventive or detective control",
    CellStatus.NOT_APPLICABLE: "no library control for this item applies to the asset type",
}


def legend() -> dict[CellStatus, str]:
    return dict(_LEGEND)


def short_label(item_id: str) -> str:
    """``LLM01:2025`` -> ``LLM01``: the column heading."""
    return item_id.split(":", 1)[0]


def coverage_items(
    library: ControlLibrary, frameworks: Iterable[FrameworkKey | str] = OWASP_FRAMEWORKS
) -> tuple[CoverageItem, ...]:
    catalog = library.catalog
    items: list[CoverageItem] = []
    for framework in frameworks:
        chosen = catalog.framework(str(framework))
        items.extend(
            CoverageItem(item.id, short_label(item.id), item.name, chosen.key)
            for item in catalog.items(chosen.key, chosen.primary_kind)
        )
    return tuple(items)


def _controls_by_item(
    library: ControlLibrary, items: Sequence[CoverageItem]
) -> dict[str, tuple[Control, ...]]:
    wanted = {item.id for item in items}
    found: dict[str, list[Control]] = {item.id: [] for item in items}
    for control in library:
        if control.type is ControlType.CORRECTIVE:
            continue
        for item_id in control.mappings.owasp():
            if item_id in wanted:
                found[item_id].append(control)
    return {item: tuple(controls) for item, controls in found.items()}


def cell_for(
    candidates: Iterable[Control], asset_type: str, states: Mapping[str, ControlState | str]
) -> Cell:
    """The cell for one asset and one item, given the item's preventive and detective controls."""
    applicable = [c for c in candidates if c.applies(asset_type)]
    if not applicable:
        return Cell(CellStatus.NOT_APPLICABLE)
    operational = {c.id for c in applicable if _state_of(states, c.id) is ControlState.OPERATIONAL}

    def split(kind: ControlType) -> tuple[tuple[str, ...], tuple[str, ...]]:
        of_kind = [c.id for c in applicable if c.type is kind]
        return (
            tuple(c for c in of_kind if c in operational),
            tuple(c for c in of_kind if c not in operational),
        )

    preventive, missing_preventive = split(ControlType.PREVENTIVE)
    detective, missing_detective = split(ControlType.DETECTIVE)
    if preventive and detective:
        status = CellStatus.BOTH
    elif preventive:
        status = CellStatus.PREVENTIVE
    elif detective:
        status = CellStatus.DETECTIVE
    else:
        status = CellStatus.GAP
    return Cell(status, preventive, detective, missing_preventive, missing_detective)


def _state_of(states: Mapping[str, ControlState | str], control_id: str) -> ControlState | None:
    value = states.get(control_id)
    return None if value is None else ControlState(value)


def coverage_matrix(
    library: ControlLibrary,
    assets: Iterable[AssetScope],
    states: Mapping[str, Mapping[str, ControlState | str]],
    frameworks: Iterable[FrameworkKey | str] = OWASP_FRAMEWORKS,
) -> CoverageMatrix:
    """The matrix for ``assets`` (rows, in the order given) against the items of
    ``frameworks`` (columns); ``states`` maps asset ID to control ID to state."""
    items = coverage_items(library, frameworks)
    by_item = _controls_by_item(library, items)
    rows = tuple(
        AssetCoverage(
            asset,
            {
                item.id: cell_for(
                    by_item[item.id], asset.asset_type, states.get(asset.asset_id, {})
                )
                for item in items
            },
        )
        for asset in assets
    )
    weights = {c.id: c.effectiveness.weight for c in library}
    return CoverageMatrix(items, rows, tuple(_summarise(item, rows, weights) for item in items))


def _summarise(
    item: CoverageItem, rows: Sequence[AssetCoverage], weights: Mapping[str, float]
) -> ItemGaps:
    def assets_with(status: CellStatus) -> tuple[str, ...]:
        return tuple(r.asset.asset_id for r in rows if r.cells[item.id].status is status)

    # Rank the fixes by how many gap cells each would close, then by how much each is worth.
    votes: dict[str, int] = {}
    for row in rows:
        cell = row.cells[item.id]
        if cell.status is CellStatus.GAP:
            for control_id in (*cell.missing_preventive, *cell.missing_detective):
                votes[control_id] = votes.get(control_id, 0) + 1
    recommended = tuple(sorted(votes, key=lambda c: (-votes[c], -weights.get(c, 0.0), c))[:5])
    return ItemGaps(
        item=item,
        gap=assets_with(CellStatus.GAP),
        preventive_only=assets_with(CellStatus.PREVENTIVE),
        detective_only=assets_with(CellStatus.DETECTIVE),
        both=assets_with(CellStatus.BOTH),
        not_applicable=assets_with(CellStatus.NOT_APPLICABLE),
        recommended=recommended,
    )


def select_assets(
    assets: Iterable[AssetScope], *, asset_id: str | None = None, team: str | None = None
) -> list[AssetScope]:
    """The assets of one asset ID or one owner team (both None: all)."""
    return [
        a
        for a in assets
        if (asset_id is None or a.asset_id == asset_id)
        and (team is None or (a.owner_team or "").casefold() == team.casefold())
    ]
