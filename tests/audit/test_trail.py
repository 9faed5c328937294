"""The audit trail on both backends: chaining, append-only triggers, tamper detection, export,
and appends from many connections at once."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from garrison import audit
from garrison.audit.trail import entry_hash
from garrison.core.timeutil import utcnow
from garrison.store import Store
from garrison.store.models.audit import GENESIS_HASH


def _append(store: Store, count: int, actor: str = "user:alice") -> None:
    for n in range(count):
        with store.session() as session:
            audit.record(
                session, actor, "asset.edit", "asset", f"a-{n}",
                {"owner_team": "ml", "n": n}, {"owner_team": "fraud", "n": n}, org="acme",
            )  # fmt: skip


def test_entries_chain_from_genesis_and_verify(store: Store) -> None:
    _append(store, 5)
    with store.session() as session:
        found = audit.entries(session)
        result = audit.verify(session)
    assert [e.seq for e in found] == [1, 2, 3, 4, 5]
    assert found[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(found))
    assert found[2].before == {"owner_team": "ml", "n": 2}
    assert found[2].after == {"owner_team": "fraud", "n": 2}
    assert result.ok and result.entries == 5
    assert (result.head.seq, result.head.hash) == (5, found[-1].hash)


def test_an_empty_trail_verifies(store: Store) -> None:
    with store.session() as session:
        result = audit.verify(session)
    assert result.ok and result.entries == 0 and result.head.hash == GENESIS_HASH


def test_a_rolled_back_change_leaves_no_entry(store: Store) -> None:
    _append(store, 1)

    def failing_change() -> None:
        with store.session() as session:
            audit.record(session, "user:bob", "asset.edit", "asset", "x", None, {"a": 1})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with store.session() as session:
        assert [e.actor for e in audit.entries(session)] == ["user:alice"]
        assert audit.verify(session).ok


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_update_and_delete(store: Store, statement: str) -> None:
    _append(store, 2)
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.execute(text(statement))
    with store.session() as session:
        assert audit.verify(session).entries == 2


def _bypass_triggers(store: Store, session_sql: list[str]) -> None:
    """Act as an attacker with database access: switch the triggers off, then edit."""
    with store.engine.begin() as connection:
        if store.backend == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        for sql in session_sql:
            connection.execute(text(sql))


def test_verify_detects_an_edited_row(store: Store) -> None:
    _append(store, 6)
    _bypass_triggers(
        store, ['UPDATE audit_log SET after = \'{"owner_team":"nobody"}\' WHERE seq = 3']
    )
    with store.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_break is not None
    assert result.first_break.seq == 3
    assert "edited" in result.first_break.reason


def test_verify_detects_a_rehashed_row_by_the_broken_link(store: Store) -> None:
    """An attacker who recomputes the edited row's hash still breaks the next entry's link."""
    _append(store, 4)
    with store.session() as session:
        row = audit.entries(session)[1]
    forged = entry_hash(
        row.prev_hash, seq=row.seq, at=row.at, actor="user:mallory", action=row.action,
        target_type=row.target_type, target_id=row.target_id, org=row.org,
        before=audit.canonical_json(row.before), after=audit.canonical_json(row.after),
    )  # fmt: skip
    _bypass_triggers(
        store, [f"UPDATE audit_log SET actor = 'user:mallory', hash = '{forged}' WHERE seq = 2"]
    )
    with store.session() as session:
        result = audit.verify(session)
    assert result.first_break is not None and result.first_break.seq == 3


def test_verify_detects_removed_entries(store: Store) -> None:
    _append(store, 4)
    _bypass_triggers(store, ["DELETE FROM audit_log WHERE seq = 4"])
    with store.session() as session:
        result = audit.verify(session)
    assert result.first_break is not None
    assert "removed" in result.first_break.reason
    with store.engine.begin() as connection:  # the triggers are already off
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with store.session() as session:
        gap = audit.verify(session).first_break
    assert gap is not None and gap.seq == 2 and "missing" in gap.reason


def test_export_jsonl_can_be_re_verified_from_the_file_alone(store: Store) -> None:
    _append(store, 3)
    with store.session() as session:
        exported = audit.export(session, "jsonl")
    lines = [json.loads(line) for line in exported.splitlines()]
    *entries, head = lines
    prev = GENESIS_HASH
    from datetime import datetime

    for entry in entries:
        recomputed = entry_hash(
            prev, seq=entry["seq"], at=datetime.fromisoformat(entry["at"]), actor=entry["actor"],
            action=entry["action"], target_type=entry["target_type"],
            target_id=entry["target_id"], org=entry["org"],
            before=audit.canonical_json(entry["before"]),
            after=audit.canonical_json(entry["after"]),
        )  # fmt: skip
        assert recomputed == entry["hash"]
        prev = entry["hash"]
    assert head == {"chain_head": {"seq": 3, "hash": prev}}


def test_export_csv_with_a_time_window_and_formula_cells_defused(store: Store) -> None:
    with store.session() as session:
        audit.record(session, "user:alice", "note", "asset", "=HYPERLINK(1)", None, None)
    _append(store, 2)
    now = utcnow()
    with store.session() as session:
        everything = audit.export(session, "csv")
        nothing = audit.export(session, "csv", since=now + timedelta(hours=1))
    rows = list(csv.reader(io.StringIO(everything)))
    assert rows[0][:3] == ["seq", "at", "actor"]
    assert rows[1][5] == "'=HYPERLINK(1)"
    assert len(rows) == 1 + 3 + 1 and rows[-1][0].startswith("# chain_head seq=3")
    assert len(list(csv.reader(io.StringIO(nothing)))) == 2


def test_concurrent_appends_keep_one_unbroken_chain(store: Store) -> None:
    """Several connections append at once; the head lock makes every entry chain onto the
    previous one (without it two writers would share a predecessor or a sequence number)."""
    writers, each = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(index: int) -> None:
        try:
            start.wait()
            _append(store, each, actor=f"user:w{index}")
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.session() as session:
        result = audit.verify(session)
        found = audit.entries(session)
    assert result.ok, result.first_break
    assert result.entries == writers * each
    assert len({e.actor for e in found}) == writers
