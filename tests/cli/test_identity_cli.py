"""``garrison token``, ``garrison user`` and ``garrison audit`` against a real store."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from garrison.identity import authenticate_token, verify_login
from garrison.store import Store, open_store
from tests.cli.conftest import Invoke


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch, store_url: str) -> str:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    return store_url


def _opened(url: str) -> Store:
    return open_store(url)


def test_token_create_list_revoke(garrison: Invoke, use_store: str) -> None:
    created = garrison("token", "create", "--name", "bot", "--scope", "ingest", "--org", "acme")
    assert created.code == 0, created.err
    secret = created.out.strip()
    assert secret.startswith("gar_") and "only time" in created.err
    listed = garrison("token", "list", "--json")
    assert listed.code == 0
    rows: Any = listed.json()
    (row,) = rows
    assert row["scopes"] == ["ingest"] and row["org"] == "acme" and row["status"] == "active"
    assert secret not in listed.out and "secret" not in row
    store = _opened(use_store)
    try:
        with store.session() as session:
            assert authenticate_token(session, secret) is not None
        assert garrison("token", "revoke", row["prefix"]).code == 0
        with store.session() as session:
            assert authenticate_token(session, secret) is None
    finally:
        store.dispose()
    assert garrison("token", "list", "--json").json()[0]["status"] == "revoked"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "root"], "unknown scope"),
        (["--scope", "read", "--expires", "soon"], "duration"),
    ],
)
def test_token_create_refuses_bad_input_with_exit_2(
    garrison: Invoke, use_store: str, args: list[str], message: str
) -> None:
    result = garrison("token", "create", "--name", "x", *args)
    assert result.code == 2 and message in result.err


def test_revoking_an_unknown_token_exits_2(garrison: Invoke, use_store: str) -> None:
    result = garrison("token", "revoke", "ffffffffffff")
    assert result.code == 2 and "token list" in result.err


def test_user_add_list_passwd_disable(
    garrison: Invoke, use_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARRISON_NEW_PASSWORD", "first long passphrase")
    assert garrison("user", "add", "alice", "--role", "analyst", "--org", "acme").code == 0
    users: Any = garrison("user", "list", "--json").json()
    (user,) = users
    assert (user["username"], user["role"], user["org"], user["disabled"]) == (
        "alice", "analyst", "acme", False,
    )  # fmt: skip
    monkeypatch.setenv("GARRISON_NEW_PASSWORD", "second long passphrase")
    assert garrison("user", "passwd", "alice").code == 0
    store = _opened(use_store)
    try:
        with store.session() as session:
            assert verify_login(session, "alice", "second long passphrase") is not None
        assert garrison("user", "disable", "alice").code == 0
        with store.session() as session:
            assert verify_login(session, "alice", "second long passphrase") is None
    finally:
        store.dispose()
    refused = garrison("user", "add", "bob", "--role", "ingest")
    assert refused.code == 2 and "API tokens" in refused.err


def test_audit_verify_list_export_and_tamper(
    garrison: Invoke, use_store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GARRISON_NEW_PASSWORD", "first long passphrase")
    garrison("user", "add", "alice", "--role", "admin")
    garrison("token", "create", "--name", "bot", "--scope", "read")
    ok = garrison("audit", "verify", "--json")
    assert ok.code == 0 and ok.json()["ok"] is True and ok.json()["entries"] == 2  # type: ignore[index]
    listed: Any = garrison("audit", "list", "--json").json()
    assert [e["action"] for e in listed] == ["token.create", "user.create"]
    out = tmp_path / "trail.jsonl"
    assert garrison("audit", "export", "--out", str(out)).code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[-1]["chain_head"]["seq"] == 2
    csv_out = tmp_path / "trail.csv"
    assert garrison("audit", "export", "--format", "csv", "--out", str(csv_out)).code == 0
    assert csv_out.read_text().startswith("seq,at,actor")

    store = _opened(use_store)
    try:
        with store.engine.begin() as connection:
            if store.backend == "postgresql":
                connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            else:
                connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 1"))
    finally:
        store.dispose()
    broken = garrison("audit", "verify")
    assert broken.code == 1
    assert "broken at entry 1" in broken.err


def test_demo_creates_a_random_demo_login_in_a_private_file(
    garrison: Invoke, use_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = garrison("demo", "--no-serve")
    assert first.code == 0, first.err
    login = tmp_path / ".garrison" / "demo-login.txt"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600
    password = login.read_text().split("password: ", 1)[1].strip()
    assert len(password) >= 16 and password in first.out.replace("\n", "")
    garrison("demo", "--no-serve")
    again = login.read_text().split("password: ", 1)[1].strip()
    assert again != password
    store = _opened(use_store)
    try:
        with store.session() as session:
            assert verify_login(session, "demo", again) is not None
            assert verify_login(session, "demo", password) is None
    finally:
        store.dispose()
