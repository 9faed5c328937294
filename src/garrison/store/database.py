"""Engines and sessions for the one store, on SQLite or PostgreSQL.

``open_store`` is how the CLI and the server get a ready database: it connects (with a clear error
when it cannot), brings an empty or older schema up to date, and refuses a schema written by a newer
Garrison rather than touching it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from garrison.core.errors import StoreError

POSTGRES_CONNECT_TIMEOUT_S = 5


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the dashboard read while ingest writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON columns' serializer: orjson (9-12x the standard library's speed on an alert's ID
    list and labels; the live alert path writes several such columns per firing), falling back
    to ``json.dumps`` for what orjson refuses (integers past 64 bits, non-string keys) so that
    nothing storable before is refused now."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_LONG_NUMBER = "0" * 19
"""19 digits in a row: an integer that may lie outside 64 bits, where orjson reads a float."""


def json_value(stored: str | bytes) -> Any:
    """JSON columns' deserializer: orjson (an alert flush reads the labels of every open alert),
    except where it would read something else than the standard library.

    orjson turns an integer outside 64 bits into a float (schemathesis stored a parameter count
    of 3212880720941235044352 and read back 3.212880720941235e21), so text with a long digit run
    goes to ``json.loads``; so does what orjson refuses, such as the ``NaN`` tokens ``json.dumps``
    wrote before ``json_text`` used orjson."""
    text = stored.decode() if isinstance(stored, bytes) else stored
    if _LONG_NUMBER in text.translate(_DIGITS_TO_ZERO):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings Garrison relies on for each backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=json_text, json_deserializer=json_value)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        json_serializer=json_text,
        json_deserializer=json_value,
        pool_pre_ping=True,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def describe_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def check_connection(engine: Engine) -> None:
    """Connect once, turning a driver error into a StoreError that says where and why."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(
            f"cannot connect to {describe_url(engine.url.render_as_string())}: {reason}",
            hint="check GARRISON_DATABASE_URL, and that the server is running and reachable",
        ) from None


class Store:
    """One database: an engine and a session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Connect to ``url`` and make sure its schema is the one this Garrison expects."""
    from garrison.store.schema import ensure_schema  # schema imports alembic: only when needed

    engine = create_store_engine(url)
    check_connection(engine)
    ensure_schema(engine, upgrade=upgrade)
    return Store(engine)
