"""Files discovery end to end: formats by header, folders, bad input, registration on both stores."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest

from garrison.inventory import apply_discovery, get_asset_detail, resolve_asset, search
from garrison.inventory.discovery import formats
from garrison.inventory.discovery.files import DiscoveryInputError, discover_files
from garrison.inventory.discovery.formats import ArtifactFormat, sniff
from garrison.supplychain import list_findings
from garrison.supplychain.records import attach_findings
from garrison.supplychain.samples import (
    DEMO_COMMIT,
    MALICIOUS_PATH,
    build_sample_models,
    gguf_stub,
    malicious_pickle,
    safetensors_bytes,
)


def _sniff(data: bytes) -> formats.Sniffed | None:
    return sniff(io.BytesIO(data), len(data))


def _onnx_bytes() -> bytes:
    producer = b"pytorch"
    return b"\x08\x08" + b"\x12" + bytes([len(producer)]) + producer + b"\x3a\x02\x0a\x00"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(descr: str) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2, 3), }}".encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(48)


# --- formats by header ----------------------------------------------------------------------------


def test_safetensors_header_gives_tensors_dtypes_and_parameters() -> None:
    found = _sniff(safetensors_bytes({"a": ("F32", [4, 8]), "b": ("F16", [3])}, {"format": "pt"}))
    assert found is not None
    assert found.format is ArtifactFormat.SAFETENSORS
    assert found.parameter_count == 35
    assert found.metadata["tensors"] == 2
    assert found.metadata["dtypes"] == ["F16", "F32"]
    assert found.metadata["metadata"] == {"format": "pt"}


def test_gguf_header_reads_general_keys() -> None:
    found = _sniff(gguf_stub({"general.architecture": "llama", "general.license": "mit"}))
    assert found is not None
    assert found.format is ArtifactFormat.GGUF
    assert found.metadata["architecture"] == "llama"
    assert found.metadata["license"] == "mit"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_onnx_bytes(), ArtifactFormat.ONNX),
        (malicious_pickle(), ArtifactFormat.PICKLE),
        (
            _zip({"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3"}),
            ArtifactFormat.PYTORCH_ZIP,
        ),
        (
            _zip({"config.json": b"{}", "model.weights.h5": b"", "metadata.json": b"{}"}),
            ArtifactFormat.KERAS_V3,
        ),
        (_zip({"a.npy": _npy("<f4")}), ArtifactFormat.NUMPY_NPZ),
        (_npy("<f4"), ArtifactFormat.NUMPY),
        (
            b"\x89HDF\r\n\x1a\n" + b"\x00" * 100 + b"keras_version" + b"\x00" * 50,
            ArtifactFormat.KERAS_H5,
        ),
        (b"\x1c\x00\x00\x00TFL3" + bytes(64), ArtifactFormat.TFLITE),
        (b"PAR1" + bytes(32) + b"PAR1", ArtifactFormat.PARQUET),
        (
            b"IxF2" + struct.pack("<iqqq?i", 384, 10, 1 << 20, 1 << 20, True, 1),
            ArtifactFormat.FAISS,
        ),
    ],
)
def test_formats_are_recognised_by_content(data: bytes, expected: ArtifactFormat) -> None:
    found = _sniff(data)
    assert found is not None
    assert found.format is expected


def test_text_and_plain_hdf5_and_savedmodel_proto_are_not_models() -> None:
    assert _sniff(b"import torch\nprint('hello world')\n") is None
    assert _sniff(b"\x89HDF\r\n\x1a\n" + bytes(200)) is None
    # saved_model.pb: field 1 = 1 (schema version), then a MetaGraphDef message
    assert _sniff(b"\x08\x01\x12\x40" + bytes(64)) is None


def test_numpy_object_arrays_are_flagged() -> None:
    found = _sniff(_npy("|O"))
    assert found is not None
    assert found.object_arrays


def test_corrupt_safetensors_header_raises_corrupt() -> None:
    bad = struct.pack("<Q", 20) + b"{not json at all!!}" + b"x"
    with pytest.raises(formats.CorruptFile):
        _sniff(bad + bytes(10))


# --- the sample estate, registered ----------------------------------------------------------------


def test_sample_estate_is_discovered_with_digests_licences_sboms_and_edges(tmp_path: Path) -> None:
    build_sample_models(tmp_path)
    found = discover_files([tmp_path])
    result = found.result
    assert result.complete
    assert result.errors == []
    by_name = {a.spec.name: a for a in result.assets}
    bert = by_name["garrison-demo/tiny-bert"].spec
    assert bert.license_type == "Apache-2.0"
    assert bert.sbom_available
    assert bert.model_version == DEMO_COMMIT  # pinned through huggingface_hub's download metadata
    assert bert.parameter_count == 32
    weights = by_name["garrison-demo/tiny-bert/model.safetensors"]
    assert weights.spec.source_id is not None and weights.spec.source_id.startswith("sha256:")
    assert "format:safetensors" in weights.spec.tags
    cached = by_name["garrison-demo/tiny-gpt"].spec
    assert cached.model_version == DEMO_COMMIT
    assert cached.source_url == "https://huggingface.co/garrison-demo/tiny-gpt"
    dataset = by_name["support-tickets"].spec
    assert dataset.license_type == "CC-BY-4.0"
    assert "1 jsonl" in dataset.description and "1 csv" in dataset.description
    gguf = by_name["tiny-llama-stub"].spec
    assert gguf.license_type == "MIT"
    assert gguf.model_name == "llama"
    edges = {(e.asset_key, e.target) for e in result.edges}
    assert (by_name["garrison-demo/tiny-bert"].handle, weights.handle) in edges
    findings = found.all_findings()
    dangerous = [f for f in findings if f.dangerous]
    assert len(dangerous) == 1
    assert dangerous[0].global_name == "os.system"
    assert dangerous[0].path.endswith(str(MALICIOUS_PATH))
    assert {f.kind.value for f in findings} == {"unsafe_import", "unpinned_model"}


def test_registered_into_the_store_with_findings(store: object, tmp_path: Path) -> None:
    build_sample_models(tmp_path)
    found = discover_files([tmp_path])
    with store.session() as session:  # type: ignore[attr-defined]
        run = apply_discovery(session, found.result)
        attach_findings(session, found.findings, all_source_ids=found.source_ids)
    assert run.complete
    with store.session() as session:  # type: ignore[attr-defined]
        assets = search(session)
        assert len(assets) == 8
        malicious = next(a for a in assets if a.name == "community-finetune/pytorch_model.bin")
        stored = list_findings(session, asset_id=malicious.id)
        assert [s.finding.global_name for s in stored] == ["os.system"]
        assert stored[0].finding.dangerous
        bert = resolve_asset(session, "garrison-demo/tiny-bert")
        assert bert.sbom_available and bert.license_type == "Apache-2.0"
        detail = get_asset_detail(session, bert.id)
        assert len(detail.upstream) == 1
        assert any(
            "sha256" in e.detail
            for e in get_asset_detail(session, detail.upstream[0].target_id or "").evidence
        )
    # The malicious file is replaced by a clean one. Its digest is part of its identity, so the
    # clean file is a new asset without findings and the old one is marked stale, finding kept.
    (tmp_path / MALICIOUS_PATH).write_bytes(b"\x80\x02}q\x00.")
    again = discover_files([tmp_path])
    with store.session() as session:  # type: ignore[attr-defined]
        apply_discovery(session, again.result)
        attach_findings(session, again.findings, all_source_ids=again.source_ids)
        stale = {a.id for a in search(session) if a.stale}
        assert stale == {malicious.id}
        open_dangerous = [s for s in list_findings(session) if s.finding.dangerous]
        assert {s.asset_id for s in open_dangerous} == stale


# --- bad input ------------------------------------------------------------------------------------


def test_corrupt_model_file_is_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.safetensors").write_bytes(struct.pack("<Q", 30) + b'{"a": oops' + bytes(40))
    (tmp_path / "garbage.gguf").write_bytes(b"this is not a model at all, just text")
    (tmp_path / "ok.gguf").write_bytes(gguf_stub({"general.name": "ok"}))
    result = discover_files([tmp_path]).result
    assert result.complete
    assert [a.spec.name for a in result.assets] == ["ok"]
    failed = {Path(e.target).name: e for e in result.errors}
    assert set(failed) == {"broken.safetensors", "garbage.gguf"}
    assert "corrupt" in failed["broken.safetensors"].message


def test_ten_gigabyte_sparse_file_is_identified_without_hashing(tmp_path: Path) -> None:
    big = tmp_path / "huge.safetensors"
    header = safetensors_bytes({"w": ("U8", [10 * 1024**3 - 200])}, {})
    with big.open("wb") as handle:
        handle.write(
            header[: len(header) - (10 * 1024**3 - 200)] if len(header) < 1000 else header[:100]
        )
    # write only the header, then extend the file sparsely to its promised length
    head_len = 8 + struct.unpack("<Q", header[:8])[0]
    big.write_bytes(header[:head_len])
    os.truncate(big, head_len + 10 * 1024**3 - 200)
    found = discover_files([tmp_path], max_file_size=1024**3)
    [asset] = found.result.assets
    assert asset.spec.source_id == f"path:{big}"
    assert "over --max-file-size" in asset.evidence[0].detail
    assert found.result.complete


def test_symlink_loop_is_reported_and_the_walk_completes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "m.gguf").write_bytes(gguf_stub({"general.name": "m"}))
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink("self", tmp_path / "self")
    result = discover_files([tmp_path], follow_symlinks=True).result
    assert [a.spec.name for a in result.assets] == ["m"]
    messages = " ".join(e.message for e in result.errors)
    assert "symlink loop" in messages
    assert result.complete


def test_unreadable_folder_is_denied_and_the_run_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "m.gguf").write_bytes(gguf_stub({}))
    (tmp_path / "open.gguf").write_bytes(gguf_stub({"general.name": "visible"}))
    locked.chmod(0)
    # Tests run as root here, where chmod 000 does not stop reads: also refuse the listing.
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    try:
        result = discover_files([tmp_path]).result
    finally:
        locked.chmod(0o755)
    assert [a.spec.name for a in result.assets] == ["visible"]
    [failure] = result.errors
    assert failure.denied and failure.code == "EACCES" and failure.target == str(locked)
    assert not result.complete


def test_pickle_named_safetensors_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(malicious_pickle())
    found = discover_files([tmp_path])
    [asset] = found.result.assets
    assert "format:pickle" in asset.spec.tags
    kinds = {f.kind.value: f for f in found.all_findings()}
    assert kinds["format_mismatch"].severity.value == "high"
    assert kinds["unsafe_import"].global_name == "os.system"


def test_fifo_and_device_are_skipped_without_opening(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.bin")
    os.symlink("/dev/null", tmp_path / "null.pt")
    (tmp_path / "m.gguf").write_bytes(gguf_stub({"general.name": "m"}))
    result = discover_files([tmp_path], follow_symlinks=True).result
    assert [a.spec.name for a in result.assets] == ["m"]
    assert {Path(e.target).name for e in result.errors} == {"pipe.bin", "null.pt"}
    assert all("not a regular file" in e.message for e in result.errors)
    assert result.complete


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryInputError):
        discover_files([tmp_path / "nope"])


def test_vector_stores_are_recognised(tmp_path: Path) -> None:
    import sqlite3

    chroma = tmp_path / "chroma"
    chroma.mkdir()
    with sqlite3.connect(chroma / "chroma.sqlite3") as db:
        db.execute("CREATE TABLE collections (id TEXT, name TEXT, dimension INTEGER)")
        db.execute("INSERT INTO collections VALUES ('1', 'tickets', 384)")
    (chroma / "chroma.sqlite3").chmod(0o644)
    lance = tmp_path / "lance" / "docs.lance"
    (lance / "_versions").mkdir(parents=True)
    (lance / "data").mkdir()
    (tmp_path / "index.faiss").write_bytes(
        b"IxF2" + struct.pack("<iqqq?i", 384, 10, 1 << 20, 1 << 20, True, 1)
    )
    result = discover_files([tmp_path]).result
    stores = {a.spec.tags[0]: a.spec for a in result.assets}
    assert stores["format:chroma"].vector_namespaces[0].name == "tickets"
    assert stores["format:chroma"].vector_namespaces[0].dimension == 384
    assert stores["format:lancedb"].vector_namespaces[0].name == "docs"
    assert stores["format:faiss"].vector_namespaces[0].documents == 10


def test_onnx_and_savedmodel_and_keras_lambda(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(_onnx_bytes())
    saved = tmp_path / "saved"
    (saved / "variables").mkdir(parents=True)
    (saved / "saved_model.pb").write_bytes(b"\x08\x01\x12\x00")
    config = json.dumps({"config": {"layers": [{"class_name": "Lambda"}]}}).replace('":"', '": "')
    (tmp_path / "m.keras").write_bytes(
        _zip({"config.json": config.encode(), "model.weights.h5": b""})
    )
    found = discover_files([tmp_path])
    tags = sorted(a.spec.tags[0] for a in found.result.assets)
    assert tags == ["format:keras_v3", "format:onnx", "format:savedmodel"]
    assert [f.kind.value for f in found.all_findings()] == ["code_in_model"]
