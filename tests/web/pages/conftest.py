"""The pillar pages over the demo organization: loaded once per module, it takes seconds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from garrison.identity import Scope
from tests.web.auth import bearer, issue_token
from tests.web.demo import DemoSite, serve_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with serve_demo(tmp_path_factory.mktemp("demo")) as site:
        yield site


@pytest.fixture(scope="module")
def demo_http(demo: DemoSite) -> Iterator[httpx.Client]:
    headers = bearer(issue_token(demo.store, (Scope.ADMIN,)))
    with httpx.Client(base_url=demo.url, timeout=30.0, headers=headers) as client:
        yield client
