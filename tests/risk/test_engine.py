"""The store edge, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect

from garrison.controls.state import attest
from garrison.inventory import AIAsset, AssetFilter, AssetSpec, register, search
from garrison.risk import (
    AcceptanceError,
    AcceptanceStatus,
    GapKind,
    ProviderContext,
    RiskAdjustment,
    RiskConfig,
    accept,
    acceptances,
    assess,
    assess_assets,
    history,
    latest,
    open_risk_gaps,
    recompute,
    risk_levels,
    top,
)
from garrison.risk.config import Dimension
from garrison.store import Store
from tests.risk.conftest import NOW


@pytest.fixture
def estate(store: Store) -> dict[str, str]:
    with store.session() as session:
        bot = register(
            session,
            AssetSpec(
                name="support-bot",
                asset_type="ai_agent",
                owner_email="owner@example.com",
                data_classification="confidential",
                exposure="public",
                environment="production",
                model_provider="openai",
                last_security_review=date(2026, 10, 1),
                tools=[{"name": "refund", "permissions": ["financial_transaction"]}],
            ),
            source="declared",
        )
        logs = register(
            session,
            AssetSpec(
                name="chat-logs",
                asset_type="training_dataset",
                data_classification="regulated",
                regulatory_scope=["gdpr"],
            ),
            source="declared",
        )
        notes = register(
            session,
            AssetSpec(
                name="eval-set",
                asset_type="evaluation_dataset",
                data_classification="public",
                exposure="internal",
                environment="research",
            ),
            source="declared",
        )
        attest(
            session,
            bot.asset_id,
            "CTRL-INPUT-FILTER",
            "operational",
            "alice",
            evidence=["https://ci.example.com/runs/1"],
            at=NOW - timedelta(days=1),
        )
        attest(
            session,
            bot.asset_id,
            "CTRL-RATE-LIMIT",
            "implemented",
            "alice",
            evidence=["https://ci.example.com/runs/2"],
            at=NOW - timedelta(days=1),
        )
    return {"bot": bot.asset_id, "logs": logs.asset_id, "notes": notes.asset_id}


def test_migration_creates_the_risk_tables(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"risk_configs", "risk_assessments", "risk_acceptances"} <= tables


def test_assess_stores_inputs_and_recompute_is_bit_for_bit(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    with store.session() as session:
        done = assess(session, "support-bot", config=config, now=NOW)
    assert done.asset_id == estate["bot"]
    states = {c.id: c.state for c in done.inputs.controls}
    assert states["CTRL-INPUT-FILTER"] == "operational"
    assert states["CTRL-RATE-LIMIT"] == "implemented"
    assert done.inputs.asset["name"] == "support-bot"
    assert done.inputs.config_digest == config.digest()
    assert {c.id for c in done.explanation.controls} == {"CTRL-INPUT-FILTER", "CTRL-RATE-LIMIT"}
    assert "CTRL-INPUT-FILTER" not in done.explanation.missing
    assert len(done.explanation.missing) == len(done.inputs.controls) - 2
    counted = {c.id for c in done.explanation.controls if c.counts}
    assert counted == {"CTRL-INPUT-FILTER"}
    with store.session() as session:
        stored = latest(session, estate["bot"])
        assert stored is not None
        assert stored == done
        again = recompute(session, stored)
    assert again == stored.explanation
    assert again.model_dump(mode="json") == stored.explanation.model_dump(mode="json")


def test_recompute_uses_the_stored_model_not_todays(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    with store.session() as session:
        before = assess(session, estate["logs"], config=config, now=NOW)
    # The asset and its controls change after the assessment: the stored score stands.
    with store.session() as session:
        attest(
            session,
            estate["logs"],
            "CTRL-DATA-MINIMISATION",
            "operational",
            "bob",
            evidence=["https://ci.example.com/runs/3"],
            at=NOW,
        )
        assert recompute(session, before) == before.explanation
        changed = config.model_copy(update={"precision": 4})
        after = assess(session, estate["logs"], config=changed, now=NOW + timedelta(hours=1))
        assert recompute(session, after) == after.explanation
        assert after.inputs.config_digest != before.inputs.config_digest


def test_provider_outputs_are_stored_and_reused(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    calls = []

    def findings(context: ProviderContext, asset: AIAsset) -> list[RiskAdjustment]:
        calls.append(asset.id)
        return [
            RiskAdjustment(
                dimension=Dimension.CAPABILITY_RISK,
                points=10,
                explanation="open finding RT-9",
                refs=("RT-9",),
            )
        ]

    with store.session() as session:
        done = assess(
            session, estate["notes"], config=config, providers=[("red-team", findings)], now=NOW
        )
        assert done.inputs.providers[0].provider == "red-team"
        assert done.explanation.providers == ("red-team",)
        assert recompute(session, done) == done.explanation
    assert calls == [estate["notes"]]  # recompute did not call the provider again


def test_history_top_and_the_inventory_risk_hook(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    with store.session() as session:
        first = assess_assets(session, config=config, now=NOW)
        assert len(first) == 3
        attest(
            session,
            estate["bot"],
            "CTRL-RATE-LIMIT",
            "operational",
            "alice",
            evidence=["https://ci.example.com/runs/4"],
            at=NOW,
        )
        assess(session, estate["bot"], config=config, now=NOW + timedelta(days=1))
    with store.session() as session:
        past = history(session, estate["bot"])
        assert len(past) == 2
        assert past[1].residual < past[0].residual
        ranked = top(session, 2)
        assert len(ranked) == 2
        assert ranked[0].residual >= ranked[1].residual
        assert all(a.id != past[0].id for a in ranked)  # only the latest of each asset
        levels = risk_levels(session)
        assert set(levels) == set(estate.values())
        assert levels[estate["notes"]] == "low"
        found = search(session, AssetFilter(risk_levels=("low",)), risk=levels)
        assert [a.name for a in found] == ["eval-set"]


def test_acceptance_expires_and_reopens_as_a_gap(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    with store.session() as session:
        assess_assets(session, config=config, now=NOW)
        gaps = open_risk_gaps(session, config, now=NOW)
        above = {g.asset_id for g in gaps}
        assert estate["logs"] in above
        assert estate["notes"] not in above
        assert all(g.kind is GapKind.UNACCEPTED for g in gaps)
        done = accept(
            session,
            estate["logs"],
            reason="compensating DLP",
            owner="data-team",
            approver="ciso@example.com",
            expires=date(2026, 12, 31),
            config=config,
            now=NOW,
        )
        assert done.status is AcceptanceStatus.ACTIVE
    with store.session() as session:
        during = {g.asset_id for g in open_risk_gaps(session, config, now=NOW + timedelta(days=5))}
        assert estate["logs"] not in during
        later = NOW + timedelta(days=60)
        reopened = [
            g for g in open_risk_gaps(session, config, now=later) if g.asset_id == estate["logs"]
        ]
        assert [g.kind for g in reopened] == [GapKind.ACCEPTANCE_EXPIRED]
        assert reopened[0].acceptance_id == done.id
        assert "expired 2026-12-31" in reopened[0].message
        expired = acceptances(session, config, status=AcceptanceStatus.EXPIRED, now=later)
        assert [a.id for a in expired] == [done.id]
        assert acceptances(session, config, status=AcceptanceStatus.EXPIRED, now=NOW) == []


def test_acceptance_rules(store: Store, estate: dict[str, str], config: RiskConfig) -> None:
    with store.session() as session:
        assess_assets(session, config=config, now=NOW)

        def attempt(asset: str, owner: str, approver: str, expires: date) -> None:
            accept(
                session,
                asset,
                reason="r",
                owner=owner,
                approver=approver,
                expires=expires,
                config=config,
                now=NOW,
            )

        with pytest.raises(AcceptanceError, match="within appetite"):
            attempt(estate["notes"], "a", "b", date(2026, 12, 1))
        with pytest.raises(AcceptanceError, match="other than the owner"):
            attempt(estate["logs"], "Ann", "ann", date(2026, 12, 1))
        with pytest.raises(AcceptanceError, match="not in the future"):
            attempt(estate["logs"], "a", "b", date(2026, 11, 1))
        current = latest(session, estate["logs"])
        assert current is not None
        level = config.level(current.level)
        with pytest.raises(AcceptanceError, match=f"at most {level.max_acceptance_days} days"):
            attempt(estate["logs"], "a", "b", date(2028, 1, 1))
        with pytest.raises(AcceptanceError, match="reason is required"):
            accept(
                session,
                estate["logs"],
                reason="  ",
                owner="a",
                approver="b",
                expires=date(2026, 12, 1),
                config=config,
                now=NOW,
            )


def test_acceptance_exceeded_when_risk_rises(
    store: Store, estate: dict[str, str], config: RiskConfig
) -> None:
    with store.session() as session:
        assess(session, estate["logs"], config=config, now=NOW)
        accept(
            session,
            estate["logs"],
            reason="r",
            owner="a",
            approver="b",
            expires=date(2026, 12, 20),
            config=config,
            now=NOW,
        )

        def surge(context: ProviderContext, asset: AIAsset) -> Iterator[RiskAdjustment]:
            for dimension in Dimension:
                yield RiskAdjustment(dimension=dimension, points=20, explanation="incident")

        raised = assess(
            session, estate["logs"], config=config, providers=[("incidents", surge)], now=NOW
        )
        assert raised.level == "critical"
        (gap,) = [
            g for g in open_risk_gaps(session, config, now=NOW) if g.asset_id == estate["logs"]
        ]
        assert gap.kind is GapKind.ACCEPTANCE_EXCEEDED
