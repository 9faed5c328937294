"""The demo organization's control attestations (``content/demo/control_states.yaml``).

Loaded through the public ``attest`` after the demo assets exist, idempotently: an attestation
already current on its (asset, control) pair, with the same state, actor, time, evidence and
note, is not recorded again, so a second run adds nothing to the append-only history.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field

from garrison.controls.library import get_library
from garrison.controls.state import ControlState, attest, control_states
from garrison.core.content import ContentModel, content_file, load_content_file
from garrison.inventory import resolve_asset
from garrison.store import Store

DEMO_CONTROL_STATES_FILE = "demo/control_states.yaml"


class DemoAttestation(ContentModel):
    asset: str = Field(min_length=1)
    """An asset name (or ID) in the demo organization."""
    control: str = Field(min_length=1)
    state: ControlState
    actor: str = Field(min_length=1)
    at: datetime
    evidence: tuple[str, ...] = ()
    note: str = ""


class DemoControlStates(ContentModel):
    org: str
    attestations: tuple[DemoAttestation, ...]


def load_demo_control_states(store: Store, content_dir: Path | None = None) -> str:
    """Attest the demo controls; returns a one-line summary. Running it again records nothing."""
    content = load_content_file(
        DemoControlStates, content_file(DEMO_CONTROL_STATES_FILE, content_dir)
    )
    library = get_library(content_dir)
    created = unchanged = 0
    with store.session() as session:
        current: dict[str, dict[str, tuple[object, ...]]] = {}
        for item in content.attestations:
            asset = resolve_asset(session, item.asset, org=content.org)
            if asset.id not in current:
                current[asset.id] = {
                    cid: (a.state, a.actor, a.attested_at, a.evidence, a.note)
                    for cid, a in control_states(session, asset.id).items()
                }
            control = library.get(item.control)
            wanted = (item.state, item.actor, item.at, item.evidence, item.note)
            if current[asset.id].get(control.id) == wanted:
                unchanged += 1
                continue
            stored = attest(
                session,
                asset.id,
                control.id,
                item.state,
                item.actor,
                evidence=item.evidence,
                note=item.note,
                at=item.at,
                asset_type=asset.asset_type.value,
                library=library,
            )
            current[asset.id][control.id] = (
                stored.state,
                stored.actor,
                stored.attested_at,
                stored.evidence,
                stored.note,
            )
            created += 1
    return (
        f"{len(content.attestations)} attestations on {content.org} assets "
        f"({created} created, {unchanged} unchanged)"
    )
