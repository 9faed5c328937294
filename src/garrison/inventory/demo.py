"""The demo organization's declared assets (``content/demo/assets.yaml``), loaded idempotently."""

from __future__ import annotations

from pathlib import Path

from garrison.core.content import content_file
from garrison.core.errors import ContentError
from garrison.inventory.importing import DECLARED_SOURCE, import_assets, read_rows
from garrison.store import Store

DEMO_ASSETS_FILE = "demo/assets.yaml"


def load_demo_assets(store: Store, content_dir: Path | None = None) -> str:
    """Register the demo estate as one complete ``declared`` run; returns a one-line summary.

    Running it again changes nothing; an asset removed from the file becomes stale.
    """
    path = content_file(DEMO_ASSETS_FILE, content_dir)
    rows = read_rows(path, "yaml")
    bad = [row for row in rows if row.spec is None]
    if bad:
        # Shipped content must be valid as a whole: a half-loaded demo would mislead.
        raise ContentError(bad[0].error or "invalid asset", path=path, line=bad[0].line)
    with store.session() as session:
        report = import_assets(session, rows, path=str(path), source=DECLARED_SOURCE, complete=True)
    return (
        f"{report.accepted} assets ({report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged)"
    )
