"""Schemathesis against the running server: every operation of /openapi.json, generated inputs.

The server is the real one (uvicorn on loopback, SQLite store, an admin + ingest token), so what
is checked is what a client sees: no 5xx, and every answer conforms to the documented schema.
Bounded for CI: a handful of examples per operation, well under two minutes in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from garrison.core.settings import load_settings
from garrison.identity import Scope
from garrison.store import open_store
from garrison.web import create_app
from garrison.web.server import run_in_thread
from tests.web.auth import bearer, issue_token

MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    store = open_store(f"sqlite:///{folder / 'g.db'}")
    # The rate limit is off: schemathesis sends many batches quickly on purpose.
    app = create_app(load_settings(database_url=store.url, ingest_rate_limit=0), store=store)
    headers = bearer(issue_token(store, (Scope.ADMIN, Scope.INGEST), name="schemathesis"))
    try:
        with run_in_thread(app) as url:
            yield url, headers
    finally:
        store.dispose()


def _operations(url: str, headers: dict[str, str]) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", headers=headers)
    return [result.ok() for result in schema.get_all_operations()]


def _exercise(operation: Any, url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=url,
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()


def test_no_server_errors_and_answers_match_the_schema(
    api_server: tuple[str, dict[str, str]],
) -> None:
    url, headers = api_server
    operations = _operations(url, headers)
    assert len(operations) >= 10, "the OpenAPI document lists the API's operations"
    failures: list[str] = []
    for operation in operations:
        try:
            _exercise(operation, url, headers)
        except Exception as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
