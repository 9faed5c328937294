"""A store holding the demo organization, assessed, plus two assets made for page tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from garrison.core.settings import load_settings
from garrison.demo import load_demo
from garrison.inventory import AssetSpec, AssetType, DependencyRef, Evidence, register, search
from garrison.risk import assess_assets
from garrison.store import Store, open_store
from garrison.web import create_app
from garrison.web.server import run_in_thread

HOSTILE = "<img src=x onerror=alert(1)>"
"""An asset name as discovery might find it: it must only ever render as text."""
UNASSESSED = "Assistant registered after the assessment"
DEMO_ORG = "northwind"
HOSTILE_TARGET = "Card fraud scorer v7"
"""A demo asset the hostile one depends on, so the hostile name shows up on its page too."""


@dataclass(frozen=True)
class DemoSite:
    store: Store
    url: str
    hostile_id: str
    unassessed_id: str


def build_store(folder: Path) -> tuple[Store, str, str]:
    store = open_store(f"sqlite:///{folder / 'demo.db'}")
    load_demo(store, work_dir=folder / "work")
    evidence = [Evidence(location="tests/web/demo.py")]
    with store.session() as session:
        hostile = register(
            session,
            AssetSpec(
                org=DEMO_ORG,
                name=HOSTILE,
                asset_type=AssetType.LLM_APPLICATION,
                description=f"described as {HOSTILE}",
                owner_team="<b>team</b>",
                depends_on=(DependencyRef(target=HOSTILE_TARGET),),
            ),
            source="test",
            evidence=evidence,
        )
        assess_assets(session, search(session))
    with store.session() as session:
        later = register(
            session,
            AssetSpec(org=DEMO_ORG, name=UNASSESSED, asset_type=AssetType.AI_AGENT),
            source="test",
            evidence=evidence,
        )
    return store, hostile.asset_id, later.asset_id


@contextmanager
def serve_demo(folder: Path) -> Iterator[DemoSite]:
    store, hostile_id, unassessed_id = build_store(folder)
    app = create_app(load_settings(database_url=store.url), store=store)
    try:
        with run_in_thread(app) as url:
            yield DemoSite(store, url, hostile_id, unassessed_id)
    finally:
        store.dispose()
