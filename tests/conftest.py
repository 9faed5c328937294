"""Fixtures shared by every test.

Store tests take ``store_url`` (or ``store``): each runs twice, once on a fresh SQLite file and
once on a fresh database of a real PostgreSQL server started for this run. No two tests share a
database. The run's summary says how many store tests passed on each backend.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

from garrison.cli import state
from garrison.store import Store, open_store
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres

BACKENDS = ("sqlite", "postgresql")
_outcomes: Counter[tuple[str, str]] = Counter()
_backend_of: dict[str, str] = {}
_postgres_description: list[str] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for store tests: {exc}", pytrace=False)
    _postgres_description.append(server.description)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a new, empty database on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'garrison.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.fresh_database() as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store with the current schema, on each backend in turn."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No test reads the developer's GARRISON_* settings or leaves CLI state behind."""
    for name in list(os.environ):
        if name.startswith("GARRISON_") and not name.startswith("GARRISON_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    state.reset()
    yield
    state.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "store_url" in callspec.params:
            item.add_marker(pytest.mark.store)
            _backend_of[item.nodeid] = callspec.params["store_url"]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = _backend_of.get(report.nodeid)
    if backend is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcomes:
        return
    terminalreporter.section("store backends")
    for backend in BACKENDS:
        counts = {outcome: n for (b, outcome), n in _outcomes.items() if b == backend}
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none run"
        terminalreporter.write_line(f"{backend:<11} store tests: {text}")
    for description in _postgres_description:
        terminalreporter.write_line(f"postgresql server: {description}")
