from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from garrison.controls.state import attest
from garrison.core.content import packaged_content_root
from garrison.core.timeutil import utcnow
from garrison.inventory import AssetSpec, register
from garrison.store import open_store
from tests.cli.conftest import Invoke, Result


def rows(result: Result) -> list[dict[str, Any]]:
    data = result.json()
    assert isinstance(data, list)
    return data


@pytest.fixture
def estate(monkeypatch: pytest.MonkeyPatch, store_url: str) -> dict[str, str]:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    store = open_store(store_url)
    try:
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
                    tools=[{"name": "refund", "permissions": ["financial_transaction"]}],
                ),
                source="declared",
            )
            data = register(
                session,
                AssetSpec(
                    name="eval-set",
                    asset_type="evaluation_dataset",
                    data_classification="public",
                    exposure="internal",
                    environment="research",
                    owner_team="data",
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
                at=utcnow() - timedelta(hours=1),
            )
    finally:
        store.dispose()
    return {"bot": bot.asset_id, "data": data.asset_id}


def test_assess_all_show_explain_reproduces_the_score(
    garrison: Invoke, estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # IDs unfolded, as in a wide terminal
    done = garrison("risk", "assess", "--all", "--json")
    assert done.code == 0, done.err
    rows: list[dict[str, Any]] = done.json()  # type: ignore[assignment]
    assert [r["asset_name"] for r in rows] == ["support-bot", "eval-set"]  # highest residual first
    shown = garrison("risk", "show", "support-bot", "--explain", "--json")
    assert shown.code == 0
    data: dict[str, Any] = shown.json()  # type: ignore[assignment]
    e = data["explanation"]
    inherent = math.fsum(f["score"] * f["weight"] for f in e["factors"])
    residual = math.fsum(f["score"] * f["weight"] * (1 - f["effectiveness"]) for f in e["factors"])
    assert e["inherent"] == round(inherent, 2)
    assert e["residual"] == round(residual, 2)
    assert math.fsum(f["share"] for f in e["factors"]) == pytest.approx(100)
    assert {c["id"] for c in e["controls"] if c["counts"]} == {"CTRL-INPUT-FILTER"}
    assert e["recommendations"] and e["recommendations"][0]["control_id"].startswith("CTRL-")

    text = garrison("risk", "show", "support-bot", "--explain")
    assert text.code == 0
    for needle in (
        "deployment_exposure",
        "public x production: 90",
        "CTRL-INPUT-FILTER",
        "Recommendations",
        f"{e['residual']:.2f}",
        "capped at 85 %",
        "100.00 %",
    ):
        assert needle in text.out


def test_fail_above_and_bad_level(garrison: Invoke, estate: dict[str, str]) -> None:
    assert garrison("risk", "assess", estate["data"], "--fail-above", "medium").code == 0
    assert garrison("risk", "assess", "support-bot", "--fail-above", "low").code == 1
    assert garrison("risk", "top", "--fail-above", "critical").code == 0
    assert garrison("risk", "top", "--fail-above", "low").code == 1
    bad = garrison("risk", "top", "--fail-above", "severe")
    assert bad.code == 2 and "unknown risk level 'severe'" in bad.err
    assert garrison("risk", "assess").code == 2
    assert garrison("risk", "assess", "nope").code == 2


def test_show_before_assessment_is_an_input_error(garrison: Invoke, estate: dict[str, str]) -> None:
    result = garrison("risk", "show", "support-bot")
    assert result.code == 2
    assert "has not been assessed" in result.err


def test_top_and_history(garrison: Invoke, estate: dict[str, str]) -> None:
    garrison("risk", "assess", "--all")
    garrison("risk", "assess", "support-bot")
    top = garrison("risk", "top", "--limit", "1", "--json")
    rows: list[dict[str, Any]] = top.json()  # type: ignore[assignment]
    assert [r["asset_name"] for r in rows] == ["support-bot"]
    past = garrison("risk", "history", "support-bot", "--json")
    assert len(past.json()) == 2  # type: ignore[arg-type]
    assert "2 assessment(s)" in garrison("risk", "history", "support-bot").out


def test_accept_acceptances_and_gaps(garrison: Invoke, estate: dict[str, str]) -> None:
    garrison("risk", "assess", "--all")
    gaps = garrison("risk", "gaps", "--json")
    assert gaps.code == 1
    assert [g["asset_name"] for g in rows(gaps)] == ["support-bot"]
    expires = (utcnow() + timedelta(days=30)).date().isoformat()
    ok = garrison(
        "risk",
        "accept",
        "support-bot",
        "--reason",
        "WAF in front",
        "--approver",
        "ciso@example.com",
        "--expires",
        expires,
        "--json",
    )
    assert ok.code == 0, ok.err
    accepted: dict[str, Any] = ok.json()  # type: ignore[assignment]
    assert accepted["owner"] == "owner@example.com" and accepted["status"] == "active"
    assert garrison("risk", "gaps").code == 0
    listed = garrison("risk", "acceptances", "--json")
    assert [a["id"] for a in rows(listed)] == [accepted["id"]]
    assert garrison("risk", "acceptances", "--expired", "--json").json() == []
    within = garrison(
        "risk",
        "accept",
        "eval-set",
        "--reason",
        "r",
        "--approver",
        "x@example.com",
        "--expires",
        expires,
    )
    assert within.code == 2 and "within appetite" in within.err
    bad_date = garrison(
        "risk",
        "accept",
        "support-bot",
        "--reason",
        "r",
        "--approver",
        "x@example.com",
        "--expires",
        "next week",
    )
    assert bad_date.code == 2


def test_quantify(garrison: Invoke, estate: dict[str, str]) -> None:
    result = garrison(
        "risk", "quantify", "support-bot", "--simulations", "2000", "--seed", "1", "--json"
    )
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()  # type: ignore[assignment]
    assert data["seed"] == 1 and data["simulations"] == 2000
    assert float(data["annualized_loss_expectancy"]) > 0
    assert isinstance(data["annualized_loss_expectancy"], str)  # Decimal, not a float
    assert len(data["exceedance"]) >= 2
    again = garrison(
        "risk", "quantify", "support-bot", "--simulations", "2000", "--seed", "1", "--json"
    )
    assert again.json() == data
    garrison("risk", "assess", "--all")
    table = garrison("risk", "quantify", "--top", "2", "--simulations", "1000")
    assert table.code == 0 and "annualized loss expectancy" in table.out and "p99" in table.out


def test_a_weight_changed_in_an_override_folder_changes_the_score(
    garrison: Invoke, estate: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = garrison("risk", "assess", "support-bot", "--json").json()[0]["inherent"]  # type: ignore[index]
    text = (packaged_content_root() / "risk.yaml").read_text()
    text = text.replace("weight: 0.25", "weight: 0.35", 1).replace(
        "    weight: 0.10\n    base: 50", "    weight: 0.0\n    base: 50"
    )
    (tmp_path / "risk.yaml").write_text(text)
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(tmp_path))
    after = garrison("risk", "assess", "support-bot", "--json").json()[0]["inherent"]  # type: ignore[index]
    assert after != before
    broken = text.replace("weight: 0.35", "weight: 0.45", 1)
    (tmp_path / "risk.yaml").write_text(broken)
    failed = garrison("risk", "assess", "support-bot")
    assert failed.code == 2 and "sum to 1.1" in failed.err and "risk.yaml:" in failed.err
