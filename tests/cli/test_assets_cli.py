"""``garrison assets …`` in process, on both store backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from garrison.core.content import content_file
from garrison.inventory.demo import DEMO_ASSETS_FILE
from tests.cli.conftest import Invoke


@pytest.fixture
def db(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    return store_url


@pytest.fixture
def demo(db: str, garrison: Invoke) -> str:
    result = garrison("assets", "import", str(content_file(DEMO_ASSETS_FILE, None)))
    assert result.code == 0, result.err
    return db


def as_list(result: Any) -> list[dict[str, Any]]:
    data = result.json()
    assert isinstance(data, list)
    return data


def test_help_teaches_with_examples(garrison: Invoke) -> None:
    result = garrison("assets", "--help")
    assert result.code == 0
    assert "garrison assets graph" in result.out
    for command in ("list", "show", "add", "edit", "import", "graph", "gaps"):
        sub = garrison("assets", command, "--help")
        assert sub.code == 0 and "Examples:" in sub.out, command


def test_list_with_filters(demo: str, garrison: Invoke) -> None:
    everything = as_list(garrison("assets", "list", "--json"))
    public = as_list(garrison("assets", "list", "--exposure", "public", "--json"))
    agents = as_list(garrison("assets", "list", "--org", "northwind", "-t", "ai_agent", "--json"))
    unclassified = as_list(
        garrison("assets", "list", "--unclassified", "-t", "evaluation_dataset", "--json")
    )
    assert len(everything) == 22
    assert sorted(a["name"] for a in public) == [
        "Marketing copy assistant (pilot)",
        "Northwind Assist",
    ]
    assert {a["name"] for a in agents} == {"Wealth research agent", "Advisor triage agent"}
    assert [a["name"] for a in unclassified] == ["Fraud holdout 2025-Q3"]
    table = garrison("assets", "list", "-q", "claude")
    assert table.code == 0 and table.out.startswith("2 asset(s)")  # the model and its profile


def test_show_has_evidence_history_and_dependencies(demo: str, garrison: Invoke) -> None:
    shown = garrison("assets", "show", "Northwind Assist", "--json")
    assert shown.code == 0, shown.err
    detail = shown.json()
    assert isinstance(detail, dict)
    assert detail["asset"]["name"] == "Northwind Assist"
    assert {d["relation"] for d in detail["upstream"]} >= {"uses_model", "guarded_by"}
    assert detail["evidence"][0]["location"] == "assets.yaml:17"
    assert detail["history"][0]["action"] == "created"
    text = garrison("assets", "show", detail["asset"]["id"][:8])
    assert text.code == 0 and "Evidence" in text.out and "History" in text.out


def test_show_unknown_is_a_clear_error(db: str, garrison: Invoke) -> None:
    result = garrison("assets", "show", "nothing-like-this")
    assert result.code == 2
    assert "no asset 'nothing-like-this'" in result.err


def test_add_then_edit_records_the_change(db: str, garrison: Invoke) -> None:
    added = garrison(
        "assets",
        "add",
        "--name",
        "Claims bot",
        "--type",
        "llm_application",
        "--env",
        "production",
        "--org",
        "northwind",
        "--exposure",
        "public",
        "--scope",
        "gdpr",
        "--set",
        "owner_team=Claims",
        "--actor",
        "alice",
        "--json",
    )
    assert added.code == 0, added.err
    outcome = added.json()
    assert isinstance(outcome, dict) and outcome["action"] == "created"
    again = garrison(
        "assets",
        "add",
        "--name",
        "Claims bot",
        "--type",
        "llm_application",
        "--env",
        "production",
        "--org",
        "northwind",
        "--json",
    )
    assert isinstance(again.json(), dict) and again.json()["action"] == "unchanged"  # type: ignore[index]

    edited = garrison(
        "assets",
        "edit",
        "Claims bot",
        "--set",
        "data_classification=confidential",
        "--set",
        "tags=claims,pilot",
        "--set",
        "sbom_available=yes",
        "--actor",
        "bob",
    )
    assert edited.code == 0, edited.err
    assert "data_classification: null → confidential" in edited.out
    detail = garrison("assets", "show", "Claims bot", "--json").json()
    assert isinstance(detail, dict)
    assert detail["asset"]["tags"] == ["claims", "pilot"]
    assert detail["asset"]["sbom_available"] is True
    assert detail["history"][-1]["actor"] == "bob"


def test_edit_refuses_unknown_fields_and_bad_values(db: str, garrison: Invoke) -> None:
    garrison("assets", "add", "--name", "x", "--type", "tool")
    unknown = garrison("assets", "edit", "x", "--set", "colour=red")
    assert unknown.code == 2 and "not an editable field" in unknown.err
    bad = garrison("assets", "edit", "x", "--set", "exposure=everywhere")
    assert bad.code == 2 and "exposure" in bad.err


def test_add_refuses_a_raw_key(db: str, garrison: Invoke) -> None:
    result = garrison(
        "assets",
        "add",
        "--name",
        "k",
        "--type",
        "api_key",
        "--set",
        'api_key={"location": "code", "reference": "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123"}',
    )
    assert result.code == 2
    assert "not a reference" in result.err


def test_add_from_a_file(db: str, garrison: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("name: Eval set\nasset_type: evaluation_dataset\nenvironment: research\n")
    result = garrison("assets", "add", "--file", str(path), "--json")
    assert result.code == 0, result.err


def test_import_reports_bad_rows_with_lines_and_exits_1(
    db: str, garrison: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "estate.csv"
    path.write_text(
        "name,asset_type,environment\nGood,tool,production\nBad,teapot,production\n",
        encoding="utf-8",
    )
    result = garrison("assets", "import", str(path))
    assert result.code == 1
    assert "1 imported" in result.out and "1 rejected" in result.out
    assert "estate.csv:line 3: asset_type" in result.err
    as_json = garrison("assets", "import", str(path), "--json").json()
    assert isinstance(as_json, dict)
    assert as_json["unchanged"] == 1
    assert as_json["rejected"][0]["line"] == 3


def test_import_of_a_wrong_file_exits_2(db: str, garrison: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{broken")
    assert garrison("assets", "import", str(path)).code == 2
    assert garrison("assets", "import", str(tmp_path / "missing.yaml")).code == 2
    assert garrison("assets", "import", str(path), "--format", "xml").code == 2


def test_graph_tree_dot_and_json(demo: str, garrison: Invoke, tmp_path: Path) -> None:
    tree = garrison("assets", "graph", "Northwind Assist", "--upstream")
    assert tree.code == 0, tree.err
    assert "guarded_by: Assist content safety policy" in tree.out
    summary = garrison("assets", "graph", "--org", "northwind")
    assert "cycle: " in summary.out and "missing: 'OpenAI gpt-4o-mini (direct API)'" in summary.out
    dot = tmp_path / "g.dot"
    written = garrison("assets", "graph", "--dot", str(dot))
    assert written.code == 0 and dot.read_text().startswith('digraph "garrison assets"')
    view = garrison("assets", "graph", "Card fraud scorer v7", "--downstream", "--json").json()
    assert isinstance(view, dict)
    assert {n["name"] for n in view["nodes"]} == {"Card fraud scorer v7", "Fraud scoring endpoint"}
    both = garrison("assets", "graph", "--upstream", "--downstream", "x")
    assert both.code == 2


def test_gaps_exit_1_when_there_are_gaps(demo: str, garrison: Invoke) -> None:
    result = garrison("assets", "gaps", "--org", "northwind", "--as-of", "2026-11-22", "--json")
    assert result.code == 1
    report = result.json()
    assert isinstance(report, dict)
    assert "Fraud scoring endpoint" not in {g["asset_name"] for g in report["gaps"]}
    assert report["by_kind"]["unclassified_data"]
    assert garrison("assets", "gaps", "--as-of", "yesterday").code == 2


def test_gaps_exit_0_when_clean(db: str, garrison: Invoke) -> None:
    result = garrison("assets", "gaps", "--json")
    assert result.code == 0
