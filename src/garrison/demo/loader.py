"""Build the demo store from the packaged demo content, through each pillar's public functions.

Each pillar that exists adds one step here; the steps are idempotent, so running the demo twice
leaves the same store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from garrison.catalog import get_catalog, save_catalog
from garrison.controls.demo import load_demo_control_states
from garrison.core.content import content_file, load_content_file
from garrison.demo.estate import discover_sample_estate
from garrison.identity.demo import ensure_demo_login
from garrison.inventory.demo import load_demo_assets
from garrison.monitoring.demo import load_demo_traffic
from garrison.risk.demo import assess_demo
from garrison.store import Store
from garrison.tenancy import Organization, upsert_organization


@dataclass
class DemoReport:
    organization: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    """(step, what it did), in order, for the command to print."""


DEFAULT_WORK_DIR = Path(".garrison") / "demo-estate"


def load_demo(
    store: Store,
    *,
    content_dir: Path | None = None,
    work_dir: Path = DEFAULT_WORK_DIR,
    estate_dir: Path | None = None,
) -> DemoReport:
    """Load the demo organization; ``work_dir`` receives the generated sample model files."""
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
    # Inventory: the demo organization's declared AI assets (content/demo/assets.yaml).
    report.steps.append(("assets", load_demo_assets(store, content_dir)))
    # Controls: who attested which control on which demo asset (content/demo/control_states.yaml).
    report.steps.append(("control states", load_demo_control_states(store, content_dir)))
    # Risk: inherent and residual risk per demo asset, recorded when its inputs changed.
    report.steps.append(("risk", assess_demo(store, organization.key, content_dir)))
    # Discovery: the sample estate (cloud fixtures, a model folder, a code repository).
    report.steps.extend(
        discover_sample_estate(
            store, org=organization.key, work_dir=work_dir, estate_dir=estate_dir
        )
    )
    # Monitoring: a few minutes of traffic with one attacker, through the live rules into alerts.
    report.steps.append(("traffic", load_demo_traffic(store, organization.key, content_dir)))
    # Identity: a demo admin with a fresh random password, printed and kept in a 0600 file.
    login_file = work_dir.parent / "demo-login.txt"
    user, password = ensure_demo_login(store, login_file)
    report.steps.append(("sign-in", f"user {user}, password {password} (also in {login_file})"))
    return report
