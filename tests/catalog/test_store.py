from __future__ import annotations

from sqlalchemy import func, select

from garrison.catalog import get_catalog, save_catalog, stored_frameworks
from garrison.store import Store
from garrison.store.models import CatalogFrameworkRow, CatalogItemRow


def test_catalog_is_stored_once_and_rewritten_only_when_its_data_changes(store: Store) -> None:
    catalog = get_catalog()
    with store.session() as session:
        first = save_catalog(session, catalog)
    assert all(result.changed for result in first)
    with store.session() as session:
        assert stored_frameworks(session)["NIST-AI-RMF"] == 95
        total = session.scalar(select(func.count()).select_from(CatalogItemRow))
        assert total == len(catalog)
        row = session.get(CatalogItemRow, "GOVERN 1.1")
        assert row is not None
        assert (row.framework_key, row.kind, row.parent_id) == (
            "NIST-AI-RMF",
            "subcategory",
            "GOVERN 1",
        )

    with store.session() as session:
        again = save_catalog(session, catalog)
    assert not any(result.changed for result in again)

    with store.session() as session:  # as if the packaged ATLAS data had been updated
        framework = session.get(CatalogFrameworkRow, "ATLAS")
        assert framework is not None
        framework.digest = "stale"
    with store.session() as session:
        rewritten = {r.framework for r in save_catalog(session, catalog) if r.changed}
        assert rewritten == {"ATLAS"}
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(CatalogItemRow)) == len(catalog)
