from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from garrison.store import open_store
from garrison.store.schema import head_revision
from garrison.tenancy import list_organizations
from tests.cli.conftest import Invoke


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch, store_url: str) -> str:
    monkeypatch.setenv("GARRISON_DATABASE_URL", store_url)
    return store_url


def test_db_current_then_upgrade(garrison: Invoke, use_store: str) -> None:
    behind = garrison("db", "current", "--json")
    assert behind.code == 1
    assert behind.json() == {  # type: ignore[comparison-overlap]
        "database": behind.json()["database"],  # type: ignore[index]
        "current": None,
        "head": head_revision(),
        "up_to_date": False,
    }
    upgraded = garrison("db", "upgrade")
    assert upgraded.code == 0
    assert f"to {head_revision()}" in upgraded.out
    assert garrison("db", "current").code == 0
    assert "already at revision" in garrison("db", "upgrade").out


def test_database_from_a_newer_garrison_is_refused(garrison: Invoke, use_store: str) -> None:
    open_store(use_store).dispose()
    engine = create_engine(use_store.replace("postgresql+psycopg", "postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    for args in (("db", "current"), ("db", "upgrade"), ("demo", "--no-serve")):
        result = garrison(*args)
        assert result.code == 2, args
        assert "newer Garrison" in result.err


def test_demo_loads_the_organization_and_catalog_idempotently(
    garrison: Invoke, use_store: str
) -> None:
    first = garrison("demo", "--no-serve")
    assert first.code == 0, first.err
    assert "Northwind Financial (created)" in first.out
    assert "8 frameworks, 584 items (8 written)" in first.out
    assert "1 dangerous" in first.out  # the malicious pickle the demo writes into its model folder
    for source in ("aws", "azure", "gcp", "files", "code"):
        assert f"discover {source}" in first.out
    second = garrison("demo", "--no-serve")
    assert second.code == 0
    assert "Northwind Financial (unchanged)" in second.out
    assert "(0 written)" in second.out
    assert " created" not in second.out.replace("0 created", "")
    store = open_store(use_store)
    try:
        with store.session() as session:
            assert [o.key for o in list_organizations(session)] == ["northwind"]
    finally:
        store.dispose()


def test_demo_uses_the_default_sqlite_file_under_dot_garrison(garrison: Invoke) -> None:
    result = garrison("demo", "--no-serve")
    assert result.code == 0, result.err
    assert Path(".garrison/garrison.db").is_file()


def test_content_dir_overrides_the_demo_organization(
    garrison: Invoke, use_store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "organization.yaml").write_text("key: contoso\nname: Contoso Bank\n")
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(tmp_path))
    result = garrison("demo", "--no-serve")
    assert result.code == 0, result.err
    assert "Contoso Bank (created)" in result.out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key: contoso\nname: [unclosed\n", "organization.yaml:3: YAML syntax error"),
        (
            "key: contoso\nname: Contoso\nmotto: Banking\n",
            "organization.yaml:3: motto: unknown field",
        ),
        (
            "key: Not A Key\nname: Contoso\n",
            "organization.yaml:1: key: String should match pattern",
        ),
    ],
)
def test_broken_content_file_is_one_clear_error_and_stores_nothing(
    garrison: Invoke,
    use_store: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    text: str,
    expected: str,
) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "organization.yaml").write_text(text)
    monkeypatch.setenv("GARRISON_CONTENT_DIR", str(tmp_path))
    result = garrison("demo", "--no-serve")
    assert result.code == 2
    assert expected in result.err
    assert "Traceback" not in result.err
    store = open_store(use_store)
    try:
        with store.session() as session:
            assert list_organizations(session) == []
    finally:
        store.dispose()


def test_config_show_reports_values_and_sources(
    garrison: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARRISON_PORT", "9123")
    rows: Any = garrison("config", "show", "--json").json()
    by_name = {row["name"]: row for row in rows}
    assert by_name["port"] == {
        "name": "port",
        "env_var": "GARRISON_PORT",
        "value": "9123",
        "source": "environment",
    }
    assert by_name["database_url"]["source"] == "default"
    assert "GARRISON_DATABASE_URL" in garrison("config", "show").out


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GARRISON_")}
    env.update(extra)
    return env


def test_malformed_database_url_exits_2_without_traceback(garrison_process: Invoke) -> None:
    result = garrison_process(
        "db", "current", env=_child_env(GARRISON_DATABASE_URL="mysql://x@y/z")
    )
    assert result.code == 2
    assert "GARRISON_DATABASE_URL is invalid: database 'mysql' is not supported" in result.err
    assert "Traceback" not in result.err


def test_unreachable_postgres_exits_2_without_traceback(garrison_process: Invoke) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://nobody@127.0.0.1:{port}/garrison"
    result = garrison_process("demo", "--no-serve", env=_child_env(GARRISON_DATABASE_URL=url))
    assert result.code == 2
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}/garrison" in result.err
    assert "hint:" in result.err
    assert "Traceback" not in result.err


def test_usage_errors_exit_2(garrison_process: Invoke) -> None:
    result = garrison_process("catalog", "show", env=_child_env())
    assert result.code == 2
    assert "Missing argument" in result.err
    assert garrison_process("no-such-command", env=_child_env()).code == 2


def test_help_teaches_with_examples(garrison_process: Invoke) -> None:
    result = garrison_process("--help", env=_child_env())
    assert result.code == 0
    assert "garrison catalog show LLM01:2025" in result.out
    assert "Exit codes" in result.out
    catalog_help = garrison_process("catalog", "--help", env=_child_env())
    assert "garrison catalog list NIST-AI-RMF" in catalog_help.out
