from __future__ import annotations

import math
import socket
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from garrison.core.errors import StoreError
from garrison.store import Store, create_store_engine, open_store
from garrison.store.database import json_text, json_value
from garrison.store.models import OrganizationRow
from garrison.store.schema import current_revision, head_revision, schema_status


def test_open_store_upgrades_an_empty_database_to_head(store_url: str) -> None:
    engine = create_store_engine(store_url)
    assert current_revision(engine) is None
    engine.dispose()

    store = open_store(store_url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type='table'"
                        if store.backend == "sqlite"
                        else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                    )
                )
            }
        assert {"organizations", "catalog_frameworks", "catalog_items", "alembic_version"} <= tables
    finally:
        store.dispose()


def test_open_store_twice_is_a_no_op(store_url: str) -> None:
    open_store(store_url).dispose()
    store = open_store(store_url)
    try:
        assert schema_status(store.engine).up_to_date
    finally:
        store.dispose()


def test_database_from_a_newer_garrison_is_refused_and_left_untouched(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        conn.execute(text("CREATE TABLE future_things (id INTEGER PRIMARY KEY)"))
    with pytest.raises(StoreError, match="newer Garrison") as excinfo:
        open_store(store.url)
    assert excinfo.value.hint is not None
    with store.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
        )
        assert conn.execute(text("SELECT count(*) FROM future_things")).scalar() == 0


def test_timestamps_come_back_timezone_aware_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2026, 3, 1, 14, 30, tzinfo=plus_two)
    with store.session() as session:
        session.add(OrganizationRow(key="acme", name="Acme", description="", created_at=written))
    with store.session() as session:
        row = session.get(OrganizationRow, "acme")
        assert row is not None
        assert row.created_at.tzinfo is not None
        assert row.created_at == written
        assert row.created_at.utcoffset() == timedelta(0)
        assert row.created_at.hour == 12


def test_json_columns_read_back_what_either_serializer_wrote() -> None:
    labels = {"alertname": "RULE-X", "user.id": "u-1", "n": 3, "ok": True, "none": None}
    assert json_value(json_text(labels)) == labels
    assert json_value(json_text(labels).encode()) == labels
    # orjson writes nothing past 64 bits and reads it as a float: the standard library takes over.
    for big in (3212880720941235044352, 2**64, 2**64 - 1, -(2**63) - 1, 10**40 + 1):
        back = json_value(json_text({"big": big}))["big"]
        assert back == big
        assert type(back) is int
    assert json_value('{"x": 1.0000000000000000000001}') == {"x": 1.0}
    # Rows written before orjson can hold the standard library's NaN token.
    assert math.isnan(json_value('{"score": NaN}')["score"])


def _add_naive(store: Store) -> None:
    with store.session() as session:
        session.add(
            OrganizationRow(key="naive", name="N", description="", created_at=datetime(2026, 1, 1))
        )


def _fail_midway(store: Store) -> None:
    with store.session() as session:
        session.add(OrganizationRow(key="gone", name="Gone", description=""))
        session.flush()
        raise RuntimeError("boom")


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        _add_naive(store)
    with store.session() as session:
        assert session.get(OrganizationRow, "naive") is None


def test_session_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _fail_midway(store)
    with store.session() as session:
        assert session.get(OrganizationRow, "gone") is None


def test_unreachable_postgres_gives_a_clear_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        StoreError, match=rf"cannot connect to PostgreSQL at 127.0.0.1:{port}/garrison"
    ):
        open_store(f"postgresql+psycopg://nobody@127.0.0.1:{port}/garrison")


def test_sqlite_parent_folder_is_created(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'g.db'}"
    open_store(url).dispose()
    assert (tmp_path / "deep" / "er" / "g.db").is_file()
