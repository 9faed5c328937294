"""Reading JSON-lines files: long lines, partial lines, truncation and rotation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from garrison.monitoring.ingest import files
from garrison.monitoring.ingest.decode import OVERSIZED, iter_json_lines
from garrison.monitoring.ingest.files import Follower, read_lines


def test_read_lines_cuts_oversized_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 10)
    monkeypatch.setattr(files, "READ_BYTES", 4)
    lines = list(read_lines(io.BytesIO(b"short\n" + b"x" * 50 + b"\nafter\nlast")))
    assert lines == [b"short", OVERSIZED, b"after", b"last"]
    (bad,) = [s for s in iter_json_lines([OVERSIZED]) if s.error]
    assert bad.error is not None
    assert "too long" in bad.error.reason


def test_follower_waits_for_complete_lines_and_survives_truncation_and_rotation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.jsonl"
    follower = Follower(path)
    assert follower.poll() == []  # not there yet
    path.write_bytes(b'{"a": 1}\n{"b"')
    assert follower.poll() == [b'{"a": 1}']
    with path.open("ab") as f:
        f.write(b": 2}\n")
    assert follower.poll() == [b'{"b": 2}']
    path.write_bytes(b"{}\n")  # truncated
    assert follower.poll() == [b"{}"]
    with path.open("ab") as f:
        f.write(b"[1]\n")
    path.rename(tmp_path / "f.jsonl.1")
    assert follower.poll() == [b"[1]"]  # the old file is drained while the new one is missing
    path.write_bytes(b"[2]\n")
    assert follower.poll() == [b"[2]"]
    follower.close()
