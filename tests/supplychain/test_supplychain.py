"""Supply-chain checks alone: picklescan verdicts, pinning, licences, SBOMs, digests."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from garrison.inventory.discovery.formats import ArtifactFormat
from garrison.supplychain import (
    check_hf_reference,
    detect_licence,
    find_sboms,
    folder_revision,
    scan_artifact,
    scan_models,
    sha256_file,
)
from garrison.supplychain.samples import DEMO_COMMIT, build_sample_models, malicious_pickle


def test_raw_pickle_with_os_system_is_dangerous(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    path.write_bytes(malicious_pickle())
    [finding] = scan_artifact(path, ArtifactFormat.PICKLE)
    assert finding.dangerous and finding.global_name == "os.system"


def test_import_module_is_suspicious_not_clean(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    path.write_bytes(b"\x80\x02cimportlib\nimport_module\nX\x02\x00\x00\x00osq\x00\x85R.")
    [finding] = scan_artifact(path, ArtifactFormat.PICKLE)
    assert finding.kind.value == "suspicious_import"
    assert finding.global_name == "importlib.import_module"


def test_pytorch_zip_member_is_named(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", malicious_pickle())
        archive.writestr("archive/version", "3\n")
    [finding] = scan_artifact(path, ArtifactFormat.PYTORCH_ZIP)
    assert finding.member == "archive/data.pkl" and finding.dangerous


def test_benign_torch_style_pickle_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "ok.pkl"
    path.write_bytes(b"\x80\x02ccollections\nOrderedDict\n)R.")
    assert scan_artifact(path, ArtifactFormat.PICKLE) == []


def test_oversized_pickle_is_not_scanned(tmp_path: Path) -> None:
    path = tmp_path / "big.pkl"
    path.write_bytes(malicious_pickle() + bytes(100))
    [finding] = scan_artifact(path, ArtifactFormat.PICKLE, limit=10)
    assert finding.kind.value == "not_scanned"


def test_hf_reference_pinning() -> None:
    assert check_hf_reference("org/name", "a" * 40, location="app.py:3") is None
    unpinned = check_hf_reference("org/name", None, location="app.py:3")
    assert unpinned is not None and unpinned.kind.value == "unpinned_model"
    branch = check_hf_reference("org/name", "main", location="app.py:3")
    assert branch is not None and "branch or tag" in branch.message


def test_folder_revision_from_git_head(tmp_path: Path) -> None:
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("b" * 40 + "\n")
    revision = folder_revision(tmp_path)
    assert revision is not None and revision.commit == "b" * 40


def test_licence_sources(tmp_path: Path) -> None:
    assert detect_licence(tmp_path, front_matter={"license": "llama2"}).spdx == "LicenseRef-Llama-2"
    assert (
        detect_licence(tmp_path, front_matter={"license": "other", "license_name": "acme"}).spdx
        == "LicenseRef-acme"
    )
    assert detect_licence(tmp_path).spdx == "unknown"
    (tmp_path / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n")
    licence = detect_licence(tmp_path)
    assert (licence.spdx, licence.source) == ("Apache-2.0", "LICENSE")


def test_sbom_needs_the_format_not_just_the_name(tmp_path: Path) -> None:
    (tmp_path / "bom.json").write_text('{"hello": 1}')
    assert find_sboms(tmp_path) == []
    (tmp_path / "model.spdx.json").write_text('{"spdxVersion": "SPDX-2.3"}')
    assert [Path(p).name for p in find_sboms(tmp_path)] == ["model.spdx.json"]


def test_digest_streams_and_respects_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_file(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert sha256_file(path, limit=10) is None


def test_scan_models_over_the_sample_estate(tmp_path: Path) -> None:
    build_sample_models(tmp_path)
    report = scan_models([tmp_path])
    assert [f.global_name for f in report.dangerous] == ["os.system"]
    assert len(report.artifacts) == 4
    assert DEMO_COMMIT  # the cache snapshot is pinned: no unpinned finding for it
    assert all("tiny-gpt" not in f.path for f in report.findings)


def test_malicious_pickle_is_never_loaded() -> None:
    # The generator builds opcodes by hand; reading them back with pickletools shows the payload.
    import pickletools

    ops = [op.name for op, _, _ in pickletools.genops(io.BytesIO(malicious_pickle()))]
    assert ops == ["PROTO", "GLOBAL", "BINUNICODE", "TUPLE1", "REDUCE", "STOP"]


def test_committed_examples_match_the_generator_and_are_clean(tmp_path: Path) -> None:
    committed = Path(__file__).resolve().parents[2] / "examples" / "estate" / "models"
    from garrison.supplychain.samples import write_benign_models

    fresh = write_benign_models(tmp_path)
    for path in fresh.rglob("*"):
        if path.is_file():
            assert (committed / path.relative_to(fresh)).read_bytes() == path.read_bytes()
    report = scan_models([committed])
    assert report.findings == [] and report.errors == []
    assert len(report.artifacts) == 2
