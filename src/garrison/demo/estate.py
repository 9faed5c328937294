"""The demo's sample estate, discovered the way a user's would be.

The cloud sources replay the canned responses in ``examples/estate/cloud`` through their fakes
(no network), the files source walks a model folder written here (with one malicious pickle, made
at run time and never committed), and the code source reads the sample repository in
``examples/estate/repo``. Everything goes through the discovery contract and the registry's
``apply_discovery``, exactly as ``garrison discover`` does.
"""

from __future__ import annotations

from pathlib import Path

from garrison.inventory import apply_discovery
from garrison.inventory.discovery.base import DiscoveryResult
from garrison.store import Store

REPO_ESTATE = Path(__file__).resolve().parents[3] / "examples" / "estate"
"""The sample estate of a source checkout (``make demo`` runs from one)."""


def _record(store: Store, result: DiscoveryResult, org: str) -> str:
    result.org = org
    with store.session() as session:
        run = apply_discovery(session, result)
    counts = ", ".join(f"{n} {what}" for what, n in run.counts.items() if n)
    failures = f"; {len(result.errors)} failed call(s)" if result.errors else ""
    return f"{counts or 'nothing found'}{failures}"


def discover_sample_estate(
    store: Store, *, org: str, work_dir: Path, estate_dir: Path | None = None
) -> list[tuple[str, str]]:
    """Discover the sample estate into ``store``; returns (step, summary) rows."""
    from garrison.inventory.discovery.cloud import load_sample_cloud_results
    from garrison.inventory.discovery.code import discover_code
    from garrison.inventory.discovery.files import discover_files
    from garrison.supplychain.records import attach_findings
    from garrison.supplychain.samples import build_sample_models

    estate = REPO_ESTATE if estate_dir is None else estate_dir
    steps: list[tuple[str, str]] = []
    if (estate / "cloud").is_dir():
        results = load_sample_cloud_results(estate / "cloud")
        for result in results:
            steps.append((f"discover {result.source}", _record(store, result, org)))
        if not results:
            steps.append(("discover cloud", "skipped: install garrison[demo] for the cloud SDKs"))

    models = build_sample_models(work_dir / "models")
    found = discover_files([models], org=org)
    steps.append(("discover files", _record(store, found.result, org)))
    with store.session() as session:
        attach_findings(session, found.findings, org=org, all_source_ids=found.source_ids)
    dangerous = sum(f.dangerous for f in found.all_findings())
    steps.append(("supply chain", f"{len(found.all_findings())} finding(s), {dangerous} dangerous"))

    if (estate / "repo").is_dir():
        steps.append(("discover code", _record(store, discover_code([estate / "repo"]), org)))
    else:
        steps.append(("discover code", f"skipped: no sample repository at {estate / 'repo'}"))
    return steps
