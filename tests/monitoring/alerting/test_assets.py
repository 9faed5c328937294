"""Alert severity, owner team and asset name come from the real inventory and risk pillars."""

from __future__ import annotations

from garrison.inventory import AssetSpec, register
from garrison.monitoring.alerting import AlertingConfig, AlertManager, list_alerts
from garrison.monitoring.detectors.base import Severity
from garrison.risk import assess
from garrison.store import Store
from tests.monitoring.alerting.conftest import T0, FiringFactory


def test_same_rule_pages_on_a_critical_agent_not_on_a_sandbox(
    store: Store, config: AlertingConfig, firing: FiringFactory
) -> None:
    with store.session() as session:
        agent_id = register(
            session,
            AssetSpec(
                name="refund-agent",
                asset_type="ai_agent",
                owner_team="payments",
                data_classification="restricted",
                exposure="public",
                environment="production",
                tools=[{"name": "refund", "permissions": ["financial_transaction"]}],
            ),
            source="declared",
        ).asset_id
        sandbox_id = register(
            session,
            AssetSpec(
                name="dev-sandbox",
                asset_type="llm_application",
                owner_team="research",
                data_classification="public",
                exposure="internal",
                environment="development",
            ),
            source="declared",
        ).asset_id
        agent_level = assess(session, agent_id, now=T0).level
        sandbox_level = assess(session, sandbox_id, now=T0).level
    assert (agent_level, sandbox_level) != ("", "")
    manager = AlertManager(store, config)  # the default lookup: risk_levels + inventory
    manager.receive(
        [
            firing(severity=Severity.HIGH, asset=agent_id, user="u-1"),
            firing(severity=Severity.HIGH, asset=sandbox_id, user="u-2"),
        ],
        T0,
    )
    with store.session() as session:
        alerts = {a.asset: a for a in list_alerts(session, T0)}
    matrix = config.severity_matrix
    assert alerts[agent_id].labels["asset_risk"] == agent_level
    assert alerts[agent_id].severity == matrix.apply(Severity.HIGH, agent_level).value
    assert alerts[sandbox_id].severity == matrix.apply(Severity.HIGH, sandbox_level).value
    assert alerts[agent_id].team == "payments"
    assert alerts[agent_id].annotations["asset_name"] == "refund-agent"
    assert alerts[sandbox_id].team == "research"
    # the point of the matrix: the production agent outranks the sandbox for the same rule
    order = ["info", "low", "medium", "high", "critical"]
    assert order.index(alerts[agent_id].severity) > order.index(alerts[sandbox_id].severity)
