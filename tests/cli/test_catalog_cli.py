from __future__ import annotations

from typing import Any

from garrison import __version__
from tests.cli.conftest import Invoke


def test_version(garrison: Invoke) -> None:
    result = garrison("--version")
    assert (result.code, result.out.strip()) == (0, f"garrison {__version__}")


def test_show_prints_the_item_as_json(garrison: Invoke) -> None:
    result = garrison("catalog", "show", "LLM01:2025", "--json")
    assert result.code == 0
    item: Any = result.json()
    assert (item["id"], item["name"], item["framework"]) == (
        "LLM01:2025",
        "Prompt Injection",
        "OWASP-LLM",
    )


def test_show_accepts_aliases_and_renders_a_panel(garrison: Invoke) -> None:
    result = garrison("catalog", "show", "gv-1.1")
    assert result.code == 0
    assert "GOVERN 1.1" in result.out
    assert "GOVERN 1" in result.out  # its category, as a breadcrumb


def test_unknown_id_is_an_input_error_with_suggestions(garrison: Invoke) -> None:
    result = garrison("catalog", "show", "LLM11")
    assert result.code == 2
    assert "unknown catalog ID 'LLM11'" in result.err
    assert "LLM10:2025" in result.err
    assert result.out == ""


def test_nist_listing_shows_72_subcategories(garrison: Invoke) -> None:
    table = garrison("catalog", "list", "NIST-AI-RMF")
    assert table.code == 0
    assert "72 subcategory item(s)" in table.out
    listed: Any = garrison("catalog", "list", "NIST-AI-RMF", "--json").json()
    assert len(listed) == 72
    assert {row["kind"] for row in listed} == {"subcategory"}


def test_atlas_listing_gives_techniques_with_their_tactics(garrison: Invoke) -> None:
    listed: Any = garrison("catalog", "list", "ATLAS", "--json").json()
    assert len(listed) == 170
    assert {row["kind"] for row in listed} == {"technique", "sub-technique"}
    assert all(row["tactics"] for row in listed)
    injection = next(row for row in listed if row["id"] == "AML.T0051")
    assert "AML.TA0005" in injection["tactics"]


def test_listing_frameworks_and_other_kinds(garrison: Invoke) -> None:
    frameworks: Any = garrison("catalog", "list", "--json").json()
    assert [f["key"] for f in frameworks] == [
        "OWASP-LLM",
        "OWASP-AGENTIC",
        "ATLAS",
        "NIST-AI-RMF",
        "ISO-42001",
        "EU-AI-ACT",
        "SAIF",
        "CSA-AICM",
    ]
    assert frameworks[4]["counts"] == {"control-group": 9, "control": 38}
    mitigations: Any = garrison("catalog", "list", "atlas", "--kind", "mitigation", "--json").json()
    assert len(mitigations) == 35
    table = garrison("catalog", "list")
    assert "Frameworks catalog" in table.out


def test_bad_kind_and_framework_are_usage_errors(garrison: Invoke) -> None:
    bad_kind = garrison("catalog", "list", "ATLAS", "--kind", "spell")
    assert bad_kind.code == 2
    assert "ATLAS has no kind 'spell'" in bad_kind.err
    bad_framework = garrison("catalog", "list", "COBIT")
    assert bad_framework.code == 2
    assert "unknown framework 'COBIT'" in bad_framework.err


def test_search_finds_and_exits_1_on_no_match(garrison: Invoke) -> None:
    found = garrison("catalog", "search", "prompt injection", "--json")
    assert found.code == 0
    ids = [hit["id"] for hit in found.json()]  # type: ignore[attr-defined]
    assert "LLM01:2025" in ids[:3]
    nothing = garrison("catalog", "search", "qwertyuiop")
    assert nothing.code == 1
    scoped: Any = garrison(
        "catalog", "search", "poisoning", "--framework", "OWASP-LLM", "--json"
    ).json()
    assert [hit["id"] for hit in scoped] == ["LLM04:2025"]


def test_markup_in_data_is_not_interpreted(garrison: Invoke) -> None:
    result = garrison("catalog", "search", "[injection]")
    assert result.code == 0
    assert "for '[injection]'" in result.out
