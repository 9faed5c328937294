from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from garrison.controls import ControlLibrary, get_library
from garrison.inventory.models import AIAsset
from garrison.risk import ControlInput, RiskConfig, controls_for, load_risk_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""A fixed moment in the past (attestations may not be dated in the future)."""


def make_asset(**attributes: Any) -> AIAsset:
    """An in-memory registered asset: scoring needs no database."""
    values: dict[str, Any] = {
        "id": "asset-1",
        "natural_key": "key-1",
        "name": "support-bot",
        "asset_type": "llm_application",
        "registered_at": NOW,
        "last_updated": NOW,
        "last_seen": NOW,
    }
    values.update(attributes)
    return AIAsset.model_validate(values)


def with_states(controls: list[ControlInput], states: dict[str, str]) -> list[ControlInput]:
    return [c.model_copy(update={"state": states.get(c.id, c.state)}) for c in controls]


@pytest.fixture(scope="session")
def config() -> RiskConfig:
    return load_risk_config()


@pytest.fixture(scope="session")
def library() -> ControlLibrary:
    return get_library()


@pytest.fixture
def agent_controls(library: ControlLibrary) -> list[ControlInput]:
    return controls_for(make_asset(asset_type="ai_agent"), library, {})
