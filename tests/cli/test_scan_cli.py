"""`garrison scan models` and `garrison discover files` from the command line."""

from __future__ import annotations

from pathlib import Path

from garrison.supplychain.samples import build_sample_models, write_benign_models
from tests.cli.conftest import Invoke


def test_scan_models_exit_codes(garrison: Invoke, tmp_path: Path) -> None:
    clean = write_benign_models(tmp_path / "clean")
    result = garrison("scan", "models", str(clean))
    assert result.code == 0, result.err
    bad = build_sample_models(tmp_path / "bad")
    result = garrison("scan", "models", str(bad), "--json")
    assert result.code == 1
    data = result.json()
    assert isinstance(data, dict) and data["dangerous"] == 1
    assert data["findings"][0]["global"] == "os.system"
    result = garrison("scan", "models", str(tmp_path / "missing"))
    assert result.code == 2 and "no such file" in result.err
    result = garrison("scan", "models", str(clean), "--max-file-size", "lots")
    assert result.code == 2


def test_scan_models_table(garrison: Invoke, tmp_path: Path) -> None:
    result = garrison("scan", "models", str(build_sample_models(tmp_path)))
    assert result.code == 1
    assert "os.system" in result.out and "unsafe_import" in result.out


def test_discover_files_registers(
    garrison: Invoke, tmp_path: Path, store_url: str, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    estate = build_sample_models(tmp_path / "estate")
    dry = garrison("discover", "files", str(estate), "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json()["found"] == 8  # type: ignore[index]
    result = garrison("discover", "files", str(estate), "--json")
    assert result.code == 0, result.err
    assert result.json()["counts"]["created"] == 8  # type: ignore[index]
    from garrison.cli import state
    from garrison.supplychain import list_findings

    with state.store().session() as session:
        assert [f.finding.global_name for f in list_findings(session) if f.finding.dangerous] == [
            "os.system"
        ]
