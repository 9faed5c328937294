"""The registry on a real store: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from garrison.core.errors import GarrisonError, NotFoundError
from garrison.inventory import (
    AssetFilter,
    AssetSpec,
    Evidence,
    apply_discovery,
    edit_asset,
    finish_run,
    get_asset,
    get_asset_detail,
    list_dependencies,
    list_runs,
    load_graph,
    register,
    register_many,
    resolve_asset,
    search,
    start_run,
)
from garrison.inventory.discovery.base import (
    CallFailure,
    DiscoveredAsset,
    DiscoveredEdge,
    DiscoveryResult,
)
from garrison.inventory.graph import find_cycles, missing_nodes
from garrison.inventory.registry import InventoryError
from garrison.store import Store
from garrison.store.models import Base
from garrison.store.models.inventory import AssetRow


def spec(name: str = "gpt-4o prod", **fields: Any) -> AssetSpec:
    values: dict[str, Any] = {
        "name": name,
        "asset_type": "api_endpoint",
        "org": "northwind",
    } | fields
    return AssetSpec.model_validate(values)


def model(**fields: Any) -> AssetSpec:
    return spec(
        model_provider="azure_openai",
        model_name="gpt-4o",
        api_endpoint="https://nw.openai.azure.com/",
        environment="production",
        **fields,
    )


def count_assets(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(AssetRow)) or 0)


def test_the_migration_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in diff if "inventory_" in repr(d)]
    assert ours == []


def test_register_creates_then_updates_then_leaves_unchanged(store: Store) -> None:
    with store.session() as session:
        created = register(session, model(), source="azure")
    with store.session() as session:
        updated = register(session, model(model_version="2024-08-06"), source="azure")
    with store.session() as session:
        again = register(session, model(model_version="2024-08-06"), source="azure")
        detail = get_asset_detail(session, created.asset_id)

    assert created.action == "created"
    assert updated.action == "updated"
    assert updated.asset_id == created.asset_id
    assert [(c.attribute, c.old, c.new) for c in updated.changes] == [
        ("model_version", None, "2024-08-06")
    ]
    assert again.action == "unchanged" and again.changes == ()
    assert count_assets(store) == 1
    assert [h.action for h in detail.history] == ["created", "updated"]
    assert detail.history[1].changes[0].attribute == "model_version"
    assert detail.asset.last_seen >= detail.asset.last_updated
    assert detail.asset.last_seen.tzinfo is not None


def test_differently_spelled_sightings_are_one_asset(store: Store) -> None:
    with store.session() as session:
        first = register(session, model(), source="azure")
        second = register(
            session,
            spec(
                "GPT-4o (from code)",
                model_provider="AZURE_OPENAI",
                model_name="GPT-4o",
                api_endpoint="HTTPS://NW.openai.azure.com",
                environment="production",
            ),
            source="code",
            evidence=[Evidence(location="app/chat.py:12", confidence="inferred")],
        )
    assert first.asset_id == second.asset_id
    assert count_assets(store) == 1


def test_same_name_datasets_in_other_environments_are_distinct(store: Store) -> None:
    with store.session() as session:
        outcomes = register_many(
            session,
            [
                (spec("Train", asset_type="training_dataset", environment="research"), []),
                (spec("Eval", asset_type="evaluation_dataset", environment="research"), []),
                (spec("Train", asset_type="training_dataset", environment="production"), []),
                (spec("Train", asset_type="training_dataset", environment="research"), []),
            ],
            source="declared",
        )
    assert [o.action for o in outcomes] == ["created", "created", "created", "unchanged"]
    assert outcomes[0].asset_id == outcomes[3].asset_id
    assert count_assets(store) == 3


def test_a_heuristic_does_not_override_a_declared_value(store: Store) -> None:
    with store.session() as session:
        first = register(session, model(model_version="2024-08-06"), source="azure")
        guess = register(
            session,
            model(model_version="2024-05-13"),
            source="code",
            evidence=[
                Evidence(location="app.py:3", confidence="inferred", attributes=("model_version",))
            ],
        )
        asset = get_asset(session, first.asset_id)
        detail = get_asset_detail(session, first.asset_id)
    assert guess.action == "unchanged"
    assert asset.model_version == "2024-08-06"
    assert asset.provenance["model_version"].source == "azure"
    # The guess is still evidence, for the attribute it was about.
    code = [e for e in detail.evidence if e.source == "code"]
    assert [(e.location, e.attributes) for e in code] == [("app.py:3", ("model_version",))]
    assert detail.evidence_for("model_version")[0].source in ("azure", "code")


def test_unset_attributes_leave_declared_ones_alone(store: Store) -> None:
    with store.session() as session:
        first = register(session, model(owner_team="Cloud Platform"), source="declared")
        register(session, model(), source="azure")
        assert get_asset(session, first.asset_id).owner_team == "Cloud Platform"


def test_evidence_is_refreshed_not_duplicated(store: Store) -> None:
    evidence = [Evidence(location="arn:aws:bedrock:x", detail="ListCustomModels")]
    with store.session() as session:
        first = register(session, model(), source="aws", evidence=evidence)
        register(session, model(), source="aws", evidence=evidence)
        register(session, model(), source="aws", evidence=evidence)
        detail = get_asset_detail(session, first.asset_id)
    assert len(detail.evidence) == 1
    assert detail.evidence[0].observed_at >= detail.evidence[0].first_seen


def test_rediscovery_updates_each_assets_own_evidence(store: Store) -> None:
    # Regression: widening evidence once wrote to whichever row was loaded last.
    a, b = spec("a", source_id="arn:a"), spec("b", source_id="arn:b")
    with store.session() as session:
        register_many(
            session,
            [
                (a, [Evidence(location="arn:a", detail="v1")]),
                (b, [Evidence(location="arn:b", detail="v1")]),
            ],
            source="aws",
        )
    with store.session() as session:
        register_many(
            session,
            [
                (a, [Evidence(location="arn:a", detail="a2")]),
                (b, [Evidence(location="arn:b", detail="b2")]),
            ],
            source="aws",
        )
        details = {
            name: get_asset_detail(session, resolve_asset(session, f"arn:{name}").id).evidence
            for name in ("a", "b")
        }
    assert [(e.location, e.detail) for e in details["a"]] == [("arn:a", "a2")]
    assert [(e.location, e.detail) for e in details["b"]] == [("arn:b", "b2")]


def test_a_complete_run_marks_unseen_assets_stale_and_a_sighting_clears_it(store: Store) -> None:
    a, b = spec("a", source_id="arn:a"), spec("b", source_id="arn:b")
    with store.session() as session:
        run = start_run(session, "aws", scope="111122223333", org="northwind")
        register_many(session, [(a, []), (b, [])], source="aws", run=run)
        finish_run(session, run)
    with store.session() as session:
        run = start_run(session, "aws", scope="111122223333", org="northwind")
        register(session, a, source="aws", run=run)
        closed = finish_run(session, run)
        stale = search(session, AssetFilter(stale=True))
    assert closed.counts["staled"] == 1
    assert [x.name for x in stale] == ["b"]
    assert stale[0].stale_sources == ("aws",)
    assert count_assets(store) == 2  # stale, not deleted

    with store.session() as session:
        run = start_run(session, "aws", scope="111122223333", org="northwind")
        register_many(session, [(a, []), (b, [])], source="aws", run=run)
        finish_run(session, run)
        b_now = resolve_asset(session, "arn:b")
        history = get_asset_detail(session, b_now.id).history
    assert not b_now.stale and b_now.stale_since is None
    assert [h.action for h in history] == ["created", "staled", "unstaled"]


def test_an_incomplete_run_marks_nothing_stale(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "aws", org="northwind")
        register(session, spec("a", source_id="arn:a"), source="aws", run=run)
        finish_run(session, run)
        run = start_run(session, "aws", org="northwind")
        closed = finish_run(
            session,
            run,
            complete=False,
            errors=[CallFailure("bedrock:ListCustomModels", "denied", target="eu-west-1")],
        )
        assert search(session, AssetFilter(stale=True)) == []
    assert closed.complete is False
    assert closed.errors[0]["operation"] == "bedrock:ListCustomModels"


def test_runs_of_other_sources_or_scopes_do_not_stale(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "aws", scope="acct-1", org="northwind")
        register(session, spec("a", source_id="arn:a"), source="aws", run=run)
        finish_run(session, run)
        for source, scope in (("azure", "acct-1"), ("aws", "acct-2")):
            other = start_run(session, source, scope=scope, org="northwind")
            finish_run(session, other)
        assert search(session, AssetFilter(stale=True)) == []


def test_seen_keys_count_as_seen(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "files", org="northwind")
        outcome = register(session, spec("a", source_id="sha256:1@/m"), source="files", run=run)
        finish_run(session, run)
        run = start_run(session, "files", org="northwind")
        finish_run(session, run, [outcome.natural_key])
        assert search(session, AssetFilter(stale=True)) == []


def test_a_run_is_finished_once(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "aws")
        finish_run(session, run)
        with pytest.raises(InventoryError, match="already finished"):
            finish_run(session, run)


def test_apply_discovery_registers_assets_edges_and_failures(store: Store) -> None:
    app = DiscoveredAsset(
        spec=spec("agent", asset_type="ai_agent", source_id="arn:agent"),
        evidence=(Evidence(location="bedrock-agent:ListAgents@us-east-1"),),
        key="agent",
    )
    kb = DiscoveredAsset(spec=spec("kb", asset_type="knowledge_base", source_id="arn:kb"))
    result = DiscoveryResult(
        source="aws",
        scope="111122223333",
        assets=[app, kb],
        edges=[
            DiscoveredEdge("agent", kb.handle, "retrieves_from"),
            DiscoveredEdge("agent", "arn:model-not-yet-known", "uses_model"),
        ],
        errors=[CallFailure("sagemaker:ListEndpoints", "throttled", code="ThrottlingException")],
        complete=False,
    )
    with store.session() as session:
        run = apply_discovery(session, result)
        graph = load_graph(session, org="northwind")
    assert run.counts["created"] == 2
    assert run.counts["errors"] == 1
    assert not run.complete
    assert [m.reference for m in missing_nodes(graph)] == ["arn:model-not-yet-known"]

    # The model turns up later: the dangling edge now points at it.
    with store.session() as session:
        register(
            session,
            spec("model", asset_type="foundation_model", source_id="arn:model-not-yet-known"),
            source="aws",
        )
        graph = load_graph(session, org="northwind")
        runs = list_runs(session, source="aws")
    assert missing_nodes(graph) == []
    assert len(runs) == 1 and runs[0].errors[0]["code"] == "ThrottlingException"


def test_apply_discovery_refuses_an_edge_from_a_stranger(store: Store) -> None:
    result = DiscoveryResult(source="code", assets=[], edges=[DiscoveredEdge("nobody", "x")])
    with store.session() as session, pytest.raises(InventoryError, match="not an asset"):
        apply_discovery(session, result)


def test_declared_edges_are_replaced_and_cycles_found(store: Store) -> None:
    with store.session() as session:
        register_many(
            session,
            [
                (spec("a", asset_type="ai_agent", depends_on=["b", "missing one"]), []),
                (spec("b", asset_type="ai_agent", depends_on=[{"target": "a"}]), []),
            ],
            source="declared",
        )
        graph = load_graph(session)
        assert len(find_cycles(graph)) == 1
        register(session, spec("a", asset_type="ai_agent", depends_on=["b"]), source="declared")
        edges = list_dependencies(session)
    assert sorted(e.target_ref for e in edges) == ["a", "b"]
    assert all(e.target_id is not None for e in edges)


def test_a_name_target_prefers_the_same_environment(store: Store) -> None:
    with store.session() as session:
        register(
            session, spec("kb", asset_type="vector_database", environment="staging"), source="d"
        )
        prod = register(
            session, spec("kb", asset_type="vector_database", environment="production"), source="d"
        )
        register(
            session,
            spec("app", asset_type="llm_application", environment="production", depends_on=["kb"]),
            source="d",
        )
        (edge,) = list_dependencies(session)
    assert edge.target_id == prod.asset_id


def test_search_filters(store: Store) -> None:
    with store.session() as session:
        register_many(
            session,
            [
                (
                    model(
                        owner_team="Platform",
                        data_classification="confidential",
                        regulatory_scope=["gdpr"],
                        exposure="vpc",
                    ),
                    [],
                ),
                (
                    spec(
                        "public bot",
                        asset_type="llm_application",
                        exposure="public",
                        environment="staging",
                        tags=["pilot"],
                    ),
                    [],
                ),
                (
                    spec("other org", asset_type="tool", org="acme", compliance_status="compliant"),
                    [],
                ),
            ],
            source="declared",
        )

        def names(**filters: Any) -> list[str]:
            return [a.name for a in search(session, AssetFilter(**filters))]

        assert names() == ["other org", "gpt-4o prod", "public bot"]
        assert names(org="northwind") == ["gpt-4o prod", "public bot"]
        assert names(asset_types=["llm_application"]) == ["public bot"]
        assert names(environments=["staging"]) == ["public bot"]
        assert names(providers=["AZURE_OPENAI"]) == ["gpt-4o prod"]
        assert names(data_classifications=["confidential"]) == ["gpt-4o prod"]
        assert names(unclassified=True) == ["other org", "public bot"]
        assert names(owner_team="Platform") == ["gpt-4o prod"]
        assert names(regulatory_scope="gdpr") == ["gpt-4o prod"]
        assert names(exposures=["public"]) == ["public bot"]
        assert names(stale=False, org="acme") == ["other org"]
        assert names(unreviewed_only=True) == ["gpt-4o prod", "public bot"]
        assert names(compliance_statuses=["compliant"]) == ["other org"]
        assert names(text="PILOT") == ["public bot"]
        assert names(limit=1, offset=1) == ["gpt-4o prod"]


def test_risk_level_filter_uses_the_hook(store: Store) -> None:
    with store.session() as session:
        a = register(session, spec("a"), source="d")
        register(session, spec("b"), source="d")
        with pytest.raises(GarrisonError, match="risk levels are not assessed yet"):
            search(session, AssetFilter(risk_levels=("high",)))
        by_map = search(session, AssetFilter(risk_levels=("HIGH",)), risk={a.asset_id: "high"})
        by_call = search(
            session,
            AssetFilter(risk_levels=("low",)),
            risk=lambda asset: "low" if asset.name == "b" else None,
        )
    assert [x.name for x in by_map] == ["a"]
    assert [x.name for x in by_call] == ["b"]


def test_edit_records_actor_and_validates(store: Store) -> None:
    with store.session() as session:
        created = register(session, spec("ds", asset_type="training_dataset"), source="declared")
        outcome = edit_asset(
            session,
            created.asset_id,
            {"data_classification": "regulated", "regulatory_scope": ["pci_dss"]},
            "alice",
        )
        asset = get_asset(session, created.asset_id)
        history = get_asset_detail(session, created.asset_id).history
        with pytest.raises(InventoryError, match=r"owner_email: .* is not an email"):
            edit_asset(session, created.asset_id, {"owner_email": "nope"}, "alice")
        with pytest.raises(InventoryError, match="unknown attribute"):
            edit_asset(session, created.asset_id, {"colour": "red"}, "alice")
        with pytest.raises(InventoryError, match="org cannot be edited"):
            edit_asset(session, created.asset_id, {"org": "acme"}, "alice")
        with pytest.raises(NotFoundError):
            edit_asset(session, "nope", {"name": "x"}, "alice")
    assert outcome.action == "updated"
    assert asset.data_classification == "regulated"
    assert asset.provenance["data_classification"].source == "manual"
    assert (history[-1].action, history[-1].actor) == ("edited", "alice")


def test_an_edit_cannot_merge_two_assets(store: Store) -> None:
    with store.session() as session:
        register(session, spec("one", asset_type="tool"), source="d")
        two = register(session, spec("two", asset_type="tool"), source="d")
        with pytest.raises(InventoryError, match="would be the same as asset"):
            edit_asset(session, two.asset_id, {"name": "one"}, "bob")


def test_resolve_by_id_prefix_source_id_and_name(store: Store) -> None:
    with store.session() as session:
        a = register(session, spec("alpha", source_id="arn:alpha"), source="d")
        register(session, spec("twin", environment="staging"), source="d")
        register(session, spec("twin", environment="production"), source="d")
        assert resolve_asset(session, a.asset_id[:8]).id == a.asset_id
        assert resolve_asset(session, "arn:alpha").id == a.asset_id
        assert resolve_asset(session, "alpha").id == a.asset_id
        with pytest.raises(InventoryError, match="matches 2 assets"):
            resolve_asset(session, "twin")
        with pytest.raises(NotFoundError):
            resolve_asset(session, "alpha", org="acme")


def test_a_complete_result_replaces_its_edges_an_incomplete_one_adds(store: Store) -> None:
    agent = DiscoveredAsset(spec=spec("agent", asset_type="ai_agent", source_id="arn:agent"))
    kb = DiscoveredAsset(spec=spec("kb", asset_type="knowledge_base", source_id="arn:kb"), key="kb")
    model = DiscoveredAsset(spec=spec("m", asset_type="foundation_model", source_id="arn:m"))

    def run(edges: list[DiscoveredEdge], *, complete: bool) -> list[str]:
        result = DiscoveryResult(
            source="aws", assets=[agent, kb, model], edges=edges, complete=complete
        )
        with store.session() as session:
            apply_discovery(session, result)
            return sorted(f"{e.relation.value}:{e.target_ref}" for e in list_dependencies(session))

    first = run([DiscoveredEdge(agent.handle, "kb", "retrieves_from")], complete=True)
    assert first == ["retrieves_from:id:arn:kb"]  # the handle became the natural key
    added = run([DiscoveredEdge(agent.handle, "arn:m", "uses_model")], complete=False)
    assert added == ["retrieves_from:id:arn:kb", "uses_model:arn:m"]
    replaced = run([DiscoveredEdge(agent.handle, "arn:m", "uses_model")], complete=True)
    assert replaced == ["uses_model:arn:m"]
    assert run([], complete=True) == []
    with store.session() as session:
        assert all(e.target_id is not None for e in list_dependencies(session))
