from __future__ import annotations

from datetime import UTC, datetime

from garrison.inventory.merge import Claim, attribute_confidence, plan_create, plan_update, wins
from garrison.inventory.models import AssetSpec, Confidence, Evidence

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 2, tzinfo=UTC)


def source(name: str, level: Confidence) -> Claim:
    return Claim(name, level.value, T0.isoformat())


def test_only_explicit_attributes_carry_confidence() -> None:
    spec = AssetSpec(name="m", asset_type="foundation_model", model_name="gpt-4o")
    assert set(attribute_confidence(spec, [])) == {"name", "asset_type", "model_name"}


def test_confidence_comes_from_the_evidence_that_covers_each_attribute() -> None:
    spec = AssetSpec(name="m", asset_type="foundation_model", model_name="gpt-4o")
    levels = attribute_confidence(
        spec,
        [
            Evidence(location="a.py:3", confidence="inferred", attributes=("model_name",)),
            Evidence(location="arn:x", confidence="declared", attributes=("name",)),
        ],
    )
    assert levels["model_name"] is Confidence.INFERRED
    assert levels["name"] is Confidence.DECLARED
    assert levels["asset_type"] is Confidence.DECLARED  # not mentioned: the best evidence given


def test_precedence() -> None:
    declared = source("aws", Confidence.DECLARED)
    assert not wins(source("code", Confidence.INFERRED), declared)
    assert wins(source("aws", Confidence.INFERRED), declared)  # the same source may revise
    assert wins(source("azure", Confidence.DECLARED), declared)
    assert not wins(source("aws", Confidence.UNRESOLVED), None)
    assert wins(source("code", Confidence.INFERRED), None)


def test_update_applies_changes_and_keeps_what_it_may_not_override() -> None:
    current = AssetSpec(
        name="m", asset_type="foundation_model", model_name="gpt-4o", owner_team="A"
    ).attributes()
    provenance = {
        "model_name": source("aws", Confidence.DECLARED),
        "owner_team": source("manual", Confidence.DECLARED),
    }
    spec = AssetSpec(
        name="m", asset_type="foundation_model", model_name="gpt-4o-mini", owner_team="B"
    )
    plan = plan_update(
        current,
        provenance,
        spec,
        source="code",
        confidence={"model_name": Confidence.INFERRED, "owner_team": Confidence.DECLARED},
        at=T1,
    )
    assert [c.attribute for c in plan.changes] == ["owner_team"]
    assert plan.attributes["model_name"] == "gpt-4o"
    assert plan.provenance["owner_team"].source == "code"
    assert plan.provenance["model_name"].source == "aws"


def test_a_confirmation_keeps_when_the_value_was_set() -> None:
    current = AssetSpec(name="m", asset_type="tool").attributes()
    provenance = {"name": source("aws", Confidence.DECLARED)}
    plan = plan_update(
        current,
        provenance,
        AssetSpec(name="m", asset_type="tool"),
        source="aws",
        confidence={"name": Confidence.DECLARED},
        at=T1,
    )
    assert not plan.changed
    assert plan.provenance["name"].public().at == T0


def test_unset_attributes_never_blank_declared_ones() -> None:
    current = AssetSpec(name="m", asset_type="tool", owner_team="Team").attributes()
    spec = AssetSpec(name="m", asset_type="tool")  # the source could not see the owner
    plan = plan_update(
        current, {}, spec, source="aws", confidence=attribute_confidence(spec, []), at=T1
    )
    assert plan.attributes["owner_team"] == "Team"
    assert not plan.changed


def test_create_drops_unresolved_values() -> None:
    spec = AssetSpec(name="k", asset_type="tool", cloud_region="eu-west-1")
    plan = plan_create(
        spec,
        "code",
        {
            "name": Confidence.DECLARED,
            "asset_type": Confidence.DECLARED,
            "cloud_region": Confidence.UNRESOLVED,
        },
        T0,
    )
    assert plan.attributes["cloud_region"] is None
    assert "cloud_region" not in plan.provenance
