from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from garrison.controls import load_library
from garrison.inventory import AssetSpec, AssetType, register
from garrison.store import open_store
from tests.cli.conftest import Invoke


@pytest.fixture
def estate(monkeypatch: pytest.MonkeyPatch, store_url: str) -> dict[str, str]:
    """Two inventory assets: a support bot (payments team) and a training set (data team)."""
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    store = open_store(store_url)
    try:
        with store.session() as session:
            bot = register(
                session,
                AssetSpec(
                    name="support-bot", asset_type=AssetType.LLM_APPLICATION, owner_team="payments"
                ),
                source="declared",
            )
            data = register(
                session,
                AssetSpec(
                    name="chat-logs", asset_type=AssetType.TRAINING_DATASET, owner_team="data"
                ),
                source="declared",
            )
    finally:
        store.dispose()
    return {"bot": bot.asset_id, "data": data.asset_id}


def test_list_filters_and_json(garrison: Invoke) -> None:
    result = garrison("controls", "list", "--type", "detective", "--maps-to", "LLM07", "--json")
    assert result.code == 0
    rows: list[dict[str, Any]] = result.json()  # type: ignore[assignment]
    assert rows
    assert {r["type"] for r in rows} == {"detective"}
    assert all("LLM07:2025" in r["mappings"]["owasp_llm"] for r in rows)
    assert "CTRL-DET-SYSTEM-PROMPT-LEAK" in {r["id"] for r in rows}
    table = garrison("controls", "list", "--asset-type", "ai_agent")
    assert table.code == 0
    assert table.out.startswith(f"{len(load_library().applicable('ai_agent'))} control(s)")
    assert garrison("controls", "list", "--maps-to", "LLM99").code == 2
    assert garrison("controls", "list", "--family", "nope").code == 1


def test_show_names_mappings_from_the_catalog(garrison: Invoke) -> None:
    result = garrison("controls", "show", "ctrl-input-filter")
    assert result.code == 0
    assert "Prompt Injection" in result.out
    assert "Adversarial Input Detection" in result.out
    assert "input.yaml:" in result.out
    data: dict[str, Any] = garrison("controls", "show", "CTRL-INPUT-FILTER", "--json").json()  # type: ignore[assignment]
    assert {"id": "AML.M0015", "name": "Adversarial Input Detection"} in data["mapping_names"][
        "atlas_mitigations"
    ]
    missing = garrison("controls", "show", "CTRL-NOPE")
    assert missing.code == 2
    assert "no control 'CTRL-NOPE'" in missing.err


def test_library_check_passes_and_fails_on_a_broken_override(
    garrison: Invoke, tmp_path: Path
) -> None:
    result = garrison("controls", "library-check", "--json")
    assert result.code == 0
    data: dict[str, Any] = result.json()  # type: ignore[assignment]
    assert data["incomplete"] == []
    assert len(data["coverage"]["OWASP-LLM"]) == 10
    assert "controls valid" in garrison("controls", "library-check").out

    folder = tmp_path / "controls"
    folder.mkdir()
    # Overriding every file that holds a detective LLM07 control leaves LLM07 incomplete.
    for name in ("output.yaml", "monitoring.yaml", "access.yaml", "governance.yaml"):
        (folder / name).write_text(
            "family: x\ndescription: emptied\ncontrols:\n"
            f"  - id: CTRL-PLACEHOLDER-{name.split('.')[0].upper()}\n"
            "    name: n\n    type: corrective\n    category: governance\n"
            "    applies_to: [ai_agent]\n    summary: s\n"
            "    implementation: {deploy: d, verify: v, evidence: [e]}\n"
            "    effectiveness: {weight: 0.1, rationale: r}\n    mappings: {}\n",
            encoding="utf-8",
        )
    broken = garrison("controls", "library-check", "--content-dir", str(tmp_path), "--json")
    assert broken.code == 1
    assert "LLM07:2025" in broken.json()["incomplete"]  # type: ignore[index]
    (folder / "bad.yaml").write_text(
        "family: x\ndescription: d\ncontrols: [{id: CTRL-A}]\n", encoding="utf-8"
    )
    invalid = garrison("controls", "library-check", "--content-dir", str(tmp_path))
    assert invalid.code == 2
    assert "bad.yaml:3" in invalid.err


def test_attest_state_history_and_coverage(garrison: Invoke, estate: dict[str, str]) -> None:
    ok = garrison(
        "controls",
        "attest",
        "support-bot",
        "CTRL-INPUT-FILTER",
        "--state",
        "operational",
        "--by",
        "alice",
        "--evidence",
        "https://ci.example.com/runs/1",
        "--note",
        "canary set blocked",
        "--json",
    )
    assert ok.code == 0, ok.err
    recorded: dict[str, Any] = ok.json()  # type: ignore[assignment]
    assert recorded["asset_id"] == estate["bot"]
    assert recorded["asset_type"] == "llm_application"
    assert (
        garrison(
            "controls",
            "attest",
            estate["bot"],
            "CTRL-DET-PROMPT-INJECTION",
            "--state",
            "operational",
            "--by",
            "bob",
        ).code
        == 0
    )
    refused = garrison(
        "controls",
        "attest",
        "chat-logs",
        "CTRL-INPUT-FILTER",
        "--state",
        "operational",
        "--by",
        "a",
    )
    assert refused.code == 2
    assert "does not apply" in refused.err
    unknown = garrison(
        "controls", "attest", "ghost", "CTRL-INPUT-FILTER", "--state", "planned", "--by", "a"
    )
    assert unknown.code == 2
    assert "--asset-type" in unknown.err
    bad_link = garrison(
        "controls",
        "attest",
        "support-bot",
        "CTRL-RATE-LIMIT",
        "--state",
        "planned",
        "--by",
        "a",
        "--evidence",
        "javascript:alert(1)",
    )
    assert bad_link.code == 2
    assert "javascript" in bad_link.err

    state: dict[str, Any] = garrison("controls", "state", "support-bot", "--json").json()  # type: ignore[assignment]
    assert {s["control_id"]: s["state"] for s in state["states"]} == {
        "CTRL-INPUT-FILTER": "operational",
        "CTRL-DET-PROMPT-INJECTION": "operational",
    }
    assert "CTRL-RATE-LIMIT" in state["not_attested"]
    assert "2 operational" in garrison("controls", "state", "support-bot").out
    hist = garrison("controls", "history", "support-bot", "CTRL-INPUT-FILTER", "--json").json()
    assert [h["actor"] for h in hist] == ["alice"]  # type: ignore[index, union-attr]

    coverage = garrison("controls", "coverage", "--json")
    assert coverage.code == 1
    matrix: dict[str, Any] = coverage.json()  # type: ignore[assignment]
    rows = {a["name"]: a for a in matrix["assets"]}
    assert rows["support-bot"]["cells"]["LLM01:2025"]["status"] == "both"
    assert rows["support-bot"]["cells"]["ASI01"]["status"] == "both"
    assert rows["support-bot"]["cells"]["LLM10:2025"]["status"] == "gap"
    assert rows["chat-logs"]["cells"]["LLM01:2025"]["status"] == "not-applicable"
    assert rows["chat-logs"]["cells"]["LLM04:2025"]["status"] == "gap"

    team = garrison(
        "controls", "coverage", "--team", "payments", "--framework", "OWASP-LLM", "--json"
    )
    assert [a["name"] for a in team.json()["assets"]] == ["support-bot"]  # type: ignore[index]
    assert len(team.json()["items"]) == 10  # type: ignore[index, arg-type]
    terminal = garrison(
        "controls", "coverage", "--asset", "support-bot", "--framework", "OWASP-LLM"
    )
    assert terminal.code == 1
    assert "LLM01" in terminal.out
    assert "P+D" in terminal.out
    assert "GAP" in terminal.out
    assert "legend:" in terminal.out
    assert "close with:" in terminal.out
    assert garrison("controls", "coverage", "--framework", "ATLAS").code == 2


def test_coverage_of_an_empty_scope_passes(garrison: Invoke, estate: dict[str, str]) -> None:
    result = garrison("controls", "coverage", "--team", "nobody")
    assert result.code == 0
    assert "no assets in scope" in result.out
