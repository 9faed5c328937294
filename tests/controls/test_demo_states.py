"""The demo organization's control attestations (content/demo/control_states.yaml)."""

from __future__ import annotations

from garrison.controls.demo import load_demo_control_states
from garrison.controls.state import ControlState, control_states, history
from garrison.inventory import resolve_asset
from garrison.inventory.demo import load_demo_assets
from garrison.store import Store


def test_demo_control_states_load_once_and_are_idempotent(store: Store) -> None:
    load_demo_assets(store)
    first = load_demo_control_states(store)
    assert "24 created, 0 unchanged" in first
    second = load_demo_control_states(store)
    assert "0 created, 24 unchanged" in second
    with store.session() as session:
        assist = resolve_asset(session, "Northwind Assist", org="northwind")
        states = control_states(session, assist.id)
        assert states["CTRL-API-AUTHENTICATION"].state is ControlState.OPERATIONAL
        assert states["CTRL-API-AUTHENTICATION"].actor == "priya.shah@northwind.example"
        assert states["CTRL-API-AUTHENTICATION"].evidence[0].startswith("https://")
        assert states["CTRL-EGRESS-ALLOWLIST"].state is ControlState.FAILED
        assert states["CTRL-API-AUTHENTICATION"].asset_type == "llm_application"
        # The second run appended nothing to the history.
        assert len(history(session, assist.id)) == 6
