"""The demo organization's risk assessments, recorded only when something that scores changed.

``garrison demo`` runs this after the declared assets (``content/demo/assets.yaml``) and their
control states, before discovery: it assesses the declared assets. A new assessment is stored
only when the asset's explanation (every factor, control and recommendation, and the day) or
its control, provider or risk-model inputs differ from its latest stored one; bookkeeping fields
such as ``last_seen`` that every import touches do not count. A second run on the same day
therefore records nothing. Discovered assets are assessed by ``garrison risk assess --all``.
"""

from __future__ import annotations

from pathlib import Path

from garrison.controls import get_library
from garrison.core.content import content_file
from garrison.core.timeutil import utcnow
from garrison.inventory import AssetFilter, search
from garrison.inventory.demo import DEMO_ASSETS_FILE
from garrison.inventory.importing import read_rows
from garrison.risk.config import load_risk_config
from garrison.risk.engine import assess_assets, latest, preview
from garrison.risk.models import Assessment, AssessmentInputs, RiskExplanation
from garrison.store import Store


def _differs(previous: Assessment, inputs: AssessmentInputs, explanation: RiskExplanation) -> bool:
    old = previous.inputs
    return (
        previous.explanation != explanation
        or old.controls != inputs.controls
        or old.providers != inputs.providers
        or old.config_digest != inputs.config_digest
    )


def assess_demo(store: Store, org: str, content_dir: Path | None = None) -> str:
    """Assess the declared demo assets of ``org`` whose score or scoring inputs changed; returns
    a one-line summary."""
    rows = read_rows(content_file(DEMO_ASSETS_FILE, content_dir), "yaml")
    declared = {row.spec.name for row in rows if row.spec is not None}
    config = load_risk_config(content_dir)
    library = get_library(content_dir)
    now = utcnow()
    with store.session() as session:
        assets = [a for a in search(session, AssetFilter(org=org)) if a.name in declared]
        changed = []
        for asset in assets:
            previous = latest(session, asset.id)
            inputs, explanation = preview(session, asset, config=config, library=library, now=now)
            if previous is None or _differs(previous, inputs, explanation):
                changed.append(asset)
        done = assess_assets(session, changed, config=config, library=library, now=now)
        levels: dict[str, int] = {}
        for asset in assets:
            found = latest(session, asset.id)
            if found is not None:
                levels[found.level] = levels.get(found.level, 0) + 1
    spread = ", ".join(f"{count} {level}" for level, count in sorted(levels.items()))
    return (
        f"{len(assets)} declared assets assessed ({len(done)} created, "
        f"{len(assets) - len(done)} unchanged); latest levels: {spread or 'none'}"
    )
