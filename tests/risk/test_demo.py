"""The demo's risk step: the declared assets, assessed again only when something scoring changed."""

from __future__ import annotations

from garrison.controls.demo import load_demo_control_states
from garrison.inventory import resolve_asset
from garrison.inventory.demo import load_demo_assets
from garrison.risk import history, latest
from garrison.risk.demo import assess_demo
from garrison.store import Store


def test_demo_risk_step_records_only_changes(store: Store) -> None:
    load_demo_assets(store)
    load_demo_control_states(store)
    assert "22 declared assets assessed (22 created, 0 unchanged)" in assess_demo(
        store, "northwind"
    )
    # The asset import touches last_seen on every run; that alone is no new assessment.
    load_demo_assets(store)
    assert "(0 created, 22 unchanged)" in assess_demo(store, "northwind")
    with store.session() as session:
        assist = resolve_asset(session, "Northwind Assist", org="northwind")
        assert len(history(session, assist.id)) == 1
        found = latest(session, assist.id)
        assert found is not None
        # Operational controls reduce the risk; a failed one is shown and does not count.
        assert found.explanation.residual < found.explanation.inherent
        failed = [c for c in found.explanation.controls if c.state == "failed"]
        assert [c.id for c in failed] == ["CTRL-EGRESS-ALLOWLIST"]
        assert not failed[0].counts
