"""Helpers shared by the cloud discovery tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from garrison.inventory.discovery.base import DiscoveryResult

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "estate" / "cloud"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLE / name).read_text(encoding="utf-8"))
    return data


def by_name(result: DiscoveryResult) -> dict[str, Any]:
    return {a.spec.name: a for a in result.assets}


def edges(result: DiscoveryResult) -> set[tuple[str, str, str]]:
    names = {a.key: a.spec.name for a in result.assets}
    return {
        (names[e.asset_key], names.get(e.target, e.target), e.relation.value) for e in result.edges
    }
