"""Build the demo store from the packaged demo content, through each pillar's public functions.

Each pillar that exists adds one step here; the steps are idempotent, so running the demo twice
leaves the same store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from garrison.catalog import get_catalog, save_catalog
from garrison.core.content import content_file, load_content_file
from garrison.store import Store
from garrison.tenancy import Organization, upsert_organization


@dataclass
class DemoReport:
    organization: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    """(step, what it did), in order, for the command to print."""


def load_demo(store: Store, *, content_dir: Path | None = None) -> DemoReport:
    organization = load_content_file(
        Organization, content_file("demo/organization.yaml", content_dir)
    )
    report = DemoReport(organization=organization.key)
    with store.session() as session:
        changed = upsert_organization(session, organization)
        report.steps.append(
            ("organization", f"{organization.name} ({'created' if changed else 'unchanged'})")
        )
        synced = save_catalog(session, get_catalog())
        written = [s for s in synced if s.changed]
        total = sum(s.items for s in synced)
        report.steps.append(
            ("catalog", f"{len(synced)} frameworks, {total} items ({len(written)} written)")
        )
    return report
