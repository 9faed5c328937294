"""``garrison monitor ingest`` and ``garrison monitor events``."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.cli.conftest import Invoke
from tests.monitoring.conftest import EXAMPLES, sample_events
from tests.monitoring.support import POLICY, scan


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("garrison.cli.monitor.scanner_for", lambda _content_dir: scan)
    monkeypatch.setenv("GARRISON_CONTENT_HMAC_KEY", POLICY.hmac_key.decode())


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GARRISON_DATABASE_URL", url)
    return url


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def test_ingest_the_sample_twice_stores_it_once(
    garrison: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    first = garrison("monitor", "ingest", str(EXAMPLES), "--json")
    assert first.code == 0, first.err
    report: Any = first.json()
    assert report["accepted"] == len(sample_events())
    second = garrison("monitor", "ingest", str(EXAMPLES))
    assert second.code == 0
    assert f"0 accepted, {len(sample_events())} already stored" in second.out
    listed: Any = garrison("monitor", "events", "--user", "u-2001", "--json").json()
    assert {e["garrison.event.type"] for e in listed} == {
        "guardrail.evaluation",
        "output_filter.action",
        "tool.call",
        "security.signal",
    }
    blocked: Any = garrison("monitor", "events", "--category", "guardrail_block", "--json").json()
    assert len(blocked) == 1
    table = garrison("monitor", "events", "--session", "s-77")
    assert table.code == 0
    assert "[EMAIL]" in table.out


def test_bad_lines_are_reported_and_exit_1(garrison: Invoke, db: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = sample_events()[:2]
    path.write_bytes(
        _jsonl(good[:1])
        + b"{broken\n"
        + b'{"garrison.event.type": "llm.request", "timestamp": "2026-01-01T00:00:00"}\n'
        + _jsonl(good[1:])
        + b'{"garrison.event.type": "usage", "user.id": "\xff\xfe"}\n'
    )
    result = garrison("monitor", "ingest", str(path))
    assert result.code == 1
    assert "2 accepted" in result.out
    assert "not valid JSON" in result.out
    assert "timestamp has no timezone" in result.out
    assert "UTF-8" in result.out
    report: Any = garrison("monitor", "ingest", str(path), "--json").json()
    assert [(i["line"], i["status"]) for i in report["items"]] == [
        (1, "duplicate"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "duplicate"),
        (5, "rejected"),
    ]


def test_unreadable_input_exits_2(garrison: Invoke, db: str, tmp_path: Path) -> None:
    missing = garrison("monitor", "ingest", str(tmp_path / "nope.jsonl"))
    assert missing.code == 2
    assert "cannot read" in missing.err
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert garrison("monitor", "ingest", str(binary)).code == 2
    prose = tmp_path / "notes.txt"
    prose.write_text("just some\nplain text\n")
    result = garrison("monitor", "ingest", str(prose))
    assert result.code == 2
    assert "not JSON lines" in result.err


def test_ingest_from_stdin(garrison: Invoke, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(EXAMPLES.read_bytes()))
    monkeypatch.setattr("sys.stdin", stdin)
    result = garrison("monitor", "ingest", "-", "--json")
    assert result.code == 0, result.err
    report: Any = result.json()
    assert report["accepted"] == len(sample_events())


def test_follow_reads_growth_truncation_and_rotation(
    garrison: Invoke, db: str, tmp_path: Path
) -> None:
    path = tmp_path / "live.jsonl"
    events = [
        {
            "garrison.event.type": "usage",
            "timestamp": f"2026-11-20T10:00:0{i}Z",
            "user.id": f"u-{i}",
        }
        for i in range(6)
    ]

    def writer() -> None:
        time.sleep(0.3)
        with path.open("ab") as f:
            f.write(_jsonl(events[0:1]))
            f.write(orjson.dumps(events[1])[:10])  # half a line: must wait for the rest
            f.flush()
            time.sleep(0.4)
            f.write(orjson.dumps(events[1])[10:] + b"\n")
        time.sleep(0.4)
        path.write_bytes(_jsonl(events[2:3]))  # truncated and rewritten
        time.sleep(0.4)
        path.rename(tmp_path / "live.jsonl.1")  # rotated away...
        path.write_bytes(_jsonl(events[3:5]))  # ...and a new file in its place
        time.sleep(0.4)
        with path.open("ab") as f:
            f.write(_jsonl(events[5:6]))

    thread = threading.Thread(target=writer)
    thread.start()
    result = garrison(
        "monitor",
        "ingest",
        str(path),
        "--follow",
        "--max-seconds",
        "3",
        "--interval",
        "0.05",
        "--json",
    )
    thread.join()
    assert result.code == 0, result.err
    report: Any = result.json()
    assert report["accepted"] == 6
    assert report["rejected"] == 0
    listed: Any = garrison("monitor", "events", "--json").json()
    users = {e["user.id"] for e in listed}
    assert users == {f"u-{i}" for i in range(6)}


def test_since_filters_and_bad_since(garrison: Invoke, db: str) -> None:
    garrison("monitor", "ingest", str(EXAMPLES))
    recent: Any = garrison("monitor", "events", "--since", "1h", "--json").json()
    assert recent == []  # the sample is from 2026-11-20
    old: Any = garrison("monitor", "events", "--since", "2026-11-20T09:19:00Z", "--json").json()
    assert len(old) == 4
    naive = garrison("monitor", "events", "--since", "2026-11-20T09:19:00")
    assert naive.code == 2
    assert "no timezone" in naive.err


def test_the_real_command_in_a_child_process(garrison_process: Invoke, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GARRISON_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "GARRISON_CONTENT_HMAC_KEY": POLICY.hmac_key.decode(),
    }
    result = garrison_process("monitor", "ingest", str(EXAMPLES), env=env)
    assert result.code == 0, result.err
    assert f"{len(sample_events())} accepted" in result.out
