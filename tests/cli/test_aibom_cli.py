"""``garrison discover code`` and ``garrison aibom export|import`` through the CLI, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.inventory.aibom import validate_bom
from tests.cli.conftest import Invoke

REPO = Path(__file__).resolve().parents[2] / "examples" / "estate" / "repo"


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    return store_url


def test_discover_code_then_export_and_import(
    garrison: Invoke, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry = garrison("discover", "code", str(REPO), "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert {a["name"] for a in dry.json()["assets"]} >= {"northwind-rag", "northwind-chat"}  # type: ignore[index]

    found = garrison("discover", "code", str(REPO), "--json")
    assert found.code == 0, found.err
    assert found.json()["counts"]["created"] == 17  # type: ignore[index]

    out = tmp_path / "aibom.json"
    exported = garrison("aibom", "export", "--output", str(out))
    assert exported.code == 0, exported.err
    text = out.read_text()
    validate_bom(text, "1.6")
    assert not (tmp_path / "aibom.json.partial").exists()

    stdout = garrison("aibom", "export", "--org", "default")
    assert stdout.code == 0
    assert json.loads(stdout.out)["specVersion"] == "1.6"

    monkeypatch.setenv("GARRISON_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    imported = garrison("aibom", "import", str(out), "--json")
    assert imported.code == 0, imported.err
    assert imported.json()["imported"] == 17  # type: ignore[index]


def test_discover_code_missing_path_exits_2(garrison: Invoke, database: str) -> None:
    result = garrison("discover", "code", "/no/such/repository")
    assert result.code == 2
    assert "no such path" in result.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}', "SPDX"),
        (
            '{"runs": [{"tool": {"driver": {"name": "semgrep"}}}], "version": "2.1.0"}',
            "not a CycloneDX BOM",
        ),
        ('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>', "XML"),
    ],
)
def test_import_wrong_format_exits_2(
    garrison: Invoke, database: str, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    result = garrison("aibom", "import", str(path))
    assert result.code == 2
    assert message in result.err
