from __future__ import annotations

from pathlib import Path

import pytest

from garrison.inventory import AssetFilter, search
from garrison.inventory.demo import load_demo_assets
from garrison.inventory.gaps import compliance_gap_report
from garrison.inventory.graph import find_cycles, missing_nodes
from garrison.inventory.importing import ImportFormatError, import_assets, read_rows
from garrison.inventory.registry import load_graph
from garrison.store import Store

YAML = """\
org: northwind
assets:
  - name: Support bot
    asset_type: llm_application
    environment: production
    depends_on: [{target: Support KB, relation: retrieves_from}]
  - name: Broken
    asset_type: llm_application
    exposure: everywhere
  - name: Support KB
    asset_type: vector_database
    environment: production
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_rows_carry_lines_and_bad_rows_are_isolated(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "estate.yaml", YAML))
    assert [(r.line, r.spec is not None) for r in rows] == [
        (3, True),
        (9, False),
        (10, True),
    ]  # 9: the bad field
    assert rows[1].error is not None and rows[1].error.startswith("exposure: Input should be")
    assert rows[0].spec is not None and rows[0].spec.org == "northwind"


def test_json_rows_carry_lines(tmp_path: Path) -> None:
    text = '[\n  {"name": "a", "asset_type": "tool"},\n  {"name": "b", "asset_type": "nope"}\n]\n'
    rows = read_rows(write(tmp_path, "a.json", text), org="acme")
    assert [(r.line, r.spec is not None) for r in rows] == [(2, True), (3, False)]
    assert rows[0].spec is not None and rows[0].spec.org == "acme"


def test_csv_rows(tmp_path: Path) -> None:
    text = (
        "name,asset_type,environment,regulatory_scope,api_key.location,api_key.reference,tools\n"
        "OpenAI key,api_key,production,gdpr;ccpa,env_var,OPENAI_API_KEY,\n"
        '"Multi\nline",ai_agent,staging,,,,"[{""name"": ""search"", ""permissions"": [""read""]}]"\n'
        "Leaked,api_key,production,,code,sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789,\n"
        "Bad tools,ai_agent,staging,,,,{not json\n"
    )
    rows = read_rows(write(tmp_path, "a.csv", text))
    assert [(r.line, r.spec is not None) for r in rows] == [
        (2, True),
        (3, True),
        (5, False),
        (6, False),
    ]
    first, agent = rows[0].spec, rows[1].spec
    assert first is not None and first.regulatory_scope == ("ccpa", "gdpr")
    assert first.api_key is not None and first.api_key.reference == "OPENAI_API_KEY"
    assert agent is not None and agent.tools[0].name == "search"
    assert "this is a key, not a reference" in (rows[2].error or "")
    assert "tools: not JSON" in (rows[3].error or "")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.yaml", "assets: [\n", "YAML syntax error"),
        ("a.yaml", "just text\n", "expected a list of assets"),
        ("a.yaml", "assets: []\nextra: 1\n", "unknown top-level key"),
        ("a.json", "{nope", "not valid JSON"),
        ("a.csv", "", "empty CSV file"),
        ("a.csv", "name,asset_type,colour\n", "unknown column(s) colour"),
        ("a.txt", "x", "cannot tell the format"),
    ],
)
def test_wrong_format_files_are_refused_whole(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(ImportFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(write(tmp_path, name, text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="file not found"):
        read_rows(tmp_path / "missing.yaml")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ImportFormatError, match="not UTF-8"):
        read_rows(tmp_path / "bin.csv")
    with pytest.raises(ImportFormatError, match="is a folder"):
        read_rows(tmp_path, "yaml")


def test_import_registers_the_good_rows_and_resolves_forward_references(
    store: Store, tmp_path: Path
) -> None:
    rows = read_rows(write(tmp_path, "estate.yaml", YAML))
    with store.session() as session:
        report = import_assets(session, rows, path="estate.yaml")
        graph = load_graph(session, org="northwind")
    assert (report.accepted, report.created, len(report.rejected)) == (2, 2, 1)
    assert report.run is not None and not report.run.complete  # a rejected row: never complete
    assert missing_nodes(graph) == []
    with store.session() as session:
        again = import_assets(session, rows, path="estate.yaml")
    assert (again.created, again.unchanged) == (0, 2)


def test_the_demo_estate_loads_idempotently_with_its_deliberate_gaps(store: Store) -> None:
    first = load_demo_assets(store)
    second = load_demo_assets(store)
    assert first.endswith("created, 0 updated, 0 unchanged)")
    assert second.startswith(first.split(" ")[0] + " assets (0 created, 0 updated")
    with store.session() as session:
        assets = search(session, AssetFilter(org="northwind"))
        graph = load_graph(session, org="northwind")
        report = compliance_gap_report(session, org="northwind")
    assert 15 <= len(assets) <= 25
    assert {a.asset_type.value for a in assets} >= {
        "llm_application",
        "ai_agent",
        "mcp_server",
        "fine_tuned_model",
        "embedding_model",
        "vector_database",
        "training_dataset",
        "evaluation_dataset",
        "guardrail_config",
        "prompt_template",
        "api_key",
        "inference_profile",
        "knowledge_base",
    }
    assert len(find_cycles(graph)) == 1
    assert [m.reference for m in missing_nodes(graph)] == ["OpenAI gpt-4o-mini (direct API)"]
    names = {(g.kind, g.asset_name) for g in report.gaps}
    assert ("unclassified_data", "Fraud holdout 2025-Q3") in names
    assert ("no_owner", "Internal document summariser") in names
    assert ("missing_sbom", "SEC filings MCP server") in names
    assert ("public_without_guardrail", "Marketing copy assistant (pilot)") in names
    assert ("eu_high_risk_unassessed", "Credit limit recommender") in names
