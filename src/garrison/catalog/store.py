"""Keeping a copy of the catalog in the store, for SQL reporting and joins by other pillars."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from garrison.catalog.catalog import Catalog
from garrison.core.timeutil import utcnow
from garrison.store.models import CatalogFrameworkRow, CatalogItemRow


@dataclass(frozen=True)
class CatalogSyncResult:
    framework: str
    items: int
    changed: bool


def save_catalog(session: Session, catalog: Catalog) -> list[CatalogSyncResult]:
    """Write every framework whose packaged data changed since it was last stored.

    A framework is rewritten whole when its data digest differs, so a re-run is a no-op and an
    upgrade of the packaged data replaces stale items instead of mixing versions.
    """
    stored = {row.key: row for row in session.scalars(select(CatalogFrameworkRow))}
    results: list[CatalogSyncResult] = []
    for framework in catalog.frameworks:
        items = catalog.items(framework.key)
        row = stored.get(framework.key.value)
        if row is not None and row.digest == framework.digest:
            results.append(CatalogSyncResult(framework.key.value, len(items), changed=False))
            continue
        if row is None:
            row = CatalogFrameworkRow(key=framework.key.value)
            session.add(row)
        row.name = framework.name
        row.version = framework.version
        row.publisher = framework.publisher
        row.url = framework.url
        row.license = framework.license
        row.item_count = len(items)
        row.digest = framework.digest
        row.loaded_at = utcnow()
        session.execute(
            delete(CatalogItemRow).where(CatalogItemRow.framework_key == framework.key.value)
        )
        session.flush()
        session.add_all(
            CatalogItemRow(
                id=item.id,
                framework_key=framework.key.value,
                kind=item.kind,
                name=item.name[:500],
                parent_id=item.parent,
                text=item.text,
            )
            for item in items
        )
        results.append(CatalogSyncResult(framework.key.value, len(items), changed=True))
    session.flush()
    return results


def stored_frameworks(session: Session) -> dict[str, int]:
    """Framework key -> number of items stored."""
    return {row.key: row.item_count for row in session.scalars(select(CatalogFrameworkRow))}
